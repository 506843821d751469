"""Webhooks on a real worker and beat, Redis and PostgreSQL, to a local HTTPS receiver that
verifies every signature with the `standardwebhooks` library: a receiver down for a while, a
worker killed mid-delivery, an endpoint that answers 410. Nothing is lost; a repeat has the id
of the first."""

from __future__ import annotations

import signal
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from service.api import create_app
from service.models.webhooks import WebhookDelivery, WebhookEndpoint
from tests.conftest import PG_URL, REDIS_URL, make_settings
from tests.processes.procs import start, stop, wait_until
from tests.processes.test_nightly_worker import Stack
from tests.support.runners import run, sign_up
from tests.support.webhook_receiver import Receiver

pytestmark = [
    pytest.mark.processes,
    pytest.mark.skipif(not (PG_URL and REDIS_URL), reason="needs PostgreSQL and Redis"),
]
RECENT = (datetime.now(UTC) - timedelta(hours=3)).isoformat()


class Hooks:
    """The stack with beat sweeping every second, and the API in process."""

    def __init__(self, cleanup: ExitStack, tmp_path, receiver: Receiver, **settings: str):
        options = {"webhook_allow_loopback": "true", "webhook_ca_bundle": str(receiver.cert),
                   "webhook_sweep_interval_s": "1", "webhook_timeout_s": "2",
                   "webhook_stuck_after_s": "3", "webhook_concurrency": "2", **settings}
        self.stack = Stack(cleanup, tmp_path, **options)
        self.app = create_app(make_settings(self.stack.url, tmp_path, broker_url=REDIS_URL,
                                            **options))
        cleanup.callback(self.app.extensions["backstride"].engine.dispose)
        self.receiver, self.cleanup, self.tmp_path = receiver, cleanup, tmp_path
        self.runner = sign_up(self.app.test_client())

    def start(self) -> None:
        self.stack.start_worker()
        beat_log = self.tmp_path / "beat.log"
        beat = start(["beat"], self.stack.env, beat_log)
        self.cleanup.callback(stop, beat)

    def subscribe(self, path: str) -> dict:
        answer = self.runner.post("/v1/webhooks", json={"url": self.receiver.origin + path,
                                                        "event_types": ["checkin.created"]})
        assert answer.status_code == 201, answer.get_json()
        endpoint = answer.get_json()
        self.receiver.expect(path, endpoint["secret"])
        return endpoint

    def check_in(self, count: int) -> None:
        for number in range(count):
            assert self.runner.put(f"/v1/checkins/{uuid.uuid4()}", json=run(
                RECENT, distance_m=3000 + number)).status_code == 201

    def statuses(self) -> list[str]:
        with self.stack.session() as session:
            return sorted(session.scalars(select(WebhookDelivery.status)))


def test_a_receiver_down_for_a_while_gets_every_event_once_when_it_is_back(tmp_path):
    with ExitStack() as cleanup, Receiver(tmp_path) as receiver:
        hooks = Hooks(cleanup, tmp_path, receiver)
        hooks.subscribe("/hooks")
        hooks.start()
        receiver.answer = 503
        hooks.check_in(10)
        wait_until(lambda: receiver.requests >= 10, 30, "the first attempts", hooks.stack.log)
        receiver.answer = 200  # back before the second attempt, 5 s on

        wait_until(lambda: len(receiver.ids()) == 10, 60, "every event", hooks.stack.log)
        time.sleep(3)  # a repeat would arrive now

        assert receiver.problems == []
        assert sorted(receiver.ids().values()) == [1] * 10, "once per webhook-id"
        assert hooks.statuses() == ["delivered"] * 10


def test_a_worker_killed_mid_delivery_loses_nothing_and_repeats_with_the_same_id(tmp_path):
    # Two pool processes, each with two requests on the wire and two answered but not yet
    # committed at most.
    events, in_flight_at_most = 30, 8
    with ExitStack() as cleanup, Receiver(tmp_path, delay_s=0.3) as receiver:
        hooks = Hooks(cleanup, tmp_path, receiver)
        hooks.subscribe("/hooks")
        hooks.check_in(events)  # before any worker: all of it is waiting in the outbox
        hooks.start()
        wait_until(lambda: len(receiver.received) >= 6, 30, "delivery to start",
                   hooks.stack.log)
        stop(hooks.stack.worker, signal.SIGKILL)
        assert len(receiver.ids()) < events, "the kill came too late to test anything"

        hooks.stack.start_worker()  # its sweeps put back what the dead worker had begun
        wait_until(lambda: len(receiver.ids()) == events, 90, "every event", hooks.stack.log)
        time.sleep(4)

        assert receiver.problems == []
        assert hooks.statuses() == ["delivered"] * events
        repeats = [webhook_id for webhook_id, count in receiver.ids().items() if count > 1]
        assert len(repeats) <= in_flight_at_most, repeats


def test_an_endpoint_answering_410_is_turned_off_and_sent_nothing_more(tmp_path):
    with ExitStack() as cleanup, Receiver(tmp_path) as receiver:
        hooks = Hooks(cleanup, tmp_path, receiver)
        endpoint = hooks.subscribe("/hooks")
        receiver.answer = 410
        hooks.start()
        hooks.check_in(1)
        wait_until(lambda: hooks.runner.get(f"/v1/webhooks/{endpoint['id']}").get_json()[
            "disabled_at"], 30, "the endpoint turned off", hooks.stack.log)
        asked = receiver.requests

        hooks.check_in(3)
        time.sleep(4)  # four sweeps

        assert receiver.requests == asked == 1
        with hooks.stack.session() as session:
            assert session.scalar(select(WebhookEndpoint.disabled_reason)) == "gone"
            assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
