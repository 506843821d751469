"""Tasks run in this process (Celery's eager `apply`, which sends the same signals a worker does):
the task metrics move, what a task wrote and pushed is counted, and its log lines name it.

Eager mode is no test of a queue; tests/processes/test_worker_metrics.py does it with a real
worker, Redis and the multiprocess files.
"""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

import pytest
import structlog
from prometheus_client import REGISTRY

from service import logs
from service.db import make_engine, make_session_factory
from tests.support.fake_push import FakeExpo
from tests.support.nightly_stories import runner
from tests.workers.test_push_delivery import athlete_with, notify, provider
from tests.workers.test_reminders import END, a_run
from workers import database as task_database
from workers.tasks import nightly, push, reminders


@pytest.fixture
def factory(database, monkeypatch):
    """Tasks open their sessions on the test database."""
    engine = make_engine(database.url)
    made = make_session_factory(engine)
    monkeypatch.setattr(task_database, "_factory", lambda: made)
    yield made
    engine.dispose()


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_reminder_sweep_counts_as_a_success_and_its_reminder_by_kind(factory):
    with factory() as session:
        sam = runner(session, "sam@example.org")
        a_run(session, sam, END + timedelta(minutes=2))
    succeeded = sample("backstride_tasks_total", task="reminders.sweep", outcome="success")
    timed = sample("backstride_task_duration_seconds_count", task="reminders.sweep")
    written = sample("backstride_notifications_written_total", kind="stretch_reminder")

    result = reminders.sweep.apply(args=[(END + timedelta(minutes=10)).isoformat()])

    assert result.get() == {"reminders": 1, "evening_nudges": 0, "plan_notices": 0}
    assert sample("backstride_tasks_total", task="reminders.sweep",
                  outcome="success") == succeeded + 1
    assert sample("backstride_task_duration_seconds_count", task="reminders.sweep") == timed + 1
    assert sample("backstride_notifications_written_total",
                  kind="stretch_reminder") == written + 1


def test_a_task_that_raises_counts_as_a_failure(factory):
    failed = sample("backstride_tasks_total", task="nightly.analyse_chunk", outcome="failure")

    result = nightly.analyse_chunk.apply(args=[["not-an-athlete-id"], "2026-11-10"])

    assert result.failed()
    assert sample("backstride_tasks_total", task="nightly.analyse_chunk",
                  outcome="failure") == failed + 1


def test_pushes_are_counted_by_provider_and_what_became_of_them(factory, monkeypatch):
    with FakeExpo() as expo, factory() as session:
        athlete = athlete_with(session, "ExponentPushToken[phone]", "ExponentPushToken[gone]")
        notify(session, athlete)
        monkeypatch.setattr(push, "_providers", lambda: provider(expo))
        sent = sample("backstride_push_deliveries_total", provider="expo", status="sent")
        gone = sample("backstride_push_deliveries_total", provider="expo", status="gone")

        assert push.sweep.apply().get() == {"sent": 1, "gone": 1}

    assert sample("backstride_push_deliveries_total", provider="expo", status="sent") == sent + 1
    assert sample("backstride_push_deliveries_total", provider="expo", status="gone") == gone + 1


def test_a_tasks_log_lines_name_it_and_the_next_line_does_not(factory):
    stream = io.StringIO()
    handler = logs.configure("json", stream=stream)
    try:
        with factory() as session:
            a_run(session, runner(session, "kim@example.org"), END + timedelta(minutes=2))
        result = reminders.sweep.apply(args=[(END + timedelta(minutes=10)).isoformat()])
        logging.getLogger("after").info("between tasks")
    finally:
        logging.getLogger().removeHandler(handler)
        structlog.contextvars.clear_contextvars()

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    written = next(line for line in lines if line["event"].startswith("reminders written"))
    assert (written["task_id"], written["task_name"]) == (result.id, "reminders.sweep")
    after = next(line for line in lines if line["event"] == "between tasks")
    assert "task_id" not in after and "task_name" not in after
