"""push.deliver on a real worker and Redis: pushed once per device, and pushed at once when the
triage says it cannot wait."""

from __future__ import annotations

import signal
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from service.api import create_app
from service.domain.notify import devices
from service.models import Delivery, Notification
from tests.conftest import PG_URL, REDIS_URL, make_settings
from tests.processes.procs import stop, wait_until
from tests.processes.test_nightly_worker import Stack
from tests.support.fake_push import ACCESS_TOKEN, FakeExpo
from tests.support.nightly_stories import runner
from tests.support.runners import pain, sign_up
from tests.workers.test_push_delivery import notify

pytestmark = [
    pytest.mark.processes,
    pytest.mark.skipif(not (PG_URL and REDIS_URL), reason="needs PostgreSQL and Redis"),
]


def test_the_same_deliver_message_twice_pushes_once_per_device(tmp_path):
    with ExitStack() as cleanup, FakeExpo() as expo:
        stack = Stack(cleanup, tmp_path, expo_push_url=expo.url, expo_access_token=ACCESS_TOKEN)
        with stack.session() as session:
            athlete = runner(session, "pushed@example.org")
            for token in ("ExponentPushToken[phone]", "ExponentPushToken[watch]"):
                devices.register(session, athlete, None, kind="expo", address=token)
            session.commit()
            notify(session, athlete)
            notification_id = str(session.scalar(select(Notification.id)))
        stack.start_worker()

        for _ in range(2):  # a redelivered message, or a second enqueue
            stack.celery.send_task("push.deliver", args=[notification_id])
        wait_until(lambda: len(expo.received) >= 2, 30, "two pushes", stack.log)
        time.sleep(2)  # let the second copy run: it must find nothing left to claim

        assert expo.problems == []
        assert sorted(m["to"] for m in expo.received) == ["ExponentPushToken[phone]",
                                                          "ExponentPushToken[watch]"]
        with stack.session() as session:
            assert sorted(session.scalars(select(Delivery.status))) == ["sent", "sent"]


def test_an_emergency_check_in_reaches_the_phone_without_waiting_for_a_sweep(tmp_path):
    """API in process, a real worker on Redis, no beat: only the API's hint can push it."""
    with ExitStack() as cleanup, FakeExpo() as expo:
        stack = Stack(cleanup, tmp_path, expo_push_url=expo.url, expo_access_token=ACCESS_TOKEN)
        stack.start_worker()
        app = create_app(make_settings(stack.url, tmp_path, broker_url=REDIS_URL,
                                       expo_push_url=expo.url))
        cleanup.callback(app.extensions["backstride"].engine.dispose)
        dee = sign_up(app.test_client())
        assert dee.post("/v1/devices", json={
            "kind": "expo", "token": "ExponentPushToken[dee]"}).status_code in (200, 201)

        checkin = dee.put(f"/v1/checkins/{uuid.uuid4()}", json=pain(
            (datetime.now(UTC) - timedelta(minutes=1)).isoformat(), severity=5,
            answers={"bladder_bowel_change": True})).get_json()
        assert checkin["triage"]["tier"] == "emergency"

        (message,) = wait_until(lambda: expo.received, 30, "the push", stack.log)
        assert expo.problems == []
        assert message["to"] == "ExponentPushToken[dee]"
        assert message["title"] == "Please get medical help today"


def test_a_worker_killed_mid_fan_out_resends_at_most_what_was_in_flight(tmp_path):
    """40 runners, a slow push service, SIGKILL halfway: every delivery ends sent exactly once."""
    runners, in_flight_at_most = 40, 2  # one message per pool process can be on the wire
    with ExitStack() as cleanup, FakeExpo(delay_s=0.1) as expo:
        stack = Stack(cleanup, tmp_path, expo_push_url=expo.url, expo_access_token=ACCESS_TOKEN,
                      push_stuck_after_s="2", push_timeout_s="1")
        with stack.session() as session:
            for number in range(runners):
                athlete = runner(session, f"fan-{number}@example.org")
                devices.register(session, athlete, None, kind="expo",
                                 address=f"ExponentPushToken[fan-{number}]")
                session.commit()
                notify(session, athlete)
        stack.start_worker()

        for _ in range(2):  # two sweeps at once, as two beat ticks might
            stack.celery.send_task("push.sweep")
        wait_until(lambda: len(expo.received) >= runners // 3, 30, "the fan-out to start",
                   stack.log)
        stop(stack.worker, signal.SIGKILL)
        pushed_before_kill = len(expo.received)
        assert pushed_before_kill < runners, "the kill came too late to test anything"

        stack.start_worker()  # the next sweep puts back what the dead worker had claimed
        time.sleep(2.5)
        stack.celery.send_task("push.sweep")
        wait_until(lambda: {m["to"] for m in expo.received} >= tokens(runners), 60,
                   "every runner's push", stack.log)
        time.sleep(1)  # anything sent twice would arrive now

        assert expo.problems == []
        with stack.session() as session:
            assert sorted(set(session.scalars(select(Delivery.status)))) == ["sent"]
            assert session.scalar(select(func.count()).select_from(Delivery)) == runners
        counts = Counter(m["to"] for m in expo.received)
        again = [token for token, count in counts.items() if count > 1]
        assert len(again) <= in_flight_at_most, f"sent twice: {again}"
        for message in expo.received:  # a repeat replaces the first on the phone
            assert message["collapseId"]


def tokens(runners: int) -> set[str]:
    return {f"ExponentPushToken[fan-{number}]" for number in range(runners)}
