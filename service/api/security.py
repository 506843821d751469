"""Who is calling: bearer tokens turned into a principal, once per request."""

from __future__ import annotations

from flask import g, request

from service.api.context import db, now, state
from service.domain.accounts import tokens
from service.domain.errors import Forbidden, Unauthenticated
from service.models import Account


def authenticate(scope: str) -> tokens.Principal:
    """Authenticate the request's bearer token and check it carries `scope`."""
    header = request.headers.get("Authorization", "")
    kind, _, token = header.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send an access token as 'Authorization: Bearer <token>'.")
    session = db()
    principal = tokens.authenticate_bearer(session, state().token_policy, token.strip(), now())
    if principal.personal_token_id is not None:
        session.commit()  # the token's last_used_at: its own small unit of work
    if not principal.allows(scope):
        raise Forbidden(f"This token does not grant '{scope}'.")
    g.principal = principal
    return principal


def current_principal() -> tokens.Principal:
    return g.principal


def current_account() -> Account:
    return g.principal.account
