"""Faults across hosts: Backstride on nine namespaced hosts (tests/cluster/cluster.py), real
processes behind real network boundaries, and a host lost or cut off in the middle of the work.

One cluster serves the whole module (about 15 s to build); each test starts from empty tables
with every host up and cabled. Simulated nights are handed to `nightly.dispatch` as beat would
at that instant, and the test plays beat's next tick where the outcome depends on it; the sweeps
(push, reminders) come from the real beat every 2 s.

The bounds stated here are what the docs promise (docs/operations.md, "Across hosts").
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, text

from service.config import Settings, normalise_database_url
from service.db import make_engine, make_session_factory
from service.domain.notify import devices
from service.models import Base, Checkin, Delivery, NightlyLog, Notification
from tests.cluster.cluster import Cluster
from tests.processes.test_nightly_worker import _seed_many
from tests.support.nightly_stories import runner
from tests.support.runners import PASSWORD, pain, run
from tests.workers.test_push_delivery import notify
from workers.app import create_celery

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(os.geteuid() != 0 and os.environ.get("CI") != "true",
                       reason="network namespaces need root (CI runs as root and never skips)"),
]

NIGHT = datetime(2026, 3, 11, 3, 30, tzinfo=UTC)  # the night _seed_many's big runs are due
ATHLETES = 3000  # six chunks of 500: one for every worker process on the three hosts
LINK_DOWN_S = 60
TAKEOVER_WITHIN_S = 45  # the server drops a silent beat's lock session within ~25 s, + 5 s retry
REDIS_PARTITION_S = 20
RESUME_WITHIN_S = 180  # a cut-off worker consumes again within this of its link back (99 s seen)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with Cluster(tmp_path_factory.mktemp("cluster-logs"), push_delay_s=0.25) as built:
        yield built


@pytest.fixture(scope="module")
def ops(cluster: Cluster) -> Iterator[Ops]:
    helper = Ops(cluster)
    yield helper
    helper.engine.dispose()


@pytest.fixture(autouse=True)
def healthy(cluster: Cluster, ops: Ops) -> Iterator[None]:
    """Every host up and cabled, and the tables empty, before each test."""
    for name, host in cluster.hosts.items():
        host.link_up()
        host.reconnect(cluster.redis_address)
        if not host.processes:
            cluster.power_on(name)
    ops.truncate()
    yield


class Ops:
    """The operator's seat on the bridge: the database, the broker and the logs."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.engine = make_engine(normalise_database_url(cluster.database_url))
        self.session = make_session_factory(self.engine)
        self.celery = create_celery(Settings.from_env(cluster.env("push")))

    def truncate(self) -> None:
        with self.engine.begin() as connection:
            tables = ", ".join(t.name for t in reversed(Base.metadata.sorted_tables))
            connection.execute(text(f"TRUNCATE {tables} CASCADE"))

    def count(self, query) -> int:
        with self.session() as session:
            return session.scalar(query)

    def dispatch(self, now: datetime) -> None:
        self.celery.send_task("nightly.dispatch", args=[now.isoformat()])

    def analysed(self) -> int:
        return self.count(select(func.count()).select_from(NightlyLog))

    def assert_every_athlete_day_once(self, athletes: int) -> None:
        with self.session() as session:
            rows = session.scalar(select(func.count()).select_from(NightlyLog))
            pairs = session.scalar(select(func.count()).select_from(
                select(NightlyLog.athlete_id, NightlyLog.local_day).distinct().subquery()))
            kinds = dict(session.execute(select(Notification.kind, func.count())
                                         .group_by(Notification.kind)).all())
            per_athlete = dict(session.execute(
                select(Notification.kind, func.count(func.distinct(Notification.athlete_id)))
                .group_by(Notification.kind)).all())
        print(f"notifications by kind: {kinds}")
        assert rows == pairs == athletes, "every athlete-day analysed, and once"
        assert kinds.get("run_spike") == athletes, "one spike each: the big run on the 10th"
        assert kinds == per_athlete, f"one of each kind per athlete at most: {kinds}"

    def log(self, host: str) -> str:
        return self.cluster.log(host).new_log()

    def mark(self) -> dict[str, int]:
        """Where each worker's log ends now, to read only what comes after."""
        return {name: len(self.log(name)) for name in self.cluster.worker_names}

    def since(self, host: str, marks: dict[str, int]) -> str:
        return self.log(host)[marks.get(host, 0):]


def _unfinished(log: str, task: str) -> int:
    received = set(re.findall(rf"Task {re.escape(task)}\[([0-9a-f-]+)\] received", log))
    finished = set(re.findall(rf"Task {re.escape(task)}\[([0-9a-f-]+)\] (?:succeeded|retry|"
                              r"raised)", log))
    return len(received - finished)


def test_a_worker_host_losing_power_mid_chunk_leaves_every_athlete_day_analysed_once(
        cluster: Cluster, ops: Ops) -> None:
    _seed_many(ops, ATHLETES)
    marks = ops.mark()
    ops.dispatch(NIGHT)
    victim = "worker1"
    netns_wait(lambda: "nightly chunk started" in ops.since(victim, marks), 60,
               f"a chunk on {victim}")
    time.sleep(0.3)
    mid_chunk = _unfinished(ops.since(victim, marks), "nightly.analyse_chunk")
    cluster.power_off(victim)
    assert mid_chunk >= 1, f"{victim} was not in the middle of a chunk"

    # The other hosts finish theirs; the dead host's chunk waits unacknowledged in Redis for
    # the visibility timeout (2 h), so beat's next tick plans it again.
    netns_wait(lambda: ops.analysed() >= ATHLETES - 500 * mid_chunk, 120,
               "the other hosts' chunks")
    ops.dispatch(NIGHT + timedelta(minutes=15))
    netns_wait(lambda: ops.analysed() >= ATHLETES, 120, "the night redone")
    cluster.power_on(victim)
    time.sleep(2)  # a duplicate chunk would commit now: it must find nothing left to do
    ops.assert_every_athlete_day_once(ATHLETES)


def test_a_worker_host_losing_power_mid_fan_out_delivers_everything_once(
        cluster: Cluster, ops: Ops) -> None:
    runners = 120  # about 5 s of pushes at 0.25 s each over six processes
    with ops.session() as session:
        for number in range(runners):
            athlete = runner(session, f"fan-{number}@example.org")
            devices.register(session, athlete, None, kind="expo",
                             address=f"ExponentPushToken[fan-{number}]")
            session.commit()
    marks = ops.mark()
    with ops.session() as session:  # all due at once: beat's next sweep fans them out
        for athlete_email in [f"fan-{n}@example.org" for n in range(runners)]:
            from service.models import Account

            notify(session, session.scalar(select(Account).where(Account.email == athlete_email)))
    before = len(cluster.received())
    netns_wait(lambda: len(cluster.received()) - before >= runners // 4, 60,
               "the fan-out to start")
    busy = {name: _unfinished(ops.since(name, marks), "push.sweep")
            for name in cluster.worker_names}
    victim = max(busy, key=busy.get)
    cluster.power_off(victim)
    pushed_before = len(cluster.received()) - before
    assert busy[victim] >= 1, f"no host was mid fan-out: {busy}"
    assert pushed_before < runners, "the kill came too late to test anything"

    expected = {f"ExponentPushToken[fan-{n}]" for n in range(runners)}
    netns_wait(lambda: {m["to"] for m in cluster.received()[before:]} >= expected, 90,
               "every runner's push, the dead host's claims released after 10 s")
    cluster.power_on(victim)
    time.sleep(3)  # anything sent twice would arrive now
    with ops.session() as session:
        assert set(session.scalars(select(Delivery.status))) == {"sent"}
        assert session.scalar(select(func.count()).select_from(Delivery)) == runners
        assert session.scalar(select(func.count()).select_from(Notification)) == runners
    counts = Counter(m["to"] for m in cluster.received()[before:])
    again = sorted(token for token, count in counts.items() if count > 1)
    # At most what the dead host's two processes had on the wire: sent, not yet recorded.
    assert len(again) <= cluster.worker_concurrency, f"sent twice: {again}"
    assert all(m["collapseId"] for m in cluster.received()[before:])


def test_a_worker_host_cut_off_for_60_s_mid_chunk_loses_and_doubles_nothing(
        cluster: Cluster, ops: Ops) -> None:
    _seed_many(ops, ATHLETES)
    marks = ops.mark()
    ops.dispatch(NIGHT)
    victim = "worker2"
    netns_wait(lambda: "nightly chunk started" in ops.since(victim, marks), 60,
               f"a chunk on {victim}")
    time.sleep(0.3)
    mid_chunk = _unfinished(ops.since(victim, marks), "nightly.analyse_chunk")
    cluster.hosts[victim].link_down()
    cut_at = time.monotonic()
    assert mid_chunk >= 1, f"{victim} was not in the middle of a chunk"
    try:
        netns_wait(lambda: ops.analysed() >= ATHLETES - 500 * mid_chunk, 50,
                   "the other hosts' chunks")
        ops.dispatch(NIGHT + timedelta(minutes=15))  # beat's next tick, during the outage
        time.sleep(max(0.0, LINK_DOWN_S - (time.monotonic() - cut_at)))
    finally:
        cluster.hosts[victim].link_up()
    healed, healed_at = ops.mark(), time.monotonic()
    netns_wait(lambda: ops.analysed() >= ATHLETES, 180, "the night finished after the heal")
    time.sleep(2)
    ops.assert_every_athlete_day_once(ATHLETES)

    # The host consumes again: canaries sent every 2 s until one reaches it (the other hosts
    # take most of them; its own reconnect waits on TCP's retransmission backoff).
    def consumed() -> bool:
        for _ in range(12):
            ops.celery.send_task("maintenance.purge_expired_tokens")
        return "maintenance.purge_expired_tokens" in ops.since(victim, healed)

    try:
        netns_wait(consumed, RESUME_WITHIN_S, f"{victim} to consume again", interval=2)
    except TimeoutError as error:
        raise AssertionError(f"{error}\n{ops.since(victim, healed)[-4000:]}") from None
    print(f"{victim} consumed again {time.monotonic() - healed_at:.0f} s after the heal")


def sends(log: str) -> int:
    return log.count("Sending due task")


def test_the_active_beat_host_cut_off_hands_over_to_the_standby_and_never_both(
        cluster: Cluster, ops: Ops) -> None:
    active, standby = _beats(cluster)
    start = {name: sends(ops.log(name)) for name in (active, standby)}
    time.sleep(4)
    assert sends(ops.log(active)) > start[active], "the active beat schedules"
    assert sends(ops.log(standby)) == start[standby], "the standby schedules nothing"

    cluster.hosts[active].link_down()
    cut_at = time.monotonic()
    acquired = ops.log(standby).count("beat lock acquired")
    try:
        netns_wait(lambda: ops.log(standby).count("beat lock acquired") > acquired,
                   TAKEOVER_WITHIN_S, f"{standby} to take over")
        took_over_s = time.monotonic() - cut_at
        print(f"standby took over {took_over_s:.1f} s after the partition")
        netns_wait(lambda: sends(ops.log(standby)) > start[standby] + 2, 10,
                   f"{standby} to schedule")
    finally:
        cluster.hosts[active].link_up()

    # After the heal the old beat finds its lock session gone and stands by: in a window well
    # past the heal, only the new one sends.
    time.sleep(20)
    window = {name: sends(ops.log(name)) for name in (active, standby)}
    time.sleep(10)
    assert sends(ops.log(active)) == window[active], ops.log(active)[-3000:]
    assert sends(ops.log(standby)) >= window[standby] + 3


def _beats(cluster: Cluster) -> tuple[str, str]:
    """Which beat schedules now, and which stands by (an earlier test may have swapped them)."""
    def last_state(name: str) -> str:
        log = cluster.log(name).new_log()
        acquired, standing = log.rfind("beat lock acquired"), log.rfind("standing by")
        return "active" if acquired > standing else "standby"

    names = [n for n in cluster.hosts if n.startswith("beat")]
    states = {name: last_state(name) for name in names}
    assert sorted(states.values()) == ["active", "standby"], states
    return (next(n for n, s in states.items() if s == "active"),
            next(n for n, s in states.items() if s == "standby"))


class RetryingClient:
    """A phone that writes check-ins with ids it made, and on a failure tries the other host."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = urls
        self.current = 0
        self.http = httpx.Client(timeout=5)
        self.token = ""
        self.written: dict[str, int] = {}  # id -> attempts it took
        self.moves = 0

    def sign_up(self, email: str) -> None:
        url = self.urls[self.current]
        assert self.http.post(f"{url}/v1/auth/register", json={
            "email": email, "password": PASSWORD}).status_code == 201
        answer = self.http.post(f"{url}/v1/auth/token", json={"email": email,
                                                               "password": PASSWORD})
        self.token = answer.json()["access_token"]

    def put(self, checkin_id: str, body: dict) -> httpx.Response:
        for attempt in range(1, 9):
            url = self.urls[self.current]
            try:
                answer = self.http.put(f"{url}/v1/checkins/{checkin_id}", json=body,
                                       headers={"Authorization": f"Bearer {self.token}"})
                if answer.status_code < 500:
                    self.written[checkin_id] = attempt
                    return answer
            except httpx.TransportError:
                pass
            self.current = (self.current + 1) % len(self.urls)  # the load balancer's next
            self.moves += 1
            time.sleep(0.2)
        raise AssertionError(f"{checkin_id} never written")


def test_an_api_host_killed_under_a_retrying_clients_writes_loses_and_doubles_nothing(
        cluster: Cluster, ops: Ops) -> None:
    writes = 240
    client = RetryingClient([cluster.api_url(name) for name in cluster.api_names])
    client.sign_up("moving@example.org")
    ids = [str(uuid.uuid4()) for _ in range(writes)]
    start = datetime(2026, 11, 1, 7, 0, tzinfo=UTC)
    answers: list[int] = []

    def write_all() -> None:
        for n, checkin_id in enumerate(ids):
            body = run((start + timedelta(hours=n)).isoformat(), distance_m=5000 + n)
            answers.append(client.put(checkin_id, body).status_code)

    writer = threading.Thread(target=write_all)
    writer.start()
    netns_wait(lambda: len(answers) >= writes // 3, 60, "a third of the writes")
    assert client.current == 0, "the client writes to api1 until it dies"
    cluster.power_off("api1")
    writer.join(120)
    assert not writer.is_alive()

    assert client.moves >= 1, "the client had to move"
    assert set(answers) <= {200, 201}, Counter(answers)
    with ops.session() as session:
        stored = session.scalars(select(Checkin.id)).all()
    assert len(stored) == writes, "nothing lost, nothing doubled"
    assert {str(i) for i in stored} == set(ids)


def test_redis_cut_off_from_the_api_hosts_check_ins_are_still_accepted_and_pushed(
        cluster: Cluster, ops: Ops) -> None:
    phones = []
    for number, name in enumerate(cluster.api_names):
        phone = RetryingClient([cluster.api_url(name)])
        phone.sign_up(f"cut-off-{number}@example.org")
        token = f"ExponentPushToken[cut-off-{number}]"
        assert phone.http.post(f"{cluster.api_url(name)}/v1/devices", json={
            "kind": "expo", "token": token},
            headers={"Authorization": f"Bearer {phone.token}"}).status_code in (200, 201)
        phones.append((phone, token))
    before = len(cluster.received())

    for name in cluster.api_names:
        cluster.hosts[name].cut_off(cluster.redis_address)
    slowest = 0.0
    try:
        for name in cluster.api_names:
            answer = httpx.get(f"{cluster.api_url(name)}/readyz", timeout=10)
            assert answer.status_code == 503, "the API sees the broker gone"
        deadline = time.monotonic() + REDIS_PARTITION_S
        n = 0
        while time.monotonic() < deadline:
            for phone, _token in phones:
                began = time.monotonic()
                body = run((datetime.now(UTC) - timedelta(hours=2, minutes=n)).isoformat())
                assert phone.put(str(uuid.uuid4()), body).status_code == 201
                slowest = max(slowest, time.monotonic() - began)
            n += 1
        emergency = pain((datetime.now(UTC) - timedelta(minutes=1)).isoformat(), severity=5,
                         answers={"bladder_bowel_change": True})
        for phone, _token in phones:
            answer = phone.put(str(uuid.uuid4()), emergency)
            assert answer.status_code == 201
            assert answer.json()["triage"]["tier"] == "emergency"
        print(f"slowest check-in while Redis was cut off: {slowest:.2f} s")
        # No hint reaches the broker, but beat and the workers still do: the sweep pushes it.
        netns_wait(lambda: {m["to"] for m in cluster.received()[before:]
                            if m["title"] == "Please get medical help today"}
                   >= {t for _p, t in phones}, 30, "the emergencies pushed by the sweep")
    finally:
        for name in cluster.api_names:
            cluster.hosts[name].reconnect(cluster.redis_address)
    assert slowest < 5, "a check-in waited on the broker"
    with ops.session() as session:
        accepted = session.scalar(select(func.count()).select_from(Checkin))
    assert accepted == n * len(phones) + len(phones)

    # Healed: the API's own hint works again (readiness back, and the next emergency pushed).
    for name in cluster.api_names:
        netns_wait(lambda name=name: httpx.get(f"{cluster.api_url(name)}/readyz",
                                               timeout=10).status_code == 200,
                   30, f"{name} ready again")
    # Each notification once per phone (the runs' stretch reminders come too, on their own).
    counts = Counter((m["to"], m["collapseId"]) for m in cluster.received()[before:])
    assert set(counts.values()) == {1}, counts
    emergencies = Counter(m["to"] for m in cluster.received()[before:]
                          if m["title"] == "Please get medical help today")
    assert emergencies == {t: 1 for _p, t in phones}, emergencies


def netns_wait(predicate, timeout: float, what: str, interval: float = 0.25):
    from tests.cluster.netns import wait_for

    return wait_for(predicate, timeout, what, interval=interval)
