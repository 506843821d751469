"""PostgreSQL goes away for 20 s under check-in traffic, and the runner loses nothing.

The promise (docs/operations.md, "PostgreSQL down"): while the database is down the API answers
503 problem documents with `Retry-After`, never a 500 and never a hang; once it is back the same
API processes serve again without being restarted; and because the phone makes each check-in's
id and retries the same body until it is accepted, every check-in ends up stored exactly once.

The shared test server is not ours to stop, so the API runs on a spare PostgreSQL of its own
(tests/processes/spare_postgres.py), stopped with `pg_ctl stop -m fast` as ops would stop it.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from service.db import make_engine, migrate
from service.models import Checkin
from tests.conftest import REDIS_URL, SECRET
from tests.processes.procs import answers, free_port, http, start, stop, wait_until
from tests.processes.spare_postgres import SparePostgres, spare_postgres
from tests.support.runners import PASSWORD, run

pytestmark = [
    pytest.mark.processes,
    pytest.mark.skipif(not REDIS_URL, reason="needs Redis (BACKSTRIDE_TEST_REDIS_URL)"),
]

OUTAGE_S = 20
RETRY_CAP_S = 1.0  # the phone honours Retry-After, but the test will not wait 5 s a time
NO_ANSWER_WAIT_S = 0.5  # after a refused or dropped connection there is no Retry-After to obey
PACE_S = 0.05  # between two check-ins: a busy phone, not a benchmark on two cores
MAX_CHECKINS = 400
PHONE_DEADLINE_S = 70  # the phone gives up, and the test fails, rather than hang the suite
WRITES_EACH_SIDE = 10  # accepted check-ins wanted before the outage and after the recovery
PROBLEM = "application/problem+json"
FIRST_RUN = datetime(2026, 10, 1, 6, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Answer:
    """One attempt of the phone, as it saw it; `status` None means no HTTP answer at all."""

    at: float
    checkin_id: uuid.UUID
    status: int | None
    content_type: str = ""
    retry_after: str | None = None
    problem: dict[str, Any] | None = None
    error: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status in (200, 201)


class Phone:
    """A phone uploading runs one after another, each under an id it made.

    A refused upload is sent again, same id and same body, after the `Retry-After` it was
    given, until the API accepts it; only then does the phone move on to the next run.
    """

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.token = token
        self.started = time.monotonic()
        self.ids: list[uuid.UUID] = []
        self.answers: list[Answer] = []
        self.failure: str | None = None
        self.finish = threading.Event()
        self.thread = threading.Thread(target=self.upload_runs, name="phone", daemon=True)

    def upload_runs(self) -> None:
        try:
            while not self.finish.is_set() and len(self.ids) < MAX_CHECKINS:
                checkin_id = uuid.uuid4()
                self.ids.append(checkin_id)
                started_at = FIRST_RUN + timedelta(minutes=10 * len(self.ids))
                self.upload(checkin_id, run(started_at=started_at.isoformat(),
                                            distance_m=5000 + len(self.ids)))
                time.sleep(PACE_S)
        except Exception as error:  # surfaced by the test, not lost in a thread
            self.failure = f"{type(error).__name__}: {error}"

    def upload(self, checkin_id: uuid.UUID, body: dict[str, Any]) -> None:
        while True:
            answer = self.put(checkin_id, body)
            self.answers.append(answer)
            if answer.accepted:
                return
            if self.clock() > PHONE_DEADLINE_S:
                raise TimeoutError(f"check-in {checkin_id} still not accepted: {answer}")
            wait = float(answer.retry_after) if answer.retry_after else NO_ANSWER_WAIT_S
            time.sleep(min(wait, RETRY_CAP_S))

    def put(self, checkin_id: uuid.UUID, body: dict[str, Any]) -> Answer:
        request = urllib.request.Request(
            f"{self.base}/v1/checkins/{checkin_id}", data=json.dumps(body).encode(), method="PUT",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
                return Answer(self.clock(), checkin_id, response.status,
                              response.headers.get("Content-Type", ""))
        except urllib.error.HTTPError as refused:
            raw = refused.read()
            content_type = refused.headers.get("Content-Type", "")
            return Answer(self.clock(), checkin_id, refused.code, content_type,
                          refused.headers.get("Retry-After"),
                          json.loads(raw) if content_type.startswith(PROBLEM) else None)
        except OSError as error:  # refused, reset or timed out: no answer at all
            return Answer(self.clock(), checkin_id, None, error=repr(error))

    def clock(self) -> float:
        return time.monotonic() - self.started

    def accepted(self, after: float = 0.0) -> int:
        return sum(1 for a in list(self.answers) if a.accepted and a.at >= after)


def gunicorn_workers(master: int) -> set[int]:
    """The pids whose parent is gunicorn's master: a restarted worker gets a new one."""
    workers = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields_ = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields_[1]) == master:
            workers.add(int(stat.parent.name))
    return workers


def history_ids(base: str, token: str) -> Iterator[uuid.UUID]:
    """Every check-in in the runner's history, read the way the app reads it: page by page."""
    cursor = None
    while True:
        query = "?limit=500" + (f"&cursor={quote(cursor)}" if cursor else "")
        status, _, page = http("GET", f"{base}/v1/checkins{query}", token=token)
        assert status == 200, page
        yield from (uuid.UUID(item["id"]) for item in page["items"])
        if not page["has_more"]:
            return
        cursor = page["next_cursor"]


def start_api(cleanup: ExitStack, database: SparePostgres, tmp_path: Path
              ) -> tuple[str, subprocess.Popen[bytes], Path]:
    """`backstride serve` (gunicorn, two workers, so two connection pools) on the spare server."""
    port = free_port()
    env = {"BACKSTRIDE_DATABASE_URL": database.url, "BACKSTRIDE_SECRET_KEY": SECRET,
           "BACKSTRIDE_DATA_DIR": str(tmp_path / "var"), "BACKSTRIDE_BROKER_URL": REDIS_URL or "",
           "BACKSTRIDE_PASSWORD_PROFILE": "cheapest",
           # One runner uploading fast from 127.0.0.1 is not what the limits are about.
           "BACKSTRIDE_RATELIMIT_DEFAULT": "100000 per minute",
           "BACKSTRIDE_RATELIMIT_AUTH": "100000 per minute"}
    log = tmp_path / "serve.log"
    api = start(["serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"], env, log)
    cleanup.callback(stop, api)
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: answers(f"{base}/readyz"), 30, "the API to be ready", log)
    return base, api, log


def sign_in(base: str) -> str:
    """Sam registers and signs in once, before anything goes wrong; the token must outlive it."""
    email = "sam@example.org"
    status, _, body = http("POST", f"{base}/v1/auth/register",
                           {"email": email, "password": PASSWORD, "timezone": "Europe/London"})
    assert status == 201, body
    status, _, pair = http("POST", f"{base}/v1/auth/token", {"email": email, "password": PASSWORD})
    assert status == 200, pair
    return pair["access_token"]


def test_a_twenty_second_postgres_outage_costs_a_retrying_phone_no_checkin(tmp_path: Path
                                                                            ) -> None:
    with ExitStack() as cleanup:
        database = cleanup.enter_context(spare_postgres())
        migrate.upgrade(database.sqlalchemy_url)
        base, api, log = start_api(cleanup, database, tmp_path)
        token = sign_in(base)
        workers = wait_until(lambda: len(found := gunicorn_workers(api.pid)) == 2 and found,
                             10, "gunicorn's two workers", log)

        # Sam's phone uploads runs steadily; the database is fine to begin with.
        phone = Phone(base, token)
        phone.thread.start()
        cleanup.callback(phone.finish.set)
        wait_until(lambda: phone.accepted() >= WRITES_EACH_SIDE or phone.failure, 20,
                   "the first check-ins", log)
        assert phone.failure is None, phone.failure

        # PostgreSQL stops. The API process stays alive and says so; readiness says why not.
        outage_began = phone.clock()
        database.stop("fast")
        stopped = phone.clock()
        time.sleep(OUTAGE_S / 2)
        assert answers(f"{base}/healthz"), "liveness does not depend on the database"
        ready_status, ready_headers, readiness = http("GET", f"{base}/readyz")
        time.sleep(max(0.0, outage_began + OUTAGE_S - phone.clock()))

        # It comes back, on its own; nobody touches the API.
        database.start()
        restarted = phone.clock()
        wait_until(lambda: answers(f"{base}/readyz"), 30, "/readyz after the restart", log,
                   interval=0.1)
        ready_again = phone.clock()
        wait_until(lambda: phone.accepted(after=restarted) >= WRITES_EACH_SIDE or phone.failure,
                   30, "check-ins after the restart", log)
        phone.finish.set()
        phone.thread.join(timeout=PHONE_DEADLINE_S)
        assert not phone.thread.is_alive(), "the phone finished its last upload"

        # What the phone saw.
        assert phone.failure is None, phone.failure
        refused = [a for a in phone.answers if not a.accepted]
        during = [a for a in refused if outage_began <= a.at <= restarted]
        first_after = min(a.at for a in phone.answers if a.accepted and a.at >= restarted)
        print(f"\nstop took {stopped - outage_began:.2f}s; {len(phone.ids)} check-ins, "
              f"{len(phone.answers)} attempts, {len(refused)} refused "
              f"({len(during)} during the outage): "
              f"{sorted({(a.status, a.retry_after) for a in refused}, key=str)}; "
              f"first accepted {first_after - restarted:.2f}s and /readyz 200 "
              f"{ready_again - restarted:.2f}s after the restart")
        assert during, "the phone was refused while PostgreSQL was down"
        for answer in refused:
            assert answer.status == 503, answer  # no 500, no dropped connection, no hang
            assert answer.content_type.startswith(PROBLEM), answer
            assert answer.problem and answer.problem["status"] == 503, answer
            assert answer.problem["type"].endswith(":database-unavailable"), answer
            assert answer.retry_after and int(answer.retry_after) > 0, answer
        assert (ready_status, ready_headers.get("Retry-After")) == (503, "5"), readiness
        assert readiness["checks"]["database"] != "ok", readiness

        # The same API processes serve again: no worker was restarted to get here.
        assert api.poll() is None
        assert gunicorn_workers(api.pid) == workers
        for _ in range(4):  # a few requests, so each worker's own pool has been used again
            status, _, me = http("GET", f"{base}/v1/me", token=token)
            assert (status, me["email"]) == (200, "sam@example.org"), me

        served = [json.loads(line) for line in log.read_text().splitlines()
                  if line.startswith("{")]
        errors = {line["status"] for line in served
                  if line["event"] == "request" and line["status"] >= 500}
        assert errors <= {503}, f"the API's own log shows {errors}"

        # Every check-in the phone made is there exactly once, seen by the app and in the table.
        attempted = set(phone.ids)
        assert len(attempted) == len(phone.ids)
        assert sorted(history_ids(base, token)) == sorted(attempted)
        engine = make_engine(database.sqlalchemy_url)
        cleanup.callback(engine.dispose)
        with engine.connect() as connection:
            rows, distinct = connection.execute(
                select(func.count(), func.count(func.distinct(Checkin.id)))).one()
            stored = set(connection.scalars(select(Checkin.id)))
        assert rows == distinct == len(attempted)
        assert stored == attempted
