"""The OAuth 2 endpoints: the consent page, the token and revocation endpoints, the metadata.

These speak OAuth, not our REST conventions: form bodies in, RFC 6749 error bodies out, and HTML
for the person at `/oauth/authorize`; they are described by the RFC 8414 metadata document, not
by openapi/openapi.json (which declares them in its OAuth 2 security scheme).

The consent page is a signed cookie session (Flask's, keyed by a key derived from the app's
secret, cookie limited to /oauth, HttpOnly, SameSite=Lax, Secure over https) holding the
signed-in account, when it signed in, and the page's CSRF token; every form carries that token.
It is never framed (`frame-ancestors 'none'`, X-Frame-Options), loads nothing but its own CSS,
runs no script, and never redirects anywhere but to a redirect URI registered for the app.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask.views import MethodView

from service.api import limits
from service.api.context import db, state
from service.api.oauth import server as oauth
from service.domain.accounts import first_party
from service.domain.accounts import registration as accounts
from service.domain.accounts import scopes as scope_names
from service.domain.errors import Unauthenticated
from service.models import Account

blp = Blueprint("oauth", __name__, template_folder="templates", static_folder="static",
                static_url_path="/oauth/static")
SIGNED_IN_FOR_S = 30 * 60  # then the consent page asks for the password again
CSP = ("default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'")
# Whose token and revocation requests are counted together (besides per address).
TOKEN_ENDPOINTS = frozenset({"oauth.token", "oauth.revoke"})


def _server():
    return current_app.extensions["backstride_oauth"]


class _CookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie session, Secure whenever the request came over https."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure


def init_app(app: Flask) -> None:
    """Mount the authorisation server on `app` (after the rate limiter)."""
    settings = app.extensions["backstride"].settings
    app.secret_key = _session_key(settings.secret_key)
    app.config.update(SESSION_COOKIE_NAME="backstride_consent", SESSION_COOKIE_PATH="/oauth",
                      SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    app.session_interface = _CookieSessions()
    app.extensions["backstride_oauth"] = oauth.make_server(app)
    for limiter in app.extensions.get("limiter", ()):
        limiter.limit(settings.ratelimit_auth, key_func=_client_key,
                      exempt_when=lambda: request.endpoint not in TOKEN_ENDPOINTS,
                      override_defaults=False, scope="oauth-client")(blp)
    app.register_blueprint(blp)
    app.after_request(_oauth_error_bodies)


def _session_key(secret_key: str) -> str:
    """A key of its own for the consent cookie, derived from the secret key (which also signs
    access tokens): one secret, two uses that cannot stand in for each other."""
    return hmac.new(secret_key.encode(), b"backstride consent session",
                    hashlib.sha256).hexdigest()


def _client_key() -> str:
    """The app a token or revocation request names (Basic auth or client_id), else the address."""
    client_id = request.authorization.username if request.authorization else None
    client_id = client_id or request.form.get("client_id")
    if client_id:
        return "oauth-client:" + hashlib.sha256(client_id.encode()).hexdigest()[:32]
    return "address:" + limits.client_address()


# --- Token, revocation, metadata -------------------------------------------------------------

def _form_only() -> Response | None:
    """RFC 6749 section 3.2: token requests are form bodies; parameters in the URL are refused,
    so that no secret travels where logs and proxies keep it."""
    if request.args:
        return _oauth_error(400, "invalid_request", "Send the parameters in the form body.")
    return None


def _oauth_error(status: int, error: str, description: str) -> Response:
    response = current_app.json.response({"error": error, "error_description": description})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


# What an error answered outside Authlib (the router, the rate limiter, a body too large, a
# failure) is called at the token and revocation endpoints. "slow_down" is RFC 8628's, from the
# OAuth extensions error registry; a client library reads "error" and Retry-After.
TOKEN_ENDPOINT_PATHS = frozenset({"/oauth/token", "/oauth/revoke"})
_ERROR_CODES = {401: "invalid_client", 429: "slow_down"}


def _oauth_error_bodies(response: Response) -> Response:
    """Every error at the token and revocation endpoints is an RFC 6749 error body (section
    5.2), never a problem document: a client library reads `error`, not `type`; the consent
    page's is our error page. The status and headers (Allow, Retry-After, the RateLimit ones)
    are kept."""
    if response.mimetype != "application/problem+json":
        return response
    problem = response.get_json(silent=True) or {}
    status = response.status_code
    if request.path == "/oauth/authorize":  # a person reads this one: our page, not JSON
        page = _error_page(status, "Too many attempts. Wait a minute and try again."
                           if status == 429 else (problem.get("detail") or "Something failed."))
        page.headers.extend((k, v) for k, v in response.headers.items()
                            if k in ("Retry-After", "Allow") or k.startswith("RateLimit"))
        return page
    if request.path not in TOKEN_ENDPOINT_PATHS:
        return response
    error = _ERROR_CODES.get(status, "server_error" if status >= 500 else "invalid_request")
    body = {"error": error, "error_description": problem.get("detail") or problem.get("title")}
    response.set_data(current_app.json.dumps(body))
    response.mimetype = "application/json"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _commit_if(response: Response) -> Response:
    """Commit what the exchange wrote; on a refusal, only a revocation it made (a reused code or
    refresh token), which must stick although the request failed."""
    if response.status_code < 400 or g.get(oauth.COMMIT_ALWAYS):
        db().commit()
    else:
        db().rollback()
    return response


@blp.post("/oauth/token")
def token() -> Response:
    refused = _form_only()
    if refused is not None:
        return refused
    return _commit_if(_server().create_token_response())


setattr(token, limits.STRICT, True)


@blp.post("/oauth/revoke")
def revoke() -> Response:
    refused = _form_only()
    if refused is not None:
        return refused
    g.setdefault(oauth.COMMIT_ALWAYS, False)
    return _commit_if(_server().create_endpoint_response("revocation"))


setattr(revoke, limits.STRICT, True)


@blp.get("/.well-known/oauth-authorization-server")
def metadata() -> Response:
    base = oauth.issuer()  # the public URL when set, so the endpoints sit under the issuer
    urls = {"authorize": base + url_for("oauth.authorize"),
            "token": base + url_for("oauth.token"),
            "revoke": base + url_for("oauth.revoke"),
            "docs": base + url_for("api-docs.openapi_swagger_ui")}
    response = current_app.json.response(oauth.metadata(urls))
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


# --- The consent page ------------------------------------------------------------------------

class Authorize(MethodView):
    """GET shows the page (sign-in, then consent); POST signs in, approves or refuses."""

    def get(self) -> Any:
        grant, problem = _consent_grant()
        if problem is not None:
            return problem
        account = _signed_in()
        if account is None:
            return _page("sign_in.html", grant)
        return _page("consent.html", grant, account=account)

    def post(self) -> Any:
        if not _csrf_ok():
            return _error_page(400, "This form has expired. Go back to the app and start again.")
        grant, problem = _consent_grant()
        if problem is not None:
            return problem
        action = request.form.get("action")
        if action == "sign_in":
            return _sign_in(grant)
        account = _signed_in()
        if account is None:
            return _page("sign_in.html", grant)
        if action == "sign_out":
            session.clear()
            return _page("sign_in.html", grant)
        if action == "deny":
            return _finish(grant, None)
        if action != "allow":
            return _error_page(400, "Choose Allow or Deny.")
        requested = set(_requested(grant))
        chosen = frozenset(s for s in request.form.getlist("grant") if s in requested)
        if not chosen:
            return _page("consent.html", grant, account=account, status=400,
                         message="Tick at least one thing to share, or choose Deny.")
        return _finish(grant, oauth.Consent(account, chosen))


setattr(Authorize.post, limits.STRICT, True)
setattr(Authorize.post, limits.FAILED_SIGN_INS_PER_EMAIL, True)
blp.add_url_rule("/oauth/authorize", view_func=Authorize.as_view("authorize"))


def _consent_grant() -> tuple[Any, Response | None]:
    """Authlib's validated authorisation request, or the answer to an invalid one: a redirect
    with the error to a registered redirect URI, else (unknown app, a redirect URI that is not
    registered, ...) our own error page, never a redirect."""
    try:
        return _server().get_consent_grant(end_user=None), None
    except OAuth2Error as error:
        if error.redirect_uri:
            params = [*error.get_body(), ("iss", oauth.issuer())]
            return None, _no_store(redirect(add_params_to_uri(error.redirect_uri, params), 302))
        return None, _error_page(400, _plain_error(error))


def _plain_error(error: OAuth2Error) -> str:
    if error.error == "invalid_client":
        return "This link names an app Backstride does not know. Go back to the app."
    return ("This link is not a valid request to sign in with Backstride "
            f"({error.description or error.error}). Go back to the app and try again.")


def _finish(grant: Any, consent: oauth.Consent | None) -> Response:
    response = _server().create_authorization_response(grant_user=consent, grant=grant)
    db().commit()
    return _no_store(response)


def _sign_in(grant: Any) -> Response:
    email = request.form.get("email", "")[:320]
    password = request.form.get("password", "")[:1024]
    try:
        account = accounts.authenticate(db(), state().hasher, email=email, password=password)
    except Unauthenticated as error:
        g.setdefault(limits.SIGN_IN_FAILED, True)  # counted per email, as a 401 would be
        return _page("sign_in.html", grant, status=400, message=error.detail, email=email)
    db().commit()  # a rehashed password
    session.clear()  # a fresh session, and a fresh CSRF token, for the signed-in account
    session["account_id"] = str(account.id)
    session["signed_in_at"] = int(time.time())
    return _page("consent.html", grant, account=account)


def _signed_in() -> Account | None:
    account_id, at = session.get("account_id"), session.get("signed_in_at")
    if not account_id or not isinstance(at, int) or time.time() - at > SIGNED_IN_FOR_S:
        return None
    try:
        account = db().get(Account, uuid.UUID(account_id))
    except ValueError:
        return None
    return account  # None once the account is deleted


def _csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def _csrf_ok() -> bool:
    """The form's token is this session's, and a browser that names the form's origin names
    ours (defence in depth: SameSite=Lax already keeps the cookie off cross-site POSTs)."""
    origin = request.headers.get("Origin")
    if origin and origin != "null" and origin.rstrip("/") != request.host_url.rstrip("/"):
        return False
    sent, expected = request.form.get("csrf_token", ""), session.get("csrf")
    return bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())


def _requested(grant: Any) -> list[str]:
    return scope_names_in_order(grant.request.scope)


def scope_names_in_order(scope: str | None) -> list[str]:
    wanted = set((scope or "").split())
    return [name for name in scope_names.APP_SCOPES if name in wanted]


def _page(template: str, grant: Any, *, status: int = 200, **context: Any) -> Response:
    app = grant.request.client.row
    requested = _requested(grant)
    redirect_uri = grant.redirect_uri or ""
    parts = urlsplit(redirect_uri)
    html = render_template(
        f"oauth/{template}", app_name=app.name, csrf_token=_csrf_token(),
        first_party=app.client_id in first_party.CLIENT_IDS,
        action_url=request.full_path, returns_to=parts.hostname or parts.scheme + ":",
        ordinary=[(s, scope_names.DESCRIPTIONS[s]) for s in requested
                  if s not in scope_names.SENSITIVE],
        sensitive=[(s, scope_names.DESCRIPTIONS[s]) for s in requested
                   if s in scope_names.SENSITIVE],
        **context)
    return _no_store(Response(html, status=status, mimetype="text/html"))


def _error_page(status: int, message: str) -> Response:
    html = render_template("oauth/error.html", message=message)
    return _no_store(Response(html, status=status, mimetype="text/html"))


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@blp.after_request
def _page_headers(response: Response) -> Response:
    """What every answer under /oauth carries: no framing, nothing from elsewhere, no referrer."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response

