"""The Celery application, built from the same settings object as the API.

Run it through the CLI (`backstride worker`, `backstride beat`), which turns a bad setting into one
clear line; `celery -A workers.app` works too.
"""

from __future__ import annotations

from celery import Celery
from kombu import Queue

from service.config import Settings

# One queue per kind of work, so a slow night never holds up housekeeping (and vice versa).
QUEUES = ("default", "nightly", "reminders", "push")
ROUTES = {
    "push.*": {"queue": "push"},
    "nightly.*": {"queue": "nightly"},
    "reminders.*": {"queue": "reminders"},
    "maintenance.*": {"queue": "default"},
}
TASK_MODULES = ("workers.tasks.maintenance", "workers.tasks.nightly", "workers.tasks.reminders",
                "workers.tasks.push")
# Longer than any countdown or retry delay we use: a Redis message not acknowledged within this
# time is handed to another worker (celery #7651: set it in every transport option, not one).
VISIBILITY_TIMEOUT_S = 2 * 3600


def create_celery(settings: Settings) -> Celery:
    app = Celery("backstride", include=list(TASK_MODULES))
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
        task_default_queue="default",
        task_routes=ROUTES,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        timezone="UTC",
        enable_utc=True,
        beat_schedule_filename=str(settings.beat_schedule_file),
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
            "nightly-dispatch": {
                "task": "nightly.dispatch",
                "schedule": float(settings.dispatch_interval_s),
                "options": {"expires": float(settings.dispatch_interval_s)},
            },
        },
    )
    app.backstride_settings = settings  # type: ignore[attr-defined]
    return app


app = create_celery(Settings.from_env())
