"""Readiness probes for what the API depends on: the database and the broker.

Each probe is bounded by a short timeout so that /readyz answers quickly even when a dependency
hangs, and reports what it saw instead of raising.
"""

from __future__ import annotations

from functools import lru_cache

import redis
from sqlalchemy import Engine, create_engine, text

PROBE_TIMEOUT_S = 2


def database_ready(engine: Engine) -> str | None:
    """None when the database answers, else why not."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        return _first_line(error)
    return None


def broker_ready(broker_url: str) -> str | None:
    """None when the broker answers, else why not. Checked directly, not through Celery."""
    try:
        if broker_url.startswith(("redis://", "rediss://")):
            client = redis.Redis.from_url(
                broker_url, socket_timeout=PROBE_TIMEOUT_S, socket_connect_timeout=PROBE_TIMEOUT_S
            )
            try:
                client.ping()
            finally:
                client.close()
        else:  # sqla+<sqlalchemy url>: the embedded broker is a database too
            with _sqla_broker_engine(broker_url).connect() as connection:
                connection.execute(text("SELECT 1"))
    except Exception as error:
        return _first_line(error)
    return None


@lru_cache(maxsize=4)
def _sqla_broker_engine(broker_url: str) -> Engine:
    return create_engine(broker_url.removeprefix("sqla+"), pool_pre_ping=True)


def _first_line(error: Exception) -> str:
    text_ = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text_[0] if text_ else ''}".strip()
