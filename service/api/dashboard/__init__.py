"""The coach's dashboard: the built single-page app (dashboard/, built by Vite into static/),
served under /coach/ by the API process itself, so `make run` serves it with no Node step.

Only files: the app reads the coach API (/v1/coach/...) with an OAuth 2 access token it got as
the first-party public client `first_party.DASHBOARD_CLIENT_ID`. Every answer carries a strict
Content-Security-Policy: scripts, styles and fetches from this origin only, no inline script, no
third-party host, not frameable. Hashed assets are cached for a year; the page itself never.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response, send_from_directory

STATIC = Path(__file__).parent / "static"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")

blp = Blueprint("coach_dashboard", __name__, url_prefix="/coach")


@blp.get("/")
def index() -> Response:
    response = send_from_directory(STATIC, "index.html", max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.get("/assets/<path:name>")
def asset(name: str) -> Response:
    return send_from_directory(STATIC / "assets", name, max_age=365 * 24 * 3600)


@blp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(blp)
