"""Hints to the workers: "this is ready now", sent by task name after a commit.

The database row is the work; a hint only saves the wait for the next sweep. So a hint that cannot
be sent (the broker is down) is logged and dropped, never retried in a request: the sweep that beat
runs every minute picks the work up (docs/design.md, "Principles": the API hands work to the
workers by writing rows).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import Celery

from service import queues
from service.config import Settings

log = logging.getLogger(__name__)


class Hints:
    """A publisher of task messages by name, made on first use and shared by the process."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._celery: Celery | None = None
        self._lock = threading.Lock()

    def _client(self) -> Celery:
        with self._lock:
            if self._celery is None:
                self._celery = Celery("backstride-hints", broker=self._settings.broker_url,
                                      set_as_current=False)
                redis = self._settings.broker_url.startswith(("redis://", "rediss://"))
                # Bounded: a hint must not hold a request up when the broker is unreachable.
                self._celery.conf.update(
                    broker_transport_options={"socket_connect_timeout": 1, "socket_timeout": 1}
                    if redis else {},
                    broker_connection_timeout=1, task_ignore_result=True)
            return self._celery

    def send(self, task: str, *args: Any) -> bool:
        """Publish `task` (one of `service.queues.SENT_BY_API`) on its queue; False if it failed."""
        if task not in queues.SENT_BY_API:
            raise ValueError(f"{task} is not a task the API sends (service.queues.SENT_BY_API)")
        try:
            self._client().send_task(task, args=list(args), queue=queues.queue_of(task),
                                     retry=False)
        except Exception as error:  # any broker failure: the sweep catches up
            log.warning("hint %s not sent (%s); the next sweep will pick the work up",
                        task, error)
            return False
        return True
