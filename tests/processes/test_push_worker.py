"""push.deliver on a real worker and Redis: the same message delivered twice pushes once."""

from __future__ import annotations

import time
from contextlib import ExitStack

import pytest
from sqlalchemy import select

from service.domain import devices
from service.models import Delivery, Notification
from tests.conftest import PG_URL, REDIS_URL
from tests.fake_push import ACCESS_TOKEN, FakeExpo
from tests.nightly_stories import runner
from tests.processes.procs import wait_until
from tests.processes.test_nightly_worker import Stack
from tests.test_push_delivery import notify

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
