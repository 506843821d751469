"""Prometheus plumbing shared by the API and the workers: where metrics live, and how to scrape.

gunicorn and Celery's prefork pool run requests and tasks in child processes, each with its own
memory. prometheus_client's multiprocess mode has every process write its samples to files in
`PROMETHEUS_MULTIPROC_DIR`, and a scrape sums the files. That variable must be set before
prometheus_client is imported, so the CLI sets it (`multiprocess_env`) before it starts gunicorn
or imports the Celery app. Without it (tests, `flask run`) the ordinary in-memory registry is used.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

# prometheus_client is imported inside the functions below: the CLI imports this module before it
# has set PROMETHEUS_MULTIPROC_DIR, and prometheus_client reads that variable once, on import.
ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir(data_dir: Path, name: str) -> Path:
    """A directory under the data dir named after what owns it (e.g. `api-0.0.0.0-8000`).

    Named by the bind address or metrics port, which no two live processes on a machine can
    share, so clearing it at start-up never wipes another running process's samples.
    """
    return data_dir / "metrics" / re.sub(r"[^A-Za-z0-9.]+", "-", name).strip("-")


def multiprocess_env(directory: Path) -> dict[str, str]:
    """Empty `directory` (samples of a previous run would add to this one's) and name it.

    Returns the environment to start the processes with; the caller also sets it on itself when
    it imports prometheus_client afterwards in the same process.
    """
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return {ENV: str(directory)}


def scrape_registry() -> CollectorRegistry:
    """The registry to expose: every process's files in multiprocess mode, else this process's."""
    from prometheus_client import REGISTRY, CollectorRegistry, multiprocess

    path = os.environ.get(ENV)
    if not path:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=path)
    return registry


def mark_dead(pid: int) -> None:
    """Drop a dead process's live-gauge files (counters and histograms stay: totals never shrink).

    A no-op outside multiprocess mode.
    """
    if os.environ.get(ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
