"""Rate limits (flask-limiter): who is counted, how much each may do, and what a 429 says.

- Every caller has one budget across the API (`BACKSTRIDE_RATELIMIT_DEFAULT`): the account behind
  a genuine bearer token, else the client's address.
- Register, sign-in and refresh have a stricter budget per address (`BACKSTRIDE_RATELIMIT_AUTH`),
  each endpoint its own; so have the other writes that test a secret or mint one: accepting a
  coach's invite code, creating a personal access token, and deleting the account (a password).
  Each such view is marked `@blp.strict_limit()` (service.api.extension), so renaming it keeps
  its limit. Failed sign-ins (marked `@blp.failed_sign_ins_per_email()`) are also counted per
  email tried, so one account is not guessed at from many addresses; successful ones are not, so
  a runner with three phones is fine.
- Probes and the docs are never limited: an orchestrator must always see the truth.
- Counters live in Redis so all API processes share them. When Redis cannot be reached, each
  process counts in its own memory until Redis answers again (flask-limiter retries it with
  backoff), and any other storage error is logged and the request let through: check-ins must
  keep being accepted with Redis down.
- Headers follow the IETF draft (`RateLimit-Limit`, `-Remaining`, `-Reset` in seconds) and a 429
  has `Retry-After`. flask-limiter's own headers give the reset as a Unix time and put
  `Retry-After` on every response (a 503's own one included), so we write them here.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import logging
import math
import time
import uuid
from typing import Any

from flask import Flask, Response, g, request
from flask_limiter import ApplicationLimit, Limit, Limiter, RateLimitExceeded
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from service.api import problems
from service.api.context import now, state, view_function
from service.config import Settings
from service.domain.accounts import tokens

# Liveness, readiness, the spec and Swagger UI (flask-smorest's blueprint is "api-docs").
EXEMPT_BLUEPRINTS = frozenset({"health", "api-docs", "docs_assets"})
# The attributes `Blueprint.strict_limit()` and `failed_sign_ins_per_email()` set on a view.
STRICT = "backstride_strict_limit"
FAILED_SIGN_INS_PER_EMAIL = "backstride_failed_sign_ins_per_email"
# Set in g by a view whose failed sign-in is not a 401 (the consent page's form).
SIGN_IN_FAILED = "backstride_sign_in_failed"
KEY_PREFIX = "backstride"
# A Redis that hangs must not hang every request: give up quickly and count in memory instead.
STORAGE_TIMEOUT_S = 0.5
log = logging.getLogger(__name__)

# The headers `_add_headers` puts on every answer of a limited operation (left out only while the
# storage is unreachable), as the spec declares them on every such answer (service.api.extension).
HEADERS_DOC: dict[str, Any] = {
    "RateLimit-Limit": {"description": "Requests allowed in the current window.",
                        "schema": {"type": "integer", "minimum": 0}},
    "RateLimit-Remaining": {"description": "Requests left in the current window.",
                            "schema": {"type": "integer", "minimum": 0}},
    "RateLimit-Reset": {"description": "Seconds until the current window resets.",
                        "schema": {"type": "integer", "minimum": 0}},
}
# On a 429 (here) and a 503 (service.api.problems, the readiness probe): always in seconds.
RETRY_AFTER_DOC: dict[str, Any] = {"description": "Seconds to wait before trying again.",
                                   "schema": {"type": "integer", "minimum": 0}}


def init_app(app: Flask, settings: Settings) -> Limiter:
    """Limit every request of `app` as the settings say; one limiter (and storage) per app."""
    app.config.update(
        RATELIMIT_STORAGE_URI=settings.ratelimit_storage_url,
        RATELIMIT_STORAGE_OPTIONS=_storage_options(settings.ratelimit_storage_url),
        RATELIMIT_KEY_PREFIX=KEY_PREFIX,
        # Anchored on the first hit: N requests in a row are always allowed, the next one never.
        RATELIMIT_STRATEGY="fixed-window",
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_HEADERS_ENABLED=False,  # see the module docstring; _add_headers writes them
    )
    limiter = Limiter(
        caller_key,
        application_limits=[ApplicationLimit(limit_provider=settings.ratelimit_default,
                                             key_function=caller_key)],
        default_limits=[
            Limit(limit_provider=settings.ratelimit_auth, key_function=client_address,
                  exempt_when=_not_signing_in),
            Limit(limit_provider=settings.ratelimit_auth, key_function=_email_key, scope="email",
                  exempt_when=_no_email_tried, deduct_when=_sign_in_failed),
        ],
    )
    limiter.request_filter(_exempt)
    # Registered first so it runs last, after flask-limiter has counted a failed sign-in.
    app.after_request(functools.partial(_add_headers, limiter))
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, too_many_requests)
    return limiter


def caller_key() -> str:
    """The account behind a genuine bearer token, else the client's address."""
    if "ratelimit_caller" not in g:
        account_id = _bearer_account_id()
        g.ratelimit_caller = (f"account:{account_id}" if account_id
                              else f"address:{client_address()}")
    return g.ratelimit_caller


def client_address() -> str:
    """The client's address (ProxyFix has applied X-Forwarded-For when told to trust it).

    An IPv6 subscriber usually holds a whole /64 and can pick any address in it, so that is the
    unit counted.
    """
    raw = request.remote_addr or "unknown"
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw
    if address.version == 6 and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def too_many_requests(error: RateLimitExceeded) -> Response:
    """A 429 problem document; `_add_headers` adds Retry-After and the RateLimit-* headers."""
    return problems.problem(
        429, f"Too many requests: at most {error.limit.limit}. Retry after Retry-After seconds.",
        slug="rate-limited",
    )


def _bearer_account_id() -> uuid.UUID | None:
    kind, _, token = request.headers.get("Authorization", "").partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        return None
    try:
        # Its own short session: the request's one must not inherit a failed lookup.
        with state().read_session_factory() as session:
            return tokens.bearer_account_id(session, state().token_policy, token.strip(), now())
    except DBAPIError:
        # The database is down: the view will answer 503; meanwhile count by address.
        log.info("bearer token not resolved for rate limiting; counting by address")
        return None


def _email_tried() -> str | None:
    """The email a sign-in tries, normalised as accounts are, or None if there is none."""
    if "ratelimit_email" not in g:
        try:
            body = request.get_json(silent=True)
            if body is None and request.mimetype == "application/x-www-form-urlencoded":
                body = request.form  # the consent page's sign-in form (service.api.oauth)
        except HTTPException:  # e.g. a body over MAX_CONTENT_LENGTH: the view answers 413
            body = None
        email = body.get("email") if isinstance(body, dict | MultiDict) else None
        g.ratelimit_email = email.strip().lower() if isinstance(email, str) and email else None
    return g.ratelimit_email


def _email_key() -> str:
    # Hashed: counter keys in Redis should not be a list of our users' email addresses.
    return "email:" + hashlib.sha256((_email_tried() or "").encode()).hexdigest()[:32]


def marked(view: Any, marker: str) -> bool:
    """Whether `view` (a view function, or None) carries one of the markers above."""
    return bool(getattr(view, marker, False))


def _no_email_tried() -> bool:
    return not marked(view_function(), FAILED_SIGN_INS_PER_EMAIL) or _email_tried() is None


def _not_signing_in() -> bool:
    return not marked(view_function(), STRICT)


def _sign_in_failed(response: Response) -> bool:
    # A 401 from the API; the consent page answers its form again with a 400 and says so in g.
    return response.status_code == 401 or bool(g.get(SIGN_IN_FAILED))


def _exempt() -> bool:
    return request.blueprint in EXEMPT_BLUEPRINTS


def _add_headers(limiter: Limiter, response: Response) -> Response:
    """IETF draft RateLimit-* headers for the limit closest to the caller, Retry-After on 429."""
    current = limiter.current_limit
    if current is None:
        return response
    try:
        reset_s = max(0, math.ceil(current.window.reset_time - time.time()))
        remaining = current.remaining
    except RedisError:  # Redis went away since the check: answering matters more than headers
        log.warning("rate limit headers left out: storage unreachable", exc_info=True)
        if response.status_code == 429:
            response.headers["Retry-After"] = str(current.limit.get_expiry())
        return response
    response.headers["RateLimit-Limit"] = str(current.limit.amount)
    response.headers["RateLimit-Remaining"] = str(remaining)
    response.headers["RateLimit-Reset"] = str(reset_s)
    if response.status_code == 429:
        response.headers["Retry-After"] = str(max(1, reset_s))
    return response


def _storage_options(url: str) -> dict[str, float]:
    if url.startswith("memory://"):
        return {}
    return {"socket_connect_timeout": STORAGE_TIMEOUT_S, "socket_timeout": STORAGE_TIMEOUT_S}
