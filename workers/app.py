"""The Celery application, built from the same settings object as the API.

Run it through the CLI (`backstride worker`, `backstride beat`), which turns a bad setting into one
clear line; `celery -A workers.app` works too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import Celery
from kombu import Queue
from kombu.exceptions import OperationalError as BrokerUnreachable
from sqlalchemy.exc import OperationalError

from service import queues
from service.config import Settings
from workers import logs as _logs  # noqa: F401  connects Celery's logging signals
from workers import metrics as _metrics  # noqa: F401  connects the task metrics' signals

# Queues and routes come from the one table the API reads too (service.queues).
QUEUES = queues.QUEUES
ROUTES = {f"{prefix}.*": {"queue": queue} for prefix, queue in queues.QUEUE_OF_PREFIX.items()}
TASK_MODULES = ("workers.tasks.maintenance", "workers.tasks.nightly", "workers.tasks.reminders",
                "workers.tasks.push", "workers.tasks.imports", "workers.tasks.webhooks")
# Longer than any countdown or retry delay we use: a Redis message not acknowledged within this
# time is handed to another worker (celery #7651: set it in every transport option, not one).
VISIBILITY_TIMEOUT_S = 2 * 3600
# A task that fails because PostgreSQL or the broker is briefly gone tries again, backing off
# exponentially with full jitter (a random wait of up to 5, 10, ... 160 s, 6 times; the 600 s cap
# is a guard should max_retries grow); any other error is a bug
# and fails at once. Beat's next tick sends every sweep again anyway: the retry only shortens the
# wait after an outage. Every delay stays far below VISIBILITY_TIMEOUT_S (celery #2599).
RETRY_ON = (OperationalError, BrokerUnreachable, ConnectionError)
RETRY_POLICY: dict[str, Any] = {"autoretry_for": RETRY_ON, "retry_backoff": 5,
                                "retry_backoff_max": 600, "retry_jitter": True, "max_retries": 6}


class BackstrideCelery(Celery):
    """The Celery app with the settings it was built from, for tasks, beat and metrics to read.

    A subclass rather than an attribute set on a plain Celery app, so the type says it is there.
    """

    def __init__(self, settings: Settings, **options: Any) -> None:
        super().__init__("backstride", include=list(TASK_MODULES), **options)
        self.settings = settings


def create_celery(settings: Settings) -> BackstrideCelery:
    app = BackstrideCelery(settings)
    # The SQLAlchemy transport hands its options to create_engine(), so only Redis gets these.
    redis = settings.broker_url.startswith(("redis://", "rediss://"))
    transport_options = {"visibility_timeout": VISIBILITY_TIMEOUT_S} if redis else {}
    app.conf.update(
        broker_url=settings.broker_url,
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        result_backend=None,
        task_ignore_result=True,
        task_queues=[Queue(name) for name in QUEUES],
        task_default_queue=queues.DEFAULT_QUEUE,
        task_routes=ROUTES,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # On a broker reconnect, let a running task finish: its work is in the database, and
        # cancelling it would only make another worker redo it.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_hijack_root_logger=False,
        timezone="UTC",
        enable_utc=True,
        beat_schedule_filename=str(settings.beat_schedule_file),
        # Only the beat holding the lock sends anything (workers/beat.py).
        beat_scheduler="workers.beat:SingleBeatScheduler",
        beat_schedule={
            "purge-expired-tokens": {
                "task": "maintenance.purge_expired_tokens",
                "schedule": float(settings.purge_interval_s),
                "options": {"expires": float(settings.purge_interval_s)},
            },
            # Every few minutes in UTC, never a local-time crontab (celery #1604): the planner
            # asks which athletes' local night has passed.
            "push-sweep": {
                "task": "push.sweep",
                "schedule": float(settings.reminder_interval_s),
                "options": {"expires": float(settings.reminder_interval_s)},
            },
            "reminders-sweep": {
                "task": "reminders.sweep",
                "schedule": float(settings.reminder_interval_s),
                "options": {"expires": float(settings.reminder_interval_s)},
            },
            "imports-sweep": {
                "task": "imports.sweep",
                "schedule": float(settings.reminder_interval_s),
                "options": {"expires": float(settings.reminder_interval_s)},
            },
            # Due webhook deliveries: retries wait in the database, this finds them.
            "webhooks-sweep": {
                "task": "webhooks.sweep",
                "schedule": float(settings.webhook_sweep_interval_s),
                "options": {"expires": float(settings.webhook_sweep_interval_s)},
            },
            "nightly-dispatch": {
                "task": "nightly.dispatch",
                "schedule": float(settings.dispatch_interval_s),
                "options": {"expires": float(settings.dispatch_interval_s)},
            },
        },
    )
    return app


app = create_celery(Settings.from_env())


def job(name: str, *, time_limit: int, soft_time_limit: int | None = None) -> Callable:
    """Register a task the one way we do: a name, a hard time limit, acknowledged after it ran,
    re-queued if its worker dies, retried on a passing outage. Every task must be idempotent."""
    return app.task(name=name, acks_late=True, reject_on_worker_lost=True, time_limit=time_limit,
                    soft_time_limit=soft_time_limit, **RETRY_POLICY)
