"""Worker metrics: tasks by outcome and duration, what they wrote and pushed, and queue lengths.

Task metrics are recorded by Celery signals in whichever process runs the task (a prefork child);
under `backstride worker` those children write to the multiprocess directory, and the main process
serves the sum of every child's files on BACKSTRIDE_WORKER_METRICS_PORT (started on worker_ready).
Queue lengths are read from the broker at scrape time, so they are current and cost nothing
between scrapes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from celery import Celery
from celery.signals import (
    task_failure,
    task_postrun,
    task_prerun,
    task_retry,
    task_success,
    worker_ready,
)
from prometheus_client import Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from service import prometheus
from service.logs import get_logger

TASKS = Counter("backstride_tasks", "Tasks finished, by task name and outcome "
                "(success, failure, retry).", ["task", "outcome"])
TASK_DURATION = Histogram("backstride_task_duration_seconds",
                          "Time a task ran, whatever its outcome.", ["task"],
                          buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800))
NOTIFICATIONS = Counter("backstride_notifications_written",
                        "Notifications written (new ones only; dedupe-skipped are not counted).",
                        ["kind"])
PUSHES = Counter("backstride_push_deliveries",
                 "Push attempts by provider and the delivery status they left: sent, pending "
                 "(will retry), gone (token dropped), dead (gave up).", ["provider", "status"])
log = get_logger(__name__)
_started: dict[str, float] = {}


def count_notifications(by_kind: Mapping[str, int]) -> None:
    """Count what a job wrote, as `{kind: n}` (what the domain's results already carry)."""
    for kind, count in by_kind.items():
        if count:
            NOTIFICATIONS.labels(kind).inc(count)


def count_push(provider: str, status: str) -> None:
    PUSHES.labels(provider, status).inc()


class QueueLengths(Collector):
    """`backstride_queue_length{queue}`: messages waiting, asked of the broker on each scrape.

    Through kombu, so it is LLEN on Redis (summed over priority lists) and a row count on the
    embedded SQLite broker. A broker that does not answer leaves the metric out of that scrape.
    """

    def __init__(self, app: Celery, queues: Iterable[str]) -> None:
        self.app = app
        self.queues = list(queues)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("backstride_queue_length",
                                   "Messages waiting in a broker queue.", labels=["queue"])
        try:
            with self.app.connection_for_read(connect_timeout=2) as connection:
                connection.ensure_connection(max_retries=1)
                channel = connection.default_channel
                for name in self.queues:
                    family.add_metric([name], channel.queue_declare(queue=name).message_count)
        except Exception as error:  # a scrape must answer even with the broker down
            log.warning("queue lengths unavailable", error=str(error))
            return
        yield family


def serve(app: Celery, port: int) -> None:
    """Serve every process's metrics, plus queue lengths, on `port` (all interfaces)."""
    registry = prometheus.scrape_registry()
    registry.register(QueueLengths(app, [queue.name for queue in app.conf.task_queues]))
    start_http_server(port, registry=registry)
    log.info("worker metrics served", port=port)


@worker_ready.connect
def _serve_on_ready(sender: Any = None, **_: Any) -> None:
    app = sender.app
    port = app.settings.worker_metrics_port
    if port:
        serve(app, port)


@task_prerun.connect
def _start_clock(task_id: str | None = None, **_: Any) -> None:
    if task_id:
        _started[task_id] = time.perf_counter()


@task_postrun.connect
def _stop_clock(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    started = _started.pop(task_id or "", None)
    if started is not None and task is not None:
        TASK_DURATION.labels(task.name).observe(time.perf_counter() - started)


@task_success.connect
def _succeeded(sender: Any = None, **_: Any) -> None:
    TASKS.labels(sender.name, "success").inc()


@task_failure.connect
def _failed(sender: Any = None, **_: Any) -> None:
    TASKS.labels(sender.name, "failure").inc()


@task_retry.connect
def _retried(sender: Any = None, **_: Any) -> None:
    TASKS.labels(sender.name, "retry").inc()
