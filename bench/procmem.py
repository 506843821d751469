"""Resident memory of gunicorn workers, read from /proc while a benchmark runs (Linux only)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit


def gunicorn_workers(base: str) -> list[int]:
    """The worker pids of the gunicorn bound to `base` (started by bench.harness.gunicorn).

    Workers are forks of the master with its command line, so both name the bind address; the
    workers are the ones whose parent also does.
    """
    bind = urlsplit(base).netloc
    serving = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if "gunicorn" in cmdline and bind in cmdline:
            serving[int(entry.name)] = ppid
    workers = sorted(pid for pid, ppid in serving.items() if ppid in serving)
    if not workers:
        raise RuntimeError(f"no gunicorn workers found for {base}")
    return workers


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


class Sampler:
    """Samples each pid's RSS every `interval_s` until stopped: (seconds since start, MB)."""

    def __init__(self, pids: list[int], interval_s: float) -> None:
        self.pids, self.interval_s = pids, interval_s
        self._samples: dict[int, list[tuple[float, float]]] = {pid: [] for pid in pids}
        self._stop = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        while not self._stop.is_set():
            at = time.monotonic() - started
            for pid in self.pids:
                if os.path.exists(f"/proc/{pid}"):
                    self._samples[pid].append((at, rss_mb(pid)))
            self._stop.wait(self.interval_s)

    def stop(self) -> None:
        self._stop.set()

    def series(self) -> dict[int, list[tuple[float, float]]]:
        return {pid: samples for pid, samples in self._samples.items() if samples}
