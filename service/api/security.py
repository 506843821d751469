"""Who is calling: bearer tokens turned into a principal, once per request."""

from __future__ import annotations

import uuid

from flask import g, request

from service.api.context import db, now, request_reads_only, state
from service.domain.accounts import tokens
from service.domain.errors import Forbidden, Unauthenticated
from service.models import Account


def authenticate(scope: str) -> tokens.Principal:
    """Authenticate the request's bearer token and check it carries `scope`."""
    header = request.headers.get("Authorization", "")
    kind, _, token = header.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send an access token as 'Authorization: Bearer <token>'.")
    principal = tokens.authenticate_bearer(db(), state().token_policy, token.strip(), now())
    if principal.last_used_due and principal.personal_token_id is not None:
        _record_personal_token_use(principal.personal_token_id)
    if not principal.allows(scope):
        raise Forbidden(f"This token does not grant '{scope}'.")
    g.principal = principal
    return principal


def _record_personal_token_use(token_id: uuid.UUID) -> None:
    """Commit the personal token's last_used_at now, as its own small unit of work.

    It is recorded whatever the view then does (refuses the scope, fails, or answers). On a
    writing view it goes through the request's session, committed before the view's own work
    begins: on SQLite that transaction already holds the write lock, so a second session would
    only wait for it. A view marked read-only has the read-only session, which must not write
    (on PostgreSQL it is autocommit, on SQLite its read transaction could fail with SQLITE_BUSY
    on turning into a write), so there the write gets a short writing session of its own.
    """
    if not request_reads_only():
        session = db()
        tokens.record_personal_token_use(session, token_id, now())
        session.commit()
        return
    with state().session_factory() as session:
        tokens.record_personal_token_use(session, token_id, now())
        session.commit()


def current_principal() -> tokens.Principal:
    return g.principal


def current_account() -> Account:
    return g.principal.account
