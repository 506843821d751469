"""Database sessions for tasks, safe across the prefork pool's fork."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from celery.signals import worker_process_init
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.db import make_engine, make_session_factory
from workers.app import app


@cache
def _engine() -> Engine:
    return make_engine(app.settings.database_url)


@cache
def _factory() -> sessionmaker[Session]:
    return make_session_factory(_engine())


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session for one unit of work; the task commits it, and it is closed (rolled back) after."""
    session = _factory()()
    try:
        yield session
    finally:
        session.close()


@worker_process_init.connect
def _forget_parent_connections(**_: object) -> None:
    """A forked child must not reuse the parent's sockets (superset #10530)."""
    if _engine.cache_info().currsize:
        _engine().dispose(close=False)
