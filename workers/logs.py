"""Celery's logging goes through `service.logs`, and every line of a task names the task.

Connecting to `setup_logging` tells Celery not to configure logging itself (worker and beat
alike); `worker_hijack_root_logger=False` in workers/app.py is the belt to these braces.
"""

from __future__ import annotations

from typing import Any

import structlog
from celery.signals import setup_logging, task_postrun, task_prerun

from service import logs
from service.config import Settings


@setup_logging.connect
def _configure(loglevel: int | str | None = None, **_: Any) -> None:
    """Fired in worker and beat processes, whose settings come from this same environment."""
    logs.configure(Settings.from_env().log_format, loglevel or "INFO")


@task_prerun.connect
def _bind_task(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    structlog.contextvars.bind_contextvars(task_id=task_id, task_name=getattr(task, "name", None))


@task_postrun.connect
def _unbind_task(**_: Any) -> None:
    """All of it, so nothing a task bound follows the pool process into its next task."""
    structlog.contextvars.clear_contextvars()
