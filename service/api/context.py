"""What a request can reach: the settings, a request-scoped session, the password hasher, now.

The request's session writes unless its view is marked `@blp.read_only()` (see
service.api.extension): a view that writes can never end up on the read-only session by default,
and one marked by mistake fails loudly, since the read-only session refuses to write
(service.db.make_session_factory) and `commit()` refuses to commit it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from argon2 import PasswordHasher
from flask import current_app, g, request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from service import queues
from service.api.hints import Hints
from service.clock import utcnow
from service.config import Settings
from service.domain.accounts.tokens import TokenPolicy
from service.domain.webhooks import outbox
from service.mail import InBackground

EXTENSION_KEY = "backstride"
# The attribute `Blueprint.read_only()` sets on a view function.
READ_ONLY = "backstride_read_only"


@dataclass(frozen=True)
class AppState:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    read_session_factory: sessionmaker[Session]
    hasher: PasswordHasher
    token_policy: TokenPolicy
    hints: Hints
    mailer: InBackground


def state() -> AppState:
    return current_app.extensions[EXTENSION_KEY]


def view_function(endpoint: str | None = None,
                  method: str | None = None) -> Callable[..., Any] | None:
    """The function that answers a request, where markers such as `read_only` are read.

    By default the current request's. For a MethodView that is its method for the HTTP method
    (`get` for HEAD, as Flask dispatches it); None when no view answers (no route matched, or
    Flask's automatic OPTIONS).
    """
    endpoint = request.endpoint if endpoint is None else endpoint
    method = (request.method if method is None else method).lower()
    view = current_app.view_functions.get(endpoint) if endpoint else None
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return view
    handler = getattr(view_class, method, None)
    if handler is None and method == "head":
        handler = getattr(view_class, "get", None)
    return handler


def reads_only(view: Callable[..., Any] | None) -> bool:
    """Whether `view` is marked `@blp.read_only()`; anything unmarked gets the writing session."""
    return bool(getattr(view, READ_ONLY, False))


def db() -> Session:
    """The request's session, opened on first use and closed (rolled back if open) at teardown.

    The read-only session (`read_session_factory`: autocommit on PostgreSQL, no write lock on
    SQLite) only for a view marked `@blp.read_only()`; every other view's, writing or not, is a
    writing session, whose transaction is the view's unit of work.
    """
    if "db_session" not in g:
        g.db_reads_only = reads_only(view_function())
        factory = state().read_session_factory if g.db_reads_only else state().session_factory
        g.db_session = factory()
    return g.db_session


def request_reads_only() -> bool:
    """Whether the current request's session is (or will be) the read-only one."""
    return g.db_reads_only if "db_reads_only" in g else reads_only(view_function())


def close_db(_error: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def now() -> datetime:
    """The request's one notion of 'now', so every row it writes agrees."""
    if "now" not in g:
        g.now = utcnow()
    return g.now


def commit() -> None:
    """End the view's unit of work.

    Under an Idempotency-Key the commit waits until the response is known, so the response is
    stored in the same transaction as the effect (see service.api.idempotency).
    """
    if request_reads_only():
        raise RuntimeError(f"{request.endpoint} is marked read_only but commits: unmark it")
    if g.get("idempotency_pending"):
        db().flush()
        g.commit_deferred = True
    else:
        db().commit()
        run_after_commit()


def after_commit(callback: Callable[[], Any]) -> None:
    """Run `callback` once the request's unit of work is committed (a hint to the workers)."""
    g.setdefault("after_commit", []).append(callback)


def run_after_commit() -> None:
    callbacks = g.pop("after_commit", [])
    session = g.get("db_session")
    if session is not None and session.info.pop(outbox.DUE, False):
        # The commit wrote webhook deliveries: their first attempt goes out at once.
        callbacks.append(partial(state().hints.send, queues.WEBHOOKS_DELIVER))
    for callback in callbacks:
        callback()
