"""The coach's roster under load against a same-run minimal Flask JSON endpoint (gunicorn).

    python bench/roster.py [--seconds 10] [--rounds 2] [--athletes 50] [--days 120]

One coach with 50 athletes who granted every scope, each with 120 days of history: runs on about
four days a week (one in three on a pair past its plan-ahead point, a long one in the last fortnight
for one athlete in four), a pain check-in every 9 days (a severe one lately for one in five), two
pairs of shoes, the notifications the nightly analysis and the pain triage wrote. It is seeded
through the API itself (one batch upload per athlete, the bulk path), so every derived column is
what production would hold.

`GET /v1/coach/athletes` is driven with the coach's personal access token (how a coach's script
or generated client calls it) against `GET /json` of bench/baseline_app.py (a minimal Flask view
returning a small JSON object; no database). Target: at least 0.3 of the baseline's requests/s.
For context only, the same app's `GET /raw/roster` runs one SQL aggregate over the same rows.
Each pair is measured `--rounds` times, interleaved, and averaged. Nothing leaves loopback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.checkins import mean
from bench.harness import (
    WrkResult,
    api_env,
    gunicorn,
    machine,
    scratch_database,
    sqlalchemy_url,
    wrk,
)
from service.config import WEEKLY_JUMP_THRESHOLD
from service.db import make_engine, make_session_factory, migrate
from service.domain.training import nightly

PASSWORD = "tarmac-and-trails-2026"
GRANTS = ["load", "notifications", "pain", "runs", "shoes"]
TARGET = 0.3


class Api:
    """Just enough of an HTTP client to seed through the real API."""

    def __init__(self, base: str, token: str | None = None) -> None:
        self.base, self.token = base, token

    def call(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data, headers, method=method)
        with urllib.request.urlopen(request, timeout=60) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def signed_up(self, email: str, name: str) -> tuple[Api, str]:
        credentials = {"email": email, "password": PASSWORD}
        account = self.call("POST", "/v1/auth/register", {**credentials, "display_name": name,
                                                          "timezone": "Europe/London"})
        token = self.call("POST", "/v1/auth/token", credentials)["access_token"]
        return Api(self.base, token), account["id"]


def history(number: int, today: date, shoes: list[str], days: int) -> list[dict[str, Any]]:
    """One athlete's `days` days: deterministic per athlete, varied across them."""
    items: list[dict[str, Any]] = []
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        at = datetime(day.year, day.month, day.day, 7, 30, tzinfo=UTC)
        if (back + number) % 7 in (0, 2, 4, 5):
            long_run = back == 5 and number % 4 == 0
            items.append({
                "id": str(uuid.uuid4()), "kind": "run", "started_at": at.isoformat(),
                "duration_s": 3000, "surface": "road", "shoe_id": shoes[back % 3 == 0],
                "distance_m": 21000 if long_run else 6000 + (back * 37 + number * 101) % 4000,
            })
        if (back + number) % 9 == 0:
            severe = back < 9 and number % 5 == 0
            items.append({
                "id": str(uuid.uuid4()), "kind": "pain", "location": "lower_back",
                "recorded_at": (at + timedelta(hours=10)).isoformat(),
                "severity": 7 if severe else 2 + (number + back) % 3, "timing": "after_run",
            })
        if (back + number) % 7 == 2:
            items.append({"id": str(uuid.uuid4()), "kind": "exercise", "focus": "stretch",
                          "recorded_at": (at + timedelta(hours=1)).isoformat(),
                          "duration_s": 600})
    return items


def seed(base: str, url: str, athletes: int, days: int) -> str:
    """A coach, their linked athletes with history, and the coach's personal access token."""
    api = Api(base)
    coach, _ = api.signed_up("coach@example.org", "Coach")
    today = datetime.now(UTC).date()
    athlete_ids = []
    for number in range(athletes):
        athlete, athlete_id = api.signed_up(f"athlete{number}@example.org", f"Athlete {number}")
        athlete_ids.append(uuid.UUID(athlete_id))
        code = coach.call("POST", "/v1/coach/invites")["code"]
        athlete.call("POST", "/v1/me/coaches", {"code": code, "scopes": GRANTS})
        worn = {"name": "Old daily pair", "first_used_on": str(today - timedelta(days=days)),
                "initial_distance_m": 450_000 + 20_000 * (number % 6), "is_default": True}
        fresh = {"name": "New pair", "first_used_on": str(today - timedelta(days=days))}
        shoes = [athlete.call("POST", "/v1/shoes", body)["id"] for body in (worn, fresh)]
        items = history(number, today, shoes, days)
        for start in range(0, len(items), 500):
            results = athlete.call("POST", "/v1/checkins/batch",
                                   {"items": items[start:start + 500]})["results"]
            assert all(r["result"] != "error" for r in results), results[:3]
    # The night just gone, as beat would have run it: run spikes and weekly jumps in the inbox.
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        nightly.analyse(session, athlete_ids, today - timedelta(days=1), datetime.now(UTC),
                        weekly_threshold=WEEKLY_JUMP_THRESHOLD)
        session.commit()
    # Planner statistics, as autovacuum would have them by now on a server that has been up.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    return coach.call("POST", "/v1/me/tokens", {"name": "roster script",
                                                "scopes": ["coach:read"]})["token"]


def get_lua(path: str, token: str | None = None) -> str:
    auth = f'wrk.headers["Authorization"] = "Bearer {token}"\n' if token else ""
    return f'wrk.method = "GET"\nwrk.path = "{path}"\n{auth}'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--athletes", type=int, default=50)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--connections", type=int, default=8)
    options = parser.parse_args()

    with scratch_database() as dsn:
        url = sqlalchemy_url(dsn)
        migrate.upgrade(url)
        with gunicorn("service.api.wsgi:app", api_env(url)) as api, \
                gunicorn("bench.baseline_app:app", {"BENCH_DSN": dsn}) as baseline:
            started = time.perf_counter()
            token = seed(api, url, options.athletes, options.days)
            seeded_s = time.perf_counter() - started
            entries = Api(api, token).call("GET", "/v1/coach/athletes")["items"]
            roster_path = "/v1/coach/athletes"
            ours, json_base, sql_base = [], [], []
            for _ in range(options.rounds):
                json_base.append(wrk(baseline, get_lua("/json"), seconds=options.seconds,
                                     connections=options.connections))
                ours.append(wrk(api, get_lua(roster_path, token), seconds=options.seconds,
                                connections=options.connections))
                sql_base.append(wrk(baseline, get_lua("/raw/roster"), seconds=options.seconds,
                                    connections=options.connections))
            rows = _counts(dsn)
    report(mean(ours), mean(json_base), mean(sql_base), options, seeded_s, rows,
           len(entries), entries[0])


def _counts(dsn: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(dsn) as connection:
        return {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("checkins", "shoes", "notifications", "coach_links", "access_log")}


def report(ours: WrkResult, json_base: WrkResult, sql_base: WrkResult,
           options: argparse.Namespace, seeded_s: float, rows: dict[str, int], entries: int,
           sample: dict[str, Any]) -> None:
    ratio = ours.requests_per_s / json_base.requests_per_s
    print(f"machine: {machine()}")
    print(f"data: {entries} athletes on the roster, {options.days} days each; rows: "
          + ", ".join(f"{table} {n:,}" for table, n in rows.items())
          + f" (seeded through the API in {seeded_s:.0f} s)")
    print(f"runs: {options.rounds} interleaved rounds of {options.seconds} s each; wrk -t1 "
          f"-c{options.connections}; gunicorn 2 sync workers each side\n")
    print("| measure | requests/s | p50 ms | p99 ms | ratio to baseline |")
    print("|---|---|---|---|---|")
    print(f"| `GET /v1/coach/athletes` (50 athletes, PAT) | {ours.requests_per_s:,.0f} | "
          f"{ours.p50_ms:.1f} | {ours.p99_ms:.1f} | {ratio:.3f} (target >= {TARGET}: "
          f"{'met' if ratio >= TARGET else 'MISSED'}) |")
    print(f"| baseline: minimal Flask JSON endpoint | {json_base.requests_per_s:,.0f} | "
          f"{json_base.p50_ms:.1f} | {json_base.p99_ms:.1f} | 1.00 |")
    print(f"| context: Flask + one raw SQL roster aggregate | {sql_base.requests_per_s:,.0f} | "
          f"{sql_base.p50_ms:.1f} | {sql_base.p99_ms:.1f} | "
          f"{sql_base.requests_per_s / json_base.requests_per_s:.3f} |")
    errors = ours.errors + json_base.errors + sql_base.errors
    print(f"\nerrors (non-2xx or socket): {errors}")
    print(f"a roster entry: {json.dumps({k: sample[k] for k in ('risk', 'attention')})}")
    print(f"requests in all: ours {ours.requests:,}, baseline {json_base.requests:,}")


if __name__ == "__main__":
    main()
