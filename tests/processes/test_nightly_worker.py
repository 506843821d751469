"""The nightly job on a real worker, Redis and PostgreSQL: every night once, whatever happens.

Simulated time is handed to `nightly.dispatch` as its `now`, exactly as beat would call it at that
instant; everything else (the queue, the worker, the chunks, the database) is real.
"""

from __future__ import annotations

import signal
import time
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
from sqlalchemy import func, select, text

from service.db import make_engine, make_session_factory, migrate
from service.models import NightlyLog, NightlyState, Notification
from tests.conftest import PG_URL, REDIS_URL, SECRET, make_settings, scratch_postgres_database
from tests.processes.procs import start, stop, wait_until
from tests.support.nightly_stories import log_runs, runner
from workers.app import create_celery

pytestmark = [
    pytest.mark.processes,
    pytest.mark.skipif(not (PG_URL and REDIS_URL), reason="needs PostgreSQL and Redis"),
]


class Stack:
    """A scratch database, a clean Redis and a worker that can be killed and restarted."""

    def __init__(self, cleanup: ExitStack, tmp_path: Path, **settings: str) -> None:
        self.url = cleanup.enter_context(scratch_postgres_database())
        migrate.upgrade(self.url)
        redis.Redis.from_url(REDIS_URL).flushdb()
        self.engine = make_engine(self.url)
        cleanup.callback(self.engine.dispose)
        self.tmp_path = tmp_path
        self.env = {"BACKSTRIDE_DATABASE_URL": self.url, "BACKSTRIDE_BROKER_URL": REDIS_URL,
                    "BACKSTRIDE_SECRET_KEY": SECRET, "BACKSTRIDE_DATA_DIR": str(tmp_path),
                    **{f"BACKSTRIDE_{k.upper()}": v for k, v in settings.items()}}
        self.celery = create_celery(make_settings(self.url, tmp_path, broker_url=REDIS_URL))
        self.log = tmp_path / "worker.log"
        self.worker = None
        self.cleanup = cleanup

    def session(self):
        return make_session_factory(self.engine)()

    def start_worker(self) -> None:
        self.worker = start(["worker", "--concurrency=2", "--without-heartbeat",
                             "--without-gossip", "--without-mingle"], self.env, self.log)
        self.cleanup.callback(stop, self.worker)
        wait_until(lambda: "ready." in self.log.read_text(), 30, "the worker", self.log)

    def dispatch(self, now: datetime) -> None:
        self.celery.send_task("nightly.dispatch", args=[now.isoformat()])

    def count(self, model) -> int:
        with self.session() as session:
            return session.scalar(select(func.count()).select_from(model))


def expected_days(zone: str, start: datetime, end: datetime, step: timedelta) -> list[date]:
    """The local days the planner should analyse: yesterday, at each step past 03:00 local."""
    days, moment = set(), start
    while moment <= end:
        local = moment.astimezone(ZoneInfo(zone))
        if local.hour >= 3:
            days.add(local.date() - timedelta(days=1))
        moment += step
    return sorted(days)


ZONES = {"london": "Europe/London", "la": "America/Los_Angeles", "akl": "Pacific/Auckland"}
# A big run on a day whose length DST changes: 23 h in London and LA, 25 h in Auckland.
SPIKE_DAYS = {"london": date(2026, 3, 29), "la": date(2026, 3, 8), "akl": date(2026, 4, 5)}


def test_three_time_zones_are_each_analysed_once_a_local_night_across_dst(tmp_path):
    start_at = datetime(2026, 3, 5, 0, 0, tzinfo=UTC)
    end_at = datetime(2026, 4, 8, 0, 0, tzinfo=UTC)
    step = timedelta(hours=3)
    with ExitStack() as cleanup:
        stack = Stack(cleanup, tmp_path)
        with stack.session() as session:
            athletes = {name: runner(session, f"{name}@example.org", zone)
                        for name, zone in ZONES.items()}
            spike_runs = {}
            for name, athlete in athletes.items():
                spike = SPIKE_DAYS[name]
                steady = [(spike - timedelta(days=d), 6000) for d in range(20, 3, -3)]
                spike_runs[name] = log_runs(session, athlete, [*steady, (spike, 12_000)])[-1]
            session.commit()
        stack.start_worker()

        moment = start_at
        while moment <= end_at:
            stack.dispatch(moment)
            targets = {athletes[name].id: _yesterday_if_due(zone, moment)
                       for name, zone in ZONES.items()}
            wait_until(lambda t=targets: _analysed_through(stack, t), 30,
                       f"the night before {moment}", stack.log)
            moment += step

        with stack.session() as session:
            for name, zone in ZONES.items():
                athlete_id = athletes[name].id
                logged = session.scalars(select(NightlyLog.local_day)
                                         .where(NightlyLog.athlete_id == athlete_id)
                                         .order_by(NightlyLog.local_day)).all()
                assert logged == expected_days(zone, start_at, end_at, step), name
                spikes = session.scalars(select(Notification.dedupe_key).where(
                    Notification.athlete_id == athlete_id, Notification.kind == "run_spike")).all()
                assert spikes == [f"run_spike:{spike_runs[name]}"], name


def _yesterday_if_due(zone: str, moment: datetime) -> date | None:
    local = moment.astimezone(ZoneInfo(zone))
    return local.date() - timedelta(days=1) if local.hour >= 3 else None


def _analysed_through(stack: Stack, targets: dict) -> bool:
    with stack.session() as session:
        state = dict(session.execute(select(NightlyState.athlete_id,
                                            NightlyState.analysed_through)).all())
    return all(day is None or (state.get(athlete) or date.min) >= day
               for athlete, day in targets.items())


def test_two_dispatches_of_the_same_night_write_everything_once(tmp_path):
    night = datetime(2026, 3, 11, 3, 30, tzinfo=UTC)
    with ExitStack() as cleanup:
        stack = Stack(cleanup, tmp_path, nightly_chunk_size="2")
        with stack.session() as session:
            for n in range(5):
                athlete = runner(session, f"r{n}@example.org")
                log_runs(session, athlete, [(date(2026, 3, d), 5000) for d in (1, 3, 5, 7)]
                         + [(date(2026, 3, 10), 15_000)])
            session.commit()
        stack.start_worker()

        for _ in range(2):  # a second beat started by mistake, or a redelivered message
            stack.dispatch(night)
        wait_until(lambda: stack.count(NightlyLog) >= 5, 60, "five athletes analysed", stack.log)
        time.sleep(2)  # let any duplicate chunk finish: it must find nothing left to do

        assert stack.count(NightlyLog) == 5
        assert stack.count(Notification) == 5 * 1 + _weekly(stack)
        with stack.session() as session:
            keys = session.scalars(select(Notification.dedupe_key)).all()
        assert len(keys) == len(set(keys))


def _weekly(stack: Stack) -> int:
    with stack.session() as session:
        return session.scalar(select(func.count()).where(Notification.kind == "weekly_jump"))


def test_a_worker_killed_mid_chunk_leaves_every_notification_exactly_once(tmp_path):
    night = datetime(2026, 3, 11, 3, 30, tzinfo=UTC)
    athletes = 3000
    with ExitStack() as cleanup:
        stack = Stack(cleanup, tmp_path, nightly_chunk_size=str(athletes))
        _seed_many(stack, athletes)
        stack.start_worker()

        stack.dispatch(night)
        wait_until(lambda: "nightly chunk started" in stack.log.read_text(), 60,
                   "the chunk to start", stack.log)
        time.sleep(0.5)
        stop(stack.worker, signal.SIGKILL)
        assert stack.count(NightlyLog) == 0, "killed before its one transaction committed"
        assert stack.count(Notification) == 0

        stack.start_worker()
        stack.dispatch(night + timedelta(minutes=15))  # the next beat tick
        wait_until(lambda: stack.count(NightlyLog) == athletes, 120, "the night redone",
                   stack.log)
        time.sleep(1)
        assert stack.count(NightlyLog) == athletes
        with stack.session() as session:
            spikes = session.scalar(select(func.count()).where(Notification.kind == "run_spike"))
            distinct = session.scalar(select(func.count(func.distinct(Notification.dedupe_key))))
        assert spikes == athletes, "one spike each: the big run on the 10th"
        assert distinct == stack.count(Notification), "nothing twice"


def _seed_many(stack: Stack, athletes: int) -> None:
    """Many runners at once, in SQL: a run every other day in February, then a big one."""
    with stack.engine.begin() as connection:
        connection.execute(text("""
            INSERT INTO accounts (id, email, password_hash, timezone, units, quiet_hours_start,
                                  quiet_hours_end, created_at, updated_at, version)
            SELECT gen_random_uuid(), 'bulk' || n || '@example.org', 'x', 'Europe/London', 'km',
                   '21:30', '07:00', now(), now(), 1
            FROM generate_series(1, :n) AS n
        """), {"n": athletes})
        connection.execute(text("""
            INSERT INTO checkins (id, athlete_id, kind, occurred_at, local_date, duration_s,
                                  distance_m, fingerprint, change_seq, created_at, updated_at,
                                  version)
            SELECT gen_random_uuid(), a.id, 'run', d + time '07:00', d::date,
                   CASE WHEN d::date = date '2026-03-10' THEN 5400 ELSE 2400 END,
                   CASE WHEN d::date = date '2026-03-10' THEN 16000 ELSE 8000 END,
                   'bulk', row_number() OVER (PARTITION BY a.id ORDER BY d), now(), now(), 1
            FROM accounts a,
                 generate_series(date '2026-02-01', date '2026-03-07', interval '2 days') AS d
            UNION ALL
            SELECT gen_random_uuid(), a.id, 'run', timestamp '2026-03-10 07:00', '2026-03-10',
                   5400, 16000, 'bulk', 1000, now(), now(), 1
            FROM accounts a
        """))
