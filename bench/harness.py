"""Shared pieces of the benchmarks: a scratch database, gunicorn processes, and wrk runs."""

from __future__ import annotations

import os
import platform
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psycopg

ADMIN_DSN = os.environ.get("BACKSTRIDE_BENCH_DATABASE_URL",
                           "postgresql://postgres@127.0.0.1:5432/postgres")
ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def scratch_database() -> Iterator[str]:
    name = f"backstride_bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    dsn = psycopg.conninfo.make_conninfo(ADMIN_DSN, dbname=name)
    try:
        yield dsn
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlalchemy_url(dsn: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    user = info.get("user", "postgres")
    return (f"postgresql+psycopg://{user}@{info.get('host', '127.0.0.1')}:"
            f"{info.get('port', 5432)}/{info['dbname']}")


def api_env(database_url: str) -> dict[str, str]:
    """Settings for the API under test. wrk talks from one address for a few accounts, so the
    rate limits stay on (their cost is part of what is measured) but too high ever to refuse;
    seeding signs up many accounts, so passwords are hashed cheaply."""
    return {
        "BACKSTRIDE_DATABASE_URL": database_url,
        "BACKSTRIDE_SECRET_KEY": "bench-" + "k" * 40,
        "BACKSTRIDE_DATA_DIR": "/tmp/backstride-bench",
        "BACKSTRIDE_ACCESS_TOKEN_TTL_S": "3600",
        "BACKSTRIDE_PASSWORD_PROFILE": "cheapest",
        "BACKSTRIDE_RATELIMIT_DEFAULT": "10000000 per minute",
        "BACKSTRIDE_RATELIMIT_AUTH": "10000000 per minute",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(app: str, env: dict[str, str], workers: int = 2) -> Iterator[str]:
    """The server's own output (the app's access and request logs) goes to a file, not to the
    benchmark's stdout, which is its table; the file's path is printed to stderr if it fails."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in finally)
        "w", prefix="bench-gunicorn-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--log-level", "warning"],
        env={**os.environ, **env}, cwd=ROOT,
        stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except urllib.error.HTTPError:
                break  # it answers (the baseline has no /healthz)
            except OSError:
                time.sleep(0.2)
        yield base
    except BaseException:
        print(f"server log: {log.name}", file=sys.stderr)
        raise
    else:
        os.unlink(log.name)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@dataclass(frozen=True)
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def wrk(url: str, lua: str, *, seconds: int, connections: int, threads: int = 1) -> WrkResult:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    script = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-{secrets.token_hex(4)}.lua"
    script.write_text(lua)
    try:
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
             "-s", str(script), url],
            capture_output=True, text=True, check=True, timeout=seconds + 60,
        ).stdout
    finally:
        script.unlink()
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)",
                                             out.split("Socket errors:")[-1])) \
        if "Socket errors" in out else 0
    return WrkResult(
        requests_per_s=float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),
        p50_ms=_ms(re.search(r"50%\s+([\d.]+\w+)", out)[1]),
        p99_ms=_ms(re.search(r"99%\s+([\d.]+\w+)", out)[1]),
        requests=int(re.search(r"(\d+) requests in", out)[1]),
        errors=errors,
    )


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def spread(values: list[float], digits: int = 2) -> str:
    """A figure over several runs as its mean and range: `0.41 (0.38 to 0.45, 3 runs)`."""
    mean = sum(values) / len(values)
    return (f"{mean:.{digits}f} ({min(values):.{digits}f} to {max(values):.{digits}f}, "
            f"{len(values)} runs)")


def machine() -> str:
    cpu = "unknown CPU"
    with suppress(OSError, StopIteration), open("/proc/cpuinfo") as info:
        cpu = next(line.split(":", 1)[1].strip() for line in info
                   if line.startswith("model name"))
    with psycopg.connect(ADMIN_DSN) as connection:
        server = connection.execute("SHOW server_version").fetchone()[0]
    return (f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
            f"PostgreSQL {server}, loopback")


UUID_LUA = r"""
local hex = "0123456789abcdef"
local function uuid()
  local t = {}
  for i = 1, 32 do
    local r = math.random(1, 16)
    t[i] = hex:sub(r, r)
  end
  local s = table.concat(t)
  return s:sub(1, 8) .. "-" .. s:sub(9, 12) .. "-4" .. s:sub(14, 16) .. "-a" ..
         s:sub(18, 20) .. "-" .. s:sub(21, 32)
end
local seeded = false
local function seed()
  if not seeded then
    math.randomseed(os.time() + math.floor(os.clock() * 1000000) +
                    tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
    seeded = true
  end
end
"""
