"""Fixtures on real databases: SQLite always, PostgreSQL and Redis when the environment names them.

`BACKSTRIDE_TEST_DATABASE_URL` names a PostgreSQL server; the suite creates a scratch database on
it for the session and drops it at the end. `BACKSTRIDE_TEST_REDIS_URL` names a Redis that the
broker tests use. In CI (`CI=true`) both are required: a missing service fails the run instead of
quietly shrinking it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from service.api import create_app
from service.config import Settings, normalise_database_url
from service.db import make_engine, migrate
from service.models import Base

PG_URL = os.environ.get("BACKSTRIDE_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("BACKSTRIDE_TEST_REDIS_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
SECRET = "test-secret-" + "x" * 40


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("CI") == "true" and not (PG_URL and REDIS_URL):
        raise pytest.UsageError(
            "CI must test PostgreSQL and Redis: set BACKSTRIDE_TEST_DATABASE_URL and "
            "BACKSTRIDE_TEST_REDIS_URL"
        )


def pytest_report_header() -> list[str]:
    return [f"backstride backends: databases {BACKENDS}, redis {'yes' if REDIS_URL else 'no'}"]


@dataclass(frozen=True)
class ScratchDatabase:
    backend: str
    url: str

    def truncate(self) -> None:
        engine = make_engine(self.url)
        with engine.begin() as connection:
            tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
            if self.backend == "postgresql":
                connection.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
            else:
                for table in tables:
                    connection.execute(text(f"DELETE FROM {table}"))
        engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def test_database(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScratchDatabase]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "backstride.sqlite"
        database = ScratchDatabase("sqlite", f"sqlite:///{path}")
        migrate.upgrade(database.url)
        yield database
        return
    with scratch_postgres_database() as url:
        database = ScratchDatabase("postgresql", url)
        migrate.upgrade(url)
        yield database


@contextmanager
def scratch_postgres_database() -> Iterator[str]:
    """A new, empty database on the test server, dropped on exit."""
    assert PG_URL, "BACKSTRIDE_TEST_DATABASE_URL is not set"
    admin_url = normalise_database_url(PG_URL)
    name = f"backstride_test_{secrets.token_hex(4)}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture
def database(test_database: ScratchDatabase) -> Iterator[ScratchDatabase]:
    yield test_database
    test_database.truncate()


def make_settings(database_url: str, data_dir: Path, **overrides: str) -> Settings:
    env = {
        "BACKSTRIDE_DATABASE_URL": database_url,
        "BACKSTRIDE_DATA_DIR": str(data_dir),
        "BACKSTRIDE_SECRET_KEY": SECRET,
        "BACKSTRIDE_PASSWORD_PROFILE": "cheapest",
        "BACKSTRIDE_BROKER_URL": REDIS_URL or f"sqla+sqlite:///{data_dir / 'broker.sqlite'}",
        # The limiter stays on (and on Redis when the broker is): the suite signs up hundreds of
        # runners from 127.0.0.1. tests/api/test_rate_limits.py sets tight limits of its own.
        "BACKSTRIDE_RATELIMIT_DEFAULT": "100000 per minute",
        "BACKSTRIDE_RATELIMIT_AUTH": "100000 per minute",
        "BACKSTRIDE_RATELIMIT_SIGN_IN_PAIR": "100000 per minute",
        "BACKSTRIDE_RATELIMIT_SIGN_IN_ACCOUNT": "100000 per minute",
        "BACKSTRIDE_RATELIMIT_PASSWORD_RESET": "100000 per minute",
    }
    env.update({f"BACKSTRIDE_{k.upper()}": v for k, v in overrides.items()})
    return Settings.from_env(env)


@pytest.fixture
def settings(database: ScratchDatabase, tmp_path: Path) -> Settings:
    return make_settings(database.url, tmp_path)


@pytest.fixture
def app(settings: Settings):
    app = create_app(settings)
    yield app
    app.extensions["backstride"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()
