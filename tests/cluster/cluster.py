"""Backstride spread over hosts on one machine: each host a network namespace on one bridge.

    with Cluster(logs) as cluster: ...      # in tests (tests/cluster/test_faults.py)
    python -m tests.cluster                 # `make cluster`: build it, print it, hold until ^C

The hosts, each with its own 10.x address (netns.py says how they are wired):

| host | runs |
|---|---|
| data | PostgreSQL (initdb into a temporary directory) and Redis, each on a port and an |
|      | address of its own, so that a partition can cut one off without the other |
| api1, api2 | `backstride serve` (gunicorn) |
| worker1..3 | `backstride worker` (prefork, two processes) |
| beat1, beat2 | `backstride beat`: one schedules, the other stands by on the PostgreSQL lock |
| push | the local Expo fake (tests/support/fake_push.py) |

Never the machine's shared PostgreSQL or Redis: those listen on the root namespace's loopback,
which no host can reach. Everything started is torn down on exit, whatever failed and wherever:
every process in every namespace killed by pid, the namespaces and the bridge deleted, the
temporary directory removed; an `atexit` hook does the same should the `with` never end, and the
next cluster removes what a cluster killed outright left behind.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg
import redis

from tests.cluster import netns
from tests.processes.spare_postgres import find_bindir
from tests.support.fake_push import ACCESS_TOKEN

ROOT = Path(__file__).resolve().parents[2]
PG_PORT = 6543
REDIS_PORT = 6390
API_PORT = 8000
PUSH_PORT = 9000
SECRET = "cluster-secret-" + "c" * 40
START_TIMEOUT_S = 90

# The settings every host shares. Sweeps every 2 s so that faults play out in seconds; the
# nightly planner is left to the tests, which hand it the simulated night it should plan.
SETTINGS = {
    "PASSWORD_PROFILE": "cheapest",
    "RATELIMIT_DEFAULT": "100000 per minute",
    "RATELIMIT_AUTH": "100000 per minute",
    "REMINDER_INTERVAL_S": "2",
    "DISPATCH_INTERVAL_S": "3600",
    "PURGE_INTERVAL_S": "3600",
    "NIGHTLY_CHUNK_SIZE": "500",
    # Five times the push timeout: a live worker's push, slowed by a loaded machine, is not
    # mistaken for a dead one's (at 3 s one was, and went out twice).
    "PUSH_STUCK_AFTER_S": "10",
    "PUSH_TIMEOUT_S": "2",
    "EXPO_ACCESS_TOKEN": ACCESS_TOKEN,
}


@dataclass
class Service:
    """How to start one process on a host again, and what in its log says it is ready."""

    host: netns.Host
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    ready: str | None = None  # a line in the log that says it is up, written after `started`
    started_at_byte: int = 0

    def start(self) -> None:
        self.started_at_byte = self.log.stat().st_size if self.log.exists() else 0
        self.host.spawn(self.argv, self.env, self.log, cwd=ROOT)

    def new_log(self) -> str:
        if not self.log.exists():
            return ""
        with self.log.open("rb") as handle:
            handle.seek(self.started_at_byte)
            return handle.read().decode(errors="replace")

    def is_ready(self) -> bool:
        return self.ready is None or self.ready in self.new_log()


@dataclass
class Cluster:
    logs: Path | None = None
    workers: int = 3
    apis: int = 2
    beats: int = 2
    push_delay_s: float = 0.1
    worker_concurrency: int = 2
    api_processes: int = 2
    settings: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.hosts: dict[str, netns.Host] = {}
        self.services: dict[str, list[Service]] = {}
        self._torn_down = True
        self._tmp: Path | None = None
        self.bridge: netns.Bridge | None = None

    # --- addresses and clients, seen from the operator's seat on the bridge -----------------

    @property
    def postgres_address(self) -> str:
        return self.hosts["data"].addresses[0]

    @property
    def redis_address(self) -> str:
        return self.hosts["data"].addresses[1]

    @property
    def database_url(self) -> str:
        return f"postgresql://postgres@{self.postgres_address}:{PG_PORT}/postgres"

    @property
    def broker_url(self) -> str:
        return f"redis://{self.redis_address}:{REDIS_PORT}/0"

    @property
    def push_base(self) -> str:
        return f"http://{self.hosts['push'].address}:{PUSH_PORT}"

    def api_url(self, name: str) -> str:
        return f"http://{self.hosts[name].address}:{API_PORT}"

    @property
    def api_names(self) -> list[str]:
        return [f"api{n}" for n in range(1, self.apis + 1)]

    @property
    def worker_names(self) -> list[str]:
        return [f"worker{n}" for n in range(1, self.workers + 1)]

    def env(self, host: str) -> dict[str, str]:
        """The environment of a Backstride process on `host`: nothing inherited about us."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("BACKSTRIDE_")}
        values = {**SETTINGS, **self.settings,
                  "DATABASE_URL": self.database_url, "BROKER_URL": self.broker_url,
                  "SECRET_KEY": SECRET, "DATA_DIR": str(self.tmp / "hosts" / host),
                  "EXPO_PUSH_URL": f"{self.push_base}/--/api/v2/push/send"}
        return {**base, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
                **{f"BACKSTRIDE_{k}": v for k, v in values.items()}}

    @property
    def tmp(self) -> Path:
        assert self._tmp is not None, "the cluster is not up"
        return self._tmp

    def received(self) -> list[dict[str, Any]]:
        """Every message the push fake has received, in order."""
        with urllib.request.urlopen(f"{self.push_base}/_received", timeout=5) as response:
            import json

            body = json.loads(response.read())
        assert body["problems"] == [], body["problems"]
        return body["received"]

    def log(self, host: str, index: int = 0) -> Service:
        return self.services[host][index]

    # --- building and tearing down ----------------------------------------------------------

    def __enter__(self) -> Cluster:
        netns.require_tools()
        netns.remove_stale()
        self._torn_down = False
        atexit.register(self.teardown)
        try:
            self._build()
        except BaseException:
            self.teardown()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.teardown()

    def _build(self) -> None:
        self._tmp = Path(tempfile.mkdtemp(prefix="backstride-cluster-"))
        self.tmp.chmod(0o755)  # the postgres user must reach its data directory inside
        logs = self.logs or self.tmp / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self.logs = logs
        tag = f"{netns.PREFIX}{os.getpid()}"
        self.bridge = netns.Bridge(tag, netns.free_subnet())
        self.bridge.create()
        layout = [("data", 10, 1), ("push", 50, 0)]
        layout += [(name, 20 + n, 0) for n, name in enumerate(self.api_names, 1)]
        layout += [(name, 30 + n, 0) for n, name in enumerate(self.worker_names, 1)]
        layout += [(f"beat{n}", 40 + n, 0) for n in range(1, self.beats + 1)]
        for name, index, extra in layout:
            host = netns.Host(self.bridge, tag, index, name, extra_addresses=extra)
            self.hosts[name] = host
            host.create()
            (self.tmp / "hosts" / name).mkdir(parents=True)
        self._start_data()
        self._migrate()
        py = [sys.executable, "-m"]
        self._add("push", "push", [*py, "tests.cluster.push_host", self.hosts["push"].address,
                                   str(PUSH_PORT), "--delay-s", str(self.push_delay_s)],
                  os.environ | {"PYTHONPATH": str(ROOT)}, ready="push fake ready")
        for name in self.worker_names:
            self._add(name, "worker", [*py, "service.cli", "worker",
                                       f"--concurrency={self.worker_concurrency}",
                                       "--without-heartbeat", "--without-mingle",
                                       "-n", f"{name}@cluster"], self.env(name), ready="ready.")
        for name in self.api_names:
            bind = f"{self.hosts[name].address}:{API_PORT}"
            self._add(name, "api", [*py, "service.cli", "serve", "--bind", bind,
                                    "--workers", str(self.api_processes)], self.env(name))
        for service in [s for group in self.services.values() for s in group]:
            service.start()
        # The first beat takes the lock before the second starts, so which one is active is known.
        for n in range(1, self.beats + 1):
            name = f"beat{n}"
            self._add(name, "beat", [*py, "service.cli", "beat"], self.env(name),
                      ready="beat lock acquired" if n == 1 else "standing by")
            self.services[name][0].start()
            self.wait_ready(name)
        for name in [*self.worker_names, *self.api_names, "push"]:
            self.wait_ready(name)

    def _add(self, host: str, name: str, argv: list[str], env: dict[str, str],
             ready: str | None = None) -> Service:
        assert self.logs is not None
        service = Service(self.hosts[host], name, argv, env, self.logs / f"{host}-{name}.log",
                          ready)
        self.services.setdefault(host, []).append(service)
        return service

    def _start_data(self) -> None:
        data = self.hosts["data"]
        bindir = find_bindir()
        pgdata = self.tmp / "pgdata"
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if as_postgres:
            owner = pwd.getpwnam("postgres")
            pgdata.mkdir()
            os.chown(pgdata, owner.pw_uid, owner.pw_gid)
        initdb = subprocess.run([*as_postgres, str(bindir / "initdb"), "-D", str(pgdata),
                                 "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"],
                                capture_output=True, text=True, cwd=self.tmp, check=False)
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{initdb.stdout}{initdb.stderr}")
        with (pgdata / "postgresql.conf").open("a") as conf:
            conf.write(f"listen_addresses = '{self.postgres_address}'\nport = {PG_PORT}\n"
                       f"unix_socket_directories = '{pgdata}'\nfsync = off\n"
                       "full_page_writes = off\nsynchronous_commit = off\n"
                       "max_connections = 200\n")
        with (pgdata / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {self.bridge.subnet} trust\n")
        assert self.logs is not None
        postgres = Service(data, "postgres", [*as_postgres, str(bindir / "postgres"),
                                              "-D", str(pgdata)],
                           dict(os.environ), self.logs / "data-postgres.log")
        redis_server = Service(data, "redis", [
            shutil.which("redis-server") or "/usr/bin/redis-server",
            "--bind", self.redis_address, "--port", str(REDIS_PORT), "--save", "",
            "--appendonly", "no", "--protected-mode", "no", "--dir", str(self.tmp)],
            dict(os.environ), self.logs / "data-redis.log")
        self.services["data"] = [postgres, redis_server]
        postgres.start()
        redis_server.start()
        netns.wait_for(self._postgres_answers, START_TIMEOUT_S, "PostgreSQL on the data host")
        netns.wait_for(self._redis_answers, START_TIMEOUT_S, "Redis on the data host")

    def _postgres_answers(self) -> bool:
        try:
            with psycopg.connect(self.database_url, connect_timeout=2) as connection:
                connection.execute("SELECT 1")
            return True
        except psycopg.OperationalError:
            return False

    def _redis_answers(self) -> bool:
        client = redis.Redis.from_url(self.broker_url, socket_timeout=1,
                                      socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def _migrate(self) -> None:
        from service.db import migrate

        migrate.upgrade(self.database_url)

    def wait_ready(self, host: str, timeout: float = START_TIMEOUT_S) -> None:
        for service in self.services[host]:
            check = service.is_ready
            if service.name == "api":
                url = f"{self.api_url(host)}/healthz"
                check = lambda url=url: _answers(url)  # noqa: E731
            try:
                netns.wait_for(check, timeout, f"{service.name} on {host}")
            except TimeoutError as error:
                raise TimeoutError(f"{error}\n{service.new_log()[-3000:]}") from None

    # --- faults ------------------------------------------------------------------------------

    def power_off(self, host: str) -> None:
        """Every process on the host SIGKILLed at once, as when it loses power."""
        self.hosts[host].power_off()

    def power_on(self, host: str, wait: bool = True) -> None:
        """Start the host's processes again, as its init system would after a reboot."""
        assert not self.hosts[host].processes, f"{host} is still running"
        for service in self.services[host]:
            service.start()
        if wait:
            self.wait_ready(host)

    def teardown(self) -> None:
        """Everything gone; safe to call twice, and never raises over a half-built cluster."""
        if self._torn_down:
            return
        self._torn_down = True
        for host in self.hosts.values():
            try:
                host.delete()
            except Exception as error:  # keep removing the rest
                print(f"cluster teardown: {host.name}: {error}", file=sys.stderr)
        if self.bridge is not None:
            self.bridge.delete()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
        atexit.unregister(self.teardown)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False
