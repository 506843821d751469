"""Metrics and logs of real processes: gunicorn's workers and Celery's pool children are separate
processes, and a scrape must add them all up (prometheus_client's multiprocess mode)."""

from __future__ import annotations

import json
import urllib.request
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import PG_URL, REDIS_URL
from tests.processes.procs import answers, free_port, http, start, stop, wait_until
from tests.processes.test_nightly_worker import Stack
from tests.support.nightly_stories import log_runs, runner

pytestmark = pytest.mark.processes


def scrape(url: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of a /metrics page, by name and labels; empty if it does not answer."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return {}
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def json_lines(text: str) -> list[dict]:
    """The log's JSON lines (Celery's banner and gunicorn's exit notes are plain text)."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_serve_adds_up_every_gunicorn_worker_and_starts_from_zero(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"BACKSTRIDE_DATA_DIR": str(tmp_path / "var"), "BACKSTRIDE_DATABASE_URL": "",
           "BACKSTRIDE_BROKER_URL": "", "BACKSTRIDE_SECRET_KEY": "", "BACKSTRIDE_LOG_FORMAT": ""}
    log = tmp_path / "serve.log"
    start(["db", "upgrade"], env, log).wait()

    counts = []
    for requests in (5, 2):  # a second start must not add the first one's samples
        api = start(["serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"], env, log)
        try:
            wait_until(lambda: answers(f"{base}/healthz"), 30, "the API", log)
            for _ in range(requests):
                assert http("GET", f"{base}/v1/me")[0] == 401
            samples = scrape(f"{base}/metrics")
            counts.append(value(samples, "backstride_http_requests_total", method="GET",
                                route="/v1/me", status="401"))
        finally:
            assert stop(api) == 0, log.read_text()[-3000:]

    assert counts == [5.0, 2.0]
    directory = tmp_path / "var" / "metrics" / f"api-127.0.0.1-{port}"
    assert {p.name.split("_")[0] for p in directory.iterdir()} >= {"counter", "histogram"}
    lines = json_lines(log.read_text())
    assert any(line["logger"] == "gunicorn.error" and "Booting worker" in line["event"]
               for line in lines), "gunicorn's own lines are JSON too"
    refused = [line for line in lines if line.get("route") == "/v1/me"]
    assert len(refused) == 7 and all(len(line["request_id"]) == 32 for line in refused)


@pytest.mark.skipif(not (PG_URL and REDIS_URL), reason="needs PostgreSQL and Redis")
def test_a_worker_serves_its_pool_childrens_counts_and_the_queue_lengths(tmp_path):
    port = free_port()
    spike = date(2026, 3, 20)
    with ExitStack() as cleanup:
        stack = Stack(cleanup, tmp_path, worker_metrics_port=str(port))
        with stack.session() as session:
            lee = runner(session, "lee@example.org")
            steady = [(spike - timedelta(days=d), 6000) for d in range(20, 3, -3)]
            log_runs(session, lee, [*steady, (spike, 12_000)])
            session.commit()
        # Not consuming `reminders`, so what is sent there waits in Redis to be counted.
        worker = start(["worker", "--concurrency=2", "-Q", "default,nightly,push",
                        "--without-heartbeat", "--without-gossip", "--without-mingle"],
                       stack.env, stack.log)
        cleanup.callback(stop, worker)
        wait_until(lambda: "ready." in stack.log.read_text(), 30, "the worker", stack.log)

        for _ in range(3):
            stack.celery.send_task("reminders.sweep")
        for _ in range(4):
            stack.celery.send_task("maintenance.purge_expired_tokens")
        morning = datetime.combine(spike + timedelta(days=1), datetime.min.time(), UTC)
        stack.celery.send_task("nightly.analyse_chunk", args=[[str(lee.id)], spike.isoformat(),
                                                               morning.replace(hour=4).isoformat()])
        url = f"http://127.0.0.1:{port}/metrics"

        def done() -> dict:
            samples = scrape(url)
            finished = (value(samples, "backstride_tasks_total",
                              task="maintenance.purge_expired_tokens", outcome="success") == 4
                        and value(samples, "backstride_tasks_total",
                                  task="nightly.analyse_chunk", outcome="success") == 1)
            return samples if finished else {}

        samples = wait_until(done, 60, "four purges and a chunk on the worker's metrics",
                             stack.log)

    assert value(samples, "backstride_notifications_written_total", kind="run_spike") == 1
    assert value(samples, "backstride_queue_length", queue="reminders") == 3
    assert value(samples, "backstride_queue_length", queue="nightly") == 0
    assert value(samples, "backstride_task_duration_seconds_count",
                 task="maintenance.purge_expired_tokens") == 4
    directory = tmp_path / "metrics" / f"worker-{port}"
    assert any(p.name.startswith("counter_") for p in directory.iterdir()), "children's files"
    purged = [line for line in json_lines(stack.log.read_text())
              if line["event"].startswith("purged expired tokens")]
    assert len(purged) == 4
    assert all(line["task_name"] == "maintenance.purge_expired_tokens" and line["task_id"]
               for line in purged)
