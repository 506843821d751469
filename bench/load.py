"""A bounded load test of `PUT /v1/checkins/{id}` on loopback: 80 % of the maximum for 60 s.

    python bench/load.py [--probe-seconds 10] [--seconds 60] [--share 0.8]

1. The maximum: wrk, closed loop (8 connections), new check-ins spread over 50 athletes, as
   bench/checkins.py measures it.
2. The load: the same requests at `share` of that maximum for `--seconds`, paced by a schedule in
   the wrk script (each request takes the next slot of a fixed interval; a connection that falls
   behind sends at once but never ahead of the schedule), so the rate is bounded, not a burst.
   Errors are every non-2xx answer and every socket error; the target is zero.
3. Memory: the resident set of each gunicorn worker, read from /proc every `--sample-s` seconds
   during the load. "Flat" compares each worker's mean of the first 10 s with its last 10 s.

Gunicorn with 2 sync workers on a scratch PostgreSQL database. Nothing leaves loopback, and every
run is bounded in time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.checkins import sign_in, single_lua
from bench.harness import (
    WrkResult,
    api_env,
    gunicorn,
    machine,
    scratch_database,
    sqlalchemy_url,
    wrk,
)
from bench.procmem import Sampler, gunicorn_workers
from service.db import migrate

PACE_LUA = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_usec; } bench_timeval;
int gettimeofday(bench_timeval *tv, void *tz);
]]
local tv = ffi.new("bench_timeval")
local function now_ms()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000 + tonumber(tv.tv_usec) / 1000
end
local interval_ms = 1000 / RATE
local start, slot = nil, 0
function delay()
  local now = now_ms()
  start = start or now
  slot = slot + 1
  local wait = start + slot * interval_ms - now
  if wait < 0 then return 0 end
  return wait
end
"""


def paced_lua(tokens: list[str], rate: float) -> str:
    return single_lua("/v1/checkins/", tokens) + PACE_LUA.replace("RATE", f"{rate:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probe-seconds", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--share", type=float, default=0.8)
    parser.add_argument("--athletes", type=int, default=50)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--sample-s", type=float, default=2.0)
    options = parser.parse_args()

    with scratch_database() as dsn:
        url = sqlalchemy_url(dsn)
        migrate.upgrade(url)
        with gunicorn("service.api.wsgi:app", api_env(url)) as api:
            tokens = [sign_in(api, n) for n in range(options.athletes)]
            maximum = wrk(api, single_lua("/v1/checkins/", tokens),
                          seconds=options.probe_seconds, connections=8)
            rate = maximum.requests_per_s * options.share
            sampler = Sampler(gunicorn_workers(api), options.sample_s)
            thread = threading.Thread(target=sampler.run, daemon=True)
            thread.start()
            started = time.monotonic()
            load = wrk(api, paced_lua(tokens, rate), seconds=options.seconds,
                       connections=options.connections)
            elapsed = time.monotonic() - started
            sampler.stop()
            thread.join()
    report(maximum, rate, load, sampler, options, elapsed)


def report(maximum: WrkResult, rate: float, load: WrkResult, sampler: Sampler,
           options: argparse.Namespace, elapsed: float) -> None:
    print(f"machine: {machine()}")
    print("gunicorn 2 sync workers; wrk -t1; new check-ins spread over "
          f"{options.athletes} athletes\n")
    print("| phase | target req/s | achieved req/s | p50 ms | p99 ms | requests | errors |")
    print("|---|---|---|---|---|---|---|")
    print(f"| maximum, {options.probe_seconds} s closed loop (8 connections) | - | "
          f"{maximum.requests_per_s:,.0f} | {maximum.p50_ms:.1f} | {maximum.p99_ms:.1f} | "
          f"{maximum.requests:,} | {maximum.errors} |")
    print(f"| load, {options.seconds} s paced ({options.connections} connections) | "
          f"{rate:,.0f} ({options.share:.0%}) | {load.requests_per_s:,.0f} | "
          f"{load.p50_ms:.1f} | {load.p99_ms:.1f} | {load.requests:,} | {load.errors} |")
    print(f"\nwall time of the load phase: {elapsed:.1f} s; "
          f"achieved {load.requests_per_s / rate:.1%} of the target rate")
    print(f"errors (non-2xx or socket) under load: {load.errors} "
          f"({'met' if load.errors == 0 else 'MISSED'}: target 0)\n")
    print("| worker | RSS first 10 s MB | RSS last 10 s MB | change MB | min / max MB | samples |")
    print("|---|---|---|---|---|---|")
    flat = True
    for pid, series in sampler.series().items():
        first = [mb for t, mb in series if t <= 10]
        last = [mb for t, mb in series if t >= series[-1][0] - 10]
        change = statistics.mean(last) - statistics.mean(first)
        flat &= abs(change) <= max(2.0, 0.05 * statistics.mean(first))
        values = [mb for _, mb in series]
        print(f"| {pid} | {statistics.mean(first):.1f} | {statistics.mean(last):.1f} | "
              f"{change:+.1f} | {min(values):.1f} / {max(values):.1f} | {len(series)} |")
    print(f"\nmemory flat (each worker within 2 MB or 5 % between the first and last 10 s): "
          f"{'yes' if flat else 'NO'}")


if __name__ == "__main__":
    main()
