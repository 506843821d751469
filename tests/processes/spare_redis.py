"""A throwaway redis-server that a test may kill and start again.

The shared Redis serves every other test, so faults are played out on a Redis of our own: on a free
loopback port, keeping nothing on disk (as in production here), so that a restart comes back empty.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType

import redis

from tests.processes.procs import free_port, wait_until

REDIS_SERVER = "/usr/bin/redis-server"
MARKER = "backstride-test:set-before-the-restart"


class SpareRedis:
    """One redis-server on one port, for the life of a test; stopping it loses everything."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.log = workdir / f"redis-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0  # time.monotonic() when it last answered PING

    def start(self) -> None:
        """Start it (empty: nothing is saved, nothing loaded) and wait until it answers."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            # --dir: were anything written, it lands in the test's directory, not the cwd.
            self.process = subprocess.Popen(
                [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no", "--dir", str(self.workdir),
                 "--daemonize", "no", "--protected-mode", "yes"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(self.answers, 10, f"redis-server on port {self.port}", self.log,
                   interval=0.05)
        self.started_at = time.monotonic()

    def stop(self, sig: int = signal.SIGKILL) -> None:
        """Stop it as a crash would (SIGKILL by default); whatever it held is gone."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def answers(self) -> bool:
        client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def mark(self) -> None:
        """Leave a key behind, to show after a restart that nothing survived it."""
        client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
        try:
            client.set(MARKER, "1")
        finally:
            client.close()

    def marked(self) -> bool:
        client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.exists(MARKER))
        finally:
            client.close()

    def __enter__(self) -> SpareRedis:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()
