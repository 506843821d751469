"""Beat schedules the purge, a real worker runs it, and the database shows the effect.

Real processes on real brokers: the embedded SQLite pair always, PostgreSQL with Redis when the
environment names them. Celery's eager mode would test none of the path that matters here.
"""

from __future__ import annotations

import signal
import time
from contextlib import ExitStack, contextmanager
from datetime import timedelta

import pytest
import redis
from sqlalchemy import func, select

from service.clock import utcnow
from service.db import make_engine, make_session_factory, migrate
from service.domain.accounts import passwords, tokens
from service.domain.accounts import registration as accounts
from service.models import AuthSession
from tests.conftest import PG_URL, REDIS_URL, SECRET, scratch_postgres_database
from tests.processes.procs import start, stop, wait_until

pytestmark = pytest.mark.processes
STACKS = ["embedded"] + (["postgresql+redis"] if PG_URL and REDIS_URL else [])
POLICY = tokens.TokenPolicy(SECRET, access_ttl_s=900, refresh_ttl_s=30 * 86400,
                            personal_token_max_days=366)


@contextmanager
def stack_urls(stack: str, tmp_path):
    if stack == "embedded":
        yield (f"sqlite:///{tmp_path / 'data.sqlite'}",
               f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}")
    else:
        with scratch_postgres_database() as url:
            yield url, REDIS_URL


def sessions(url: str) -> dict[str, int]:
    engine = make_engine(url)
    now = utcnow()
    with make_session_factory(engine)() as session:
        expired = session.scalar(select(func.count()).where(AuthSession.expires_at <= now))
        live = session.scalar(select(func.count()).where(AuthSession.expires_at > now))
    engine.dispose()
    return {"expired": expired, "live": live}


@pytest.mark.parametrize("stack", STACKS)
def test_beat_and_a_worker_purge_expired_sign_ins(stack, tmp_path):
    with ExitStack() as cleanup:
        database_url, broker_url = cleanup.enter_context(stack_urls(stack, tmp_path))
        migrate.upgrade(database_url)
        engine = make_engine(database_url)
        with make_session_factory(engine)() as session:
            hasher = passwords.make_hasher("cheapest")
            gone = accounts.register(session, hasher, email="gone@example.org",
                                     password="tarmac-and-trails-2026")
            here = accounts.register(session, hasher, email="here@example.org",
                                     password="tarmac-and-trails-2026")
            tokens.sign_in(session, POLICY, gone, utcnow() - timedelta(days=45))
            tokens.sign_in(session, POLICY, here, utcnow())
            session.commit()
        engine.dispose()
        assert sessions(database_url) == {"expired": 1, "live": 1}

        env = {
            "BACKSTRIDE_DATABASE_URL": database_url, "BACKSTRIDE_BROKER_URL": broker_url,
            "BACKSTRIDE_SECRET_KEY": SECRET, "BACKSTRIDE_DATA_DIR": str(tmp_path),
            "BACKSTRIDE_PURGE_INTERVAL_S": "1",
        }
        worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
        worker = start(["worker", "--concurrency=1", "--without-heartbeat", "--without-gossip",
                        "--without-mingle"], env, worker_log)
        cleanup.callback(stop, worker)
        beat = start(["beat"], env, beat_log)
        cleanup.callback(stop, beat)

        wait_until(lambda: sessions(database_url)["expired"] == 0, 60,
                   "the worker to purge the expired sign-in", worker_log)

        assert sessions(database_url) == {"expired": 0, "live": 1}
        assert "maintenance.purge_expired_tokens" in beat_log.read_text(), "beat sent it"
        wait_until(lambda: "purged expired tokens" in worker_log.read_text(), 10,
                   "the worker to log the purge", worker_log)


def sends(log) -> int:
    return log.read_text(errors="replace").count("Sending due task") if log.exists() else 0


@pytest.mark.parametrize("stack", STACKS)
def test_a_second_beat_schedules_nothing_until_the_first_is_gone(stack, tmp_path):
    """Two beats started by mistake: one sends, the other stands by, and takes over on a kill."""
    with ExitStack() as cleanup:
        database_url, broker_url = cleanup.enter_context(stack_urls(stack, tmp_path))
        migrate.upgrade(database_url)
        env = {
            "BACKSTRIDE_DATABASE_URL": database_url, "BACKSTRIDE_BROKER_URL": broker_url,
            "BACKSTRIDE_SECRET_KEY": SECRET, "BACKSTRIDE_DATA_DIR": str(tmp_path),
            "BACKSTRIDE_REMINDER_INTERVAL_S": "1",
        }
        if broker_url.startswith("redis"):
            cleanup.callback(redis.Redis.from_url(broker_url).flushdb)  # the unconsumed sends
        first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
        first = start(["beat"], env, first_log)
        cleanup.callback(stop, first)
        wait_until(lambda: sends(first_log) >= 2, 30, "the first beat to schedule", first_log)
        # Started by mistake with the very same settings, schedule file and all.
        second = start(["beat"], env, second_log)
        cleanup.callback(stop, second)
        wait_until(lambda: "standing by" in second_log.read_text(), 30,
                   "the second beat to stand by", second_log)

        before = sends(first_log)
        time.sleep(4)
        assert sends(first_log) > before, "the first beat kept scheduling"
        assert sends(second_log) == 0, second_log.read_text()[-2000:]

        stop(first, signal.SIGKILL)  # no goodbye: the lock must still be handed over
        wait_until(lambda: sends(second_log) >= 1, 30, "the second beat to take over",
                   second_log)
        assert "beat lock acquired" in second_log.read_text()
