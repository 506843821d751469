"""Other apps, by the athlete's consent: an OAuth 2 authorisation server (Authlib's) on our
accounts and scopes. `server` adapts Authlib to service.domain.accounts.apps, `routes` holds the
consent page and the OAuth endpoints, `access` writes every app read to the access log."""

from __future__ import annotations

from flask import Flask

from service.api.oauth import access, routes


def init_app(app: Flask) -> None:
    routes.init_app(app)
    access.init_app(app)
