"""Check-in write throughput against same-run baselines, on PostgreSQL under gunicorn (2 workers).

    python bench/checkins.py [--seconds 10]

1. Single `PUT /v1/checkins/{id}` against a minimal Flask endpoint doing one raw psycopg INSERT
   (bench/baseline_app.py): requests/s and p50/p99 latency. Target: at least 0.5 of the baseline.
2. `POST /v1/checkins/batch` of 500 against a raw psycopg multi-row INSERT of the same rows, from
   two processes (no HTTP): check-ins/s. Target: at least 0.33. The same insert behind a minimal
   Flask endpoint is reported too, to show what HTTP and JSON cost on their own.

Each pair is measured twice, interleaved, and averaged, so drift on the machine hits both sides.
Nothing leaves loopback; wrk's runs are bounded by --seconds.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import time
import uuid
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (
    UUID_LUA,
    WrkResult,
    api_env,
    gunicorn,
    scratch_database,
    spread,
    sqlalchemy_url,
    wrk,
)
from service.db import migrate

RUN = {"kind": "run", "started_at": "2026-11-01T07:30:00+00:00", "distance_m": 8000,
       "duration_s": 2700, "surface": "road"}
BATCH = 500
RAW_TABLE = ("CREATE TABLE bench_raw_checkins (id uuid PRIMARY KEY, kind text NOT NULL, "
             "started_at timestamptz NOT NULL, distance_m integer, duration_s integer)")


def tokens_lua(tokens: list[str]) -> str:
    """Each request comes from one of many athletes, as real traffic does (see RESULTS.md)."""
    listed = ", ".join(f'"Bearer {token}"' for token in tokens) or '""'
    return f"""
local tokens = {{{listed}}}
local function authorise()
  if tokens[1] ~= "" then
    wrk.headers["Authorization"] = tokens[math.random(1, #tokens)]
  end
end
"""


def single_lua(path: str, tokens: list[str]) -> str:
    return UUID_LUA + tokens_lua(tokens) + f"""
wrk.method = "PUT"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{json.dumps(RUN)}'
request = function()
  seed()
  authorise()
  return wrk.format(nil, "{path}" .. uuid())
end
"""


def batch_lua(path: str, tokens: list[str]) -> str:
    item = json.dumps(RUN)[1:-1]
    return UUID_LUA + tokens_lua(tokens) + f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  seed()
  authorise()
  local items = {{}}
  for i = 1, {BATCH} do
    items[i] = '{{"id": "' .. uuid() .. '", {item}}}'
  end
  return wrk.format(nil, "{path}", nil, '{{"items": [' .. table.concat(items, ",") .. ']}}')
end
"""


def raw_multirow_insert(args: tuple[str, float]) -> int:
    dsn, seconds = args
    rows = 0
    with psycopg.connect(dsn, autocommit=True) as connection:
        statement = ("INSERT INTO bench_raw_checkins (id, kind, started_at, distance_m, "
                     "duration_s) VALUES " + ", ".join(["(%s, %s, %s, %s, %s)"] * BATCH))
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            params = []
            for _ in range(BATCH):
                params += [uuid.uuid4(), "run", RUN["started_at"], RUN["distance_m"],
                           RUN["duration_s"]]
            connection.execute(statement, params)
            rows += BATCH
    return rows


def raw_rate(dsn: str, seconds: float) -> float:
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        started = time.monotonic()
        rows = sum(pool.map(raw_multirow_insert, [(dsn, seconds)] * 2))
        return rows / (time.monotonic() - started)


def sign_in(base: str, number: int) -> str:
    import urllib.request

    def post(path: str, body: dict) -> dict:
        request = urllib.request.Request(base + path, json.dumps(body).encode(),
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    credentials = {"email": f"bench{number}@example.org", "password": "tarmac-and-trails-2026"}
    post("/v1/auth/register", credentials)
    return post("/v1/auth/token", credentials)["access_token"]


def mean(results: list[WrkResult]) -> WrkResult:
    return WrkResult(
        statistics.mean(r.requests_per_s for r in results),
        statistics.mean(r.p50_ms for r in results),
        statistics.mean(r.p99_ms for r in results),
        sum(r.requests for r in results), sum(r.errors for r in results),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--athletes", type=int, default=50,
                        help="requests are spread over this many athletes (1: worst case)")
    options = parser.parse_args()
    seconds = options.seconds

    with scratch_database() as dsn:
        migrate.upgrade(sqlalchemy_url(dsn))
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(RAW_TABLE)
        with gunicorn("service.api.wsgi:app", api_env(sqlalchemy_url(dsn))) as api, \
                gunicorn("bench.baseline_app:app", {"BENCH_DSN": dsn}) as baseline:
            tokens = [sign_in(api, n) for n in range(options.athletes)]
            single_api, single_base, batch_api, batch_http = [], [], [], []
            raw = []
            for _ in range(options.rounds):
                single_base.append(wrk(baseline, single_lua("/raw/", []),
                                       seconds=seconds, connections=8))
                single_api.append(wrk(api, single_lua("/v1/checkins/", tokens),
                                      seconds=seconds, connections=8))
                raw.append(raw_rate(dsn, seconds))
                batch_http.append(wrk(baseline, batch_lua("/raw/batch", []),
                                      seconds=seconds, connections=4))
                batch_api.append(wrk(api, batch_lua("/v1/checkins/batch", tokens),
                                     seconds=seconds, connections=4))

    report(mean(single_api), mean(single_base), mean(batch_api), mean(batch_http),
           statistics.mean(raw), seconds, options.rounds, options.athletes)
    single = [a.requests_per_s / b.requests_per_s for a, b in zip(single_api, single_base,
                                                                   strict=True)]
    p99 = [a.p99_ms / b.p99_ms for a, b in zip(single_api, single_base, strict=True)]
    batch = [a.requests_per_s * BATCH / r for a, r in zip(batch_api, raw, strict=True)]
    print(f"\nper round: single PUT ratio {spread(single)}; p99 over the baseline's "
          f"{spread(p99, 1)} (target within 3x); batch ratio {spread(batch)}")


def report(single_api: WrkResult, single_base: WrkResult, batch_api: WrkResult,
           batch_http: WrkResult, raw: float, seconds: int, rounds: int,
           athletes: int) -> None:
    single_ratio = single_api.requests_per_s / single_base.requests_per_s
    batch_rate = batch_api.requests_per_s * BATCH
    batch_ratio = batch_rate / raw
    print(f"runs: {rounds} interleaved rounds of {seconds} s each; wrk -t1, "
          "8 connections (single), 4 (batch); gunicorn 2 sync workers each side; "
          f"requests spread over {athletes} athletes\n")
    print("| measure | Backstride | baseline | ratio | target |")
    print("|---|---|---|---|---|")
    print(f"| single PUT, requests/s | {single_api.requests_per_s:,.0f} | "
          f"{single_base.requests_per_s:,.0f} (Flask + 1 raw INSERT) | {single_ratio:.2f} | "
          f">= 0.50 {'met' if single_ratio >= 0.5 else 'MISSED'} |")
    print(f"| single PUT, p50 / p99 ms | {single_api.p50_ms:.1f} / {single_api.p99_ms:.1f} | "
          f"{single_base.p50_ms:.1f} / {single_base.p99_ms:.1f} | | |")
    print(f"| batch of 500, check-ins/s | {batch_rate:,.0f} | {raw:,.0f} (psycopg multi-row "
          f"INSERT, 2 processes) | {batch_ratio:.2f} | >= 0.33 "
          f"{'met' if batch_ratio >= 0.33 else 'MISSED'} |")
    print(f"| batch of 500 over HTTP, check-ins/s | {batch_rate:,.0f} | "
          f"{batch_http.requests_per_s * BATCH:,.0f} (Flask + multi-row INSERT) | "
          f"{batch_rate / (batch_http.requests_per_s * BATCH):.2f} | |")
    print(f"| batch p50 / p99 ms | {batch_api.p50_ms:.0f} / {batch_api.p99_ms:.0f} | "
          f"{batch_http.p50_ms:.0f} / {batch_http.p99_ms:.0f} | | |")
    errors = single_api.errors + single_base.errors + batch_api.errors + batch_http.errors
    print(f"\nerrors (non-2xx or socket): {errors}")


if __name__ == "__main__":
    main()
