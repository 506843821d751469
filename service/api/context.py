"""What a request can reach: the settings, a request-scoped session, the password hasher, now."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from flask import current_app, g, request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.api.hints import Hints
from service.clock import utcnow
from service.config import Settings
from service.domain.accounts.tokens import TokenPolicy

EXTENSION_KEY = "backstride"


@dataclass(frozen=True)
class AppState:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    read_session_factory: sessionmaker[Session]
    hasher: PasswordHasher
    token_policy: TokenPolicy
    hints: Hints


def state() -> AppState:
    return current_app.extensions[EXTENSION_KEY]


def db() -> Session:
    """The request's session, opened on first use and closed (rolled back if open) at teardown."""
    if "db_session" not in g:
        reads_only = request.method in ("GET", "HEAD", "OPTIONS")
        factory = state().read_session_factory if reads_only else state().session_factory
        g.db_session = factory()
    return g.db_session


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
    for callback in g.pop("after_commit", []):
        callback()
