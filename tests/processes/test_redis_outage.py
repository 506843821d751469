"""Redis stops for 30 s and comes back empty: nothing whose loss matters lived only in Redis.

Production Redis keeps nothing on disk, so an outage loses every queued message. That must cost
nothing: check-ins go to PostgreSQL while the broker is down (readiness says so), the same worker
consumes again once Redis answers (Celery has had releases where a worker silently stopped after
a reconnect: celery #8030, #9054; and Celery 5.7.0 killed a worker that lost Redis with a task
in flight, which is why this test always has one), and beat's next sweeps find in the database
every reminder that fell due meanwhile. Everything here is real: a redis-server of the test's own
(the shared one must never be killed), a scratch PostgreSQL database, `backstride worker` and
`backstride beat` as docker-compose runs them, and the API in process.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select

from service.api import create_app
from service.clock import utcnow
from service.db import make_engine, make_session_factory, migrate
from service.domain.accounts import tokens
from service.domain.stretch import reminders
from service.models import Account, AuthSession, Notification
from tests.conftest import PG_URL, REDIS_URL, SECRET, make_settings, scratch_postgres_database
from tests.processes.procs import start, stop, wait_until
from tests.processes.spare_redis import SpareRedis
from tests.support.runners import Runner, run, sign_up
from workers.app import create_celery

pytestmark = [
    pytest.mark.processes,
    pytest.mark.skipif(not (PG_URL and REDIS_URL), reason="needs PostgreSQL and Redis"),
]

OUTAGE_S = 30  # how long Redis is gone
RESUME_DEADLINE_S = 30  # a task sent once Redis is back must have run by then
SWEEP_INTERVAL_S = 2  # beat's reminders/push/imports sweeps and nightly planner: fast, for the test
# What beat sends, one task for each queue it feeds besides the canary's `default`.
BEAT_TASKS = ("reminders.sweep", "push.sweep", "imports.sweep", "nightly.dispatch")
RUN_LENGTH = timedelta(minutes=40)
ENDED_AGO = timedelta(minutes=12)  # past the 10-minute delay: a reminder is due on arrival
# When, into the outage, each runner's phone syncs a run: at its start, middle and end.
SYNC_OFFSETS_S = (1.0, OUTAGE_S / 2, OUTAGE_S - 3.0)
POLICY = tokens.TokenPolicy(SECRET, access_ttl_s=900, refresh_ttl_s=30 * 86400,
                            personal_token_max_days=366)


def test_a_redis_outage_loses_no_check_in_and_no_reminder(tmp_path: Path) -> None:
    with ExitStack() as cleanup:
        # The stack: its own Redis (killed in cleanup whatever happens), worker, beat, API.
        spare = cleanup.enter_context(SpareRedis(tmp_path / "redis"))
        url = cleanup.enter_context(scratch_postgres_database())
        migrate.upgrade(url)
        engine = make_engine(url)
        cleanup.callback(engine.dispose)
        env = {"BACKSTRIDE_DATABASE_URL": url, "BACKSTRIDE_BROKER_URL": spare.url,
               "BACKSTRIDE_SECRET_KEY": SECRET, "BACKSTRIDE_DATA_DIR": str(tmp_path),
               "BACKSTRIDE_REMINDER_INTERVAL_S": str(SWEEP_INTERVAL_S),
               "BACKSTRIDE_DISPATCH_INTERVAL_S": str(SWEEP_INTERVAL_S),
               # Beat does not purge within the test: only the canary below can.
               "BACKSTRIDE_PURGE_INTERVAL_S": "3600"}
        worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
        worker = start(["worker", "--concurrency=2"], env, worker_log)  # as docker-compose
        cleanup.callback(stop, worker)
        beat = start(["beat"], env, beat_log)
        cleanup.callback(stop, beat)
        settings = make_settings(url, tmp_path, broker_url=spare.url)
        app = create_app(settings)
        cleanup.callback(app.extensions["backstride"].engine.dispose)
        client = app.test_client()
        runners = [awake(sign_up(client)) for _ in SYNC_OFFSETS_S]

        # Before the outage the stack works: beat's sweeps reach the worker.
        wait_until(lambda: succeeded(worker_log, "reminders.sweep") >= 2, 60,
                   "sweeps before the outage", worker_log)
        assert client.get("/readyz").status_code == 200
        celery = create_celery(settings)
        cleanup.callback(celery.close)

        # A task is in flight when Redis dies, with a pool slot free (so the worker is polling):
        # the purge waits on a sign-in row this test holds locked until Redis is gone.
        expired_session_for(engine, runners[0])
        held = engine.connect()
        cleanup.callback(held.close)
        lock = held.begin()
        held.execute(select(AuthSession.id).where(AuthSession.expires_at <= utcnow())
                     .with_for_update())
        in_flight = celery.send_task("maintenance.purge_expired_tokens")
        wait_until(lambda: f"{in_flight.id}] received" in worker_log.read_text(), 30,
                   "the purge to be taken by the worker", worker_log)

        # Redis dies. Phones keep syncing runs; readiness tells the load balancer why it is 503.
        spare.mark()
        spare.stop()
        down_at = time.monotonic()
        time.sleep(2)
        lock.rollback()  # the purge finishes now, with no broker to acknowledge it to
        wait_until(lambda: expired_sessions(engine) == 0, 30, "the in-flight purge", worker_log)
        runs: dict[str, Runner] = {}
        readiness: list[tuple[int, dict]] = []
        for runner, offset in zip(runners, SYNC_OFFSETS_S, strict=True):
            readiness += probe_readiness_until(down_at + offset, client)
            runs[sync_a_run_that_just_ended(runner)] = runner
        expired_session_for(engine, runners[0])  # what the canary will purge
        readiness += probe_readiness_until(down_at + OUTAGE_S, client)

        assert readiness and all(status == 503 for status, _ in readiness), readiness
        assert all(body["checks"]["database"] == "ok" and body["checks"]["broker"] != "ok"
                   and "broker" in body["detail"] for _, body in readiness)
        assert reminded_runs(engine) == {}, "no worker could have run a sweep meanwhile"
        assert worker.poll() is None and beat.poll() is None, "both rode the outage out"

        # Redis is back, empty: every message queued before the outage is gone for good.
        log_at_return = worker_log.stat().st_size
        spare.start()
        back_at = spare.started_at
        assert not spare.marked(), "it came back empty"
        print(f"redis down for {back_at - down_at:.1f} s")
        canary = celery.send_task("maintenance.purge_expired_tokens")
        wait_until(lambda: expired_sessions(engine) == 0,
                   RESUME_DEADLINE_S - (time.monotonic() - back_at),
                   "the worker to run the canary after Redis returned", worker_log)
        print(f"canary ran {time.monotonic() - back_at:.1f} s after Redis returned")
        assert worker.poll() is None, "the same worker, not a restarted one"
        wait_until(lambda: f"{canary.id}] succeeded" in worker_log.read_text(), 10,
                   "the worker to log the canary", worker_log)

        # Beat's sweeps resume and find, in PostgreSQL, every reminder due during the outage.
        wait_until(lambda: set(reminded_runs(engine)) == set(runs), RESUME_DEADLINE_S,
                   "a stretch reminder for every run synced during the outage", worker_log)
        print(f"reminders written {time.monotonic() - back_at:.1f} s after Redis returned")
        sweeps_then = succeeded(worker_log, "reminders.sweep")
        wait_until(lambda: succeeded(worker_log, "reminders.sweep") >= sweeps_then + 2, 30,
                   "two more sweeps, which must write nothing twice", worker_log)
        assert reminded_runs(engine) == {run_id: 1 for run_id in runs}
        for run_id, runner in runs.items():
            (note,) = [n for n in runner.get("/v1/notifications").get_json()["items"]
                       if n["kind"] == reminders.REMINDER_KIND]
            assert note["data"]["run_id"] == run_id, "it reached the runner's inbox"
        assert client.get("/readyz").status_code == 200
        # Not just two queues: the worker consumes again from every queue beat feeds.
        wait_until(lambda: all(succeeded(worker_log, task, since=log_at_return)
                               for task in BEAT_TASKS), 30, f"{BEAT_TASKS} to run", worker_log)

        # Everything stops cleanly: the same worker and beat, never restarted, shut down warm.
        assert log_count(worker_log, "ready.") == 1, "the worker process never restarted"
        assert stop(beat) == 0, beat_log.read_text()[-4000:]
        assert stop(worker) == 0, worker_log.read_text()[-4000:]


def awake(runner: Runner) -> Runner:
    """No quiet hours, so a reminder written now is in the inbox now, whatever the hour."""
    changed = runner.patch("/v1/me", json={"quiet_hours": {"start": "00:00", "end": "00:00"}})
    assert changed.status_code == 200, changed.get_json()
    return runner


def sync_a_run_that_just_ended(runner: Runner) -> str:
    """The phone uploads a run that ended 12 minutes ago; it is accepted with Redis down."""
    started = datetime.now(UTC) - ENDED_AGO - RUN_LENGTH
    checkin_id = str(uuid.uuid4())
    response = runner.put(f"/v1/checkins/{checkin_id}", json=run(
        started.isoformat(), duration_s=int(RUN_LENGTH.total_seconds())))
    assert response.status_code == 201, response.get_json()
    return checkin_id


def probe_readiness_until(moment: float, client: FlaskClient) -> list[tuple[int, dict]]:
    """Ask /readyz twice a second until `moment` (time.monotonic()), as a load balancer would."""
    answers: list[tuple[int, dict]] = []
    while time.monotonic() < moment:
        response = client.get("/readyz")
        answers.append((response.status_code, response.get_json()))
        time.sleep(0.5)
    return answers


def expired_session_for(engine: Engine, runner: Runner) -> None:
    """A sign-in that expired long ago: only maintenance.purge_expired_tokens removes it."""
    with make_session_factory(engine)() as session:
        account = session.get(Account, uuid.UUID(runner.profile["id"]))
        tokens.sign_in(session, POLICY, account, utcnow() - timedelta(days=45))
        session.commit()
    assert expired_sessions(engine) == 1


def expired_sessions(engine: Engine) -> int:
    """Sign-ins past their expiry, still in the table: the canary's work left undone."""
    with make_session_factory(engine)() as session:
        return session.scalar(select(func.count()).where(AuthSession.expires_at <= utcnow()))


def reminded_runs(engine: Engine) -> dict[str, int]:
    """Stretch reminders written, counted by the run each one is about."""
    with make_session_factory(engine)() as session:
        keys = session.scalars(select(Notification.dedupe_key)
                               .where(Notification.kind == reminders.REMINDER_KIND)).all()
    return dict(Counter(key.removeprefix(f"{reminders.REMINDER_KIND}:") for key in keys))


def succeeded(log: Path, task: str, since: int = 0) -> int:
    """How many `task`s the worker has finished, by its log from byte `since` on."""
    with log.open("rb") as handle:
        handle.seek(since)
        lines = handle.read().decode(errors="replace").splitlines()
    return sum(f"Task {task}[" in line and "] succeeded" in line for line in lines)


def log_count(log: Path, text: str) -> int:
    """Occurrences of `text` in a log: a restarted worker would say "ready." again."""
    return log.read_text(errors="replace").count(text)
