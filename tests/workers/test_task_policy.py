"""Every task is registered the one way: named, routed, time-limited, re-queued, retried."""

from __future__ import annotations

from workers.app import QUEUES, RETRY_POLICY, ROUTES, VISIBILITY_TIMEOUT_S, app

app.loader.import_default_modules()  # what a worker does at start: the task modules
OURS = sorted(name for name in app.tasks if not name.startswith("celery."))


def test_every_task_has_a_queue_a_time_limit_and_the_retry_policy():
    assert OURS, "the task modules were not imported"
    for name in OURS:
        task = app.tasks[name]
        route = ROUTES[name.split(".")[0] + ".*"]
        assert route["queue"] in QUEUES, name
        assert task.time_limit and task.time_limit > 0, f"{name} has no time limit"
        assert task.acks_late and task.reject_on_worker_lost, f"{name} is acknowledged early"
        assert task.autoretry_for == RETRY_POLICY["autoretry_for"], name
        assert task.retry_backoff and task.retry_jitter, f"{name} retries without backoff"


def test_no_retry_waits_as_long_as_the_broker_takes_to_hand_a_message_to_another_worker():
    # celery #2599: a delay past the visibility timeout is redelivered again and again.
    assert RETRY_POLICY["retry_backoff_max"] < VISIBILITY_TIMEOUT_S
    for name in OURS:
        assert app.tasks[name].time_limit < VISIBILITY_TIMEOUT_S, name
