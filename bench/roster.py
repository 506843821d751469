"""The coach's roster under load against a same-run Flask endpoint computing it in raw SQL.

    python bench/roster.py [--seconds 10] [--rounds 3] [--athletes 50] [--club 500] [--days 120]

Athletes who granted every scope, each with 120 days of history: runs on about four days a week
(one in three on a pair past its plan-ahead point, a long one in the last fortnight for one athlete
in four), a pain check-in every 9 days (a severe one lately for one in five), two pairs of shoes,
the notifications the nightly analysis and the pain triage wrote. It is seeded through the API
itself (one batch upload per athlete, the bulk path), so every derived column is what production
would hold. One coach has the first 50 of them; a club coach has all 500.

`GET /v1/coach/athletes` is driven with each coach's personal access token (`coach:read
pain:read`, how a coach's script or generated client calls it). The baseline is `GET
/raw/roster` of bench/baseline_app.py for the 50-athlete coach: one SQL aggregate over the same
rows (last run, two weekly sums, unread count; no auth, grants, rules or access log). Targets: the
50-athlete roster at least 1.0 of the baseline's requests/s, and the 500-athlete roster's p50 at
most 3x the 50-athlete one's. For context, `GET /json` (Flask and JSON, no database). Each measure
runs `--rounds` times, interleaved; ratios are given as mean and range. Nothing leaves loopback.
"""

from __future__ import annotations

import argparse
import json
import statistics
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
    scratch_database,
    spread,
    sqlalchemy_url,
    wrk,
)
from service.config import WEEKLY_JUMP_THRESHOLD
from service.db import make_engine, make_session_factory, migrate
from service.domain.training import nightly

PASSWORD = "tarmac-and-trails-2026"
GRANTS = ["load", "notifications", "pain", "runs", "shoes"]
TARGET_RAW, TARGET_CLUB = 1.0, 3.0
SCOPES = ["coach:read", "pain:read"]


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


def seed(base: str, url: str, athletes: int, club: int, days: int) -> dict[str, Any]:
    """The club's athletes with history; a coach linked to the first `athletes` of them, a club
    coach to all. Their ids and personal access tokens."""
    api = Api(base)
    coaches = {name: api.signed_up(f"{name}@example.org", name.title())
               for name in ("coach", "club")}
    today = datetime.now(UTC).date()
    athlete_ids = []
    for number in range(max(athletes, club)):
        athlete, athlete_id = api.signed_up(f"athlete{number}@example.org", f"Athlete {number}")
        athlete_ids.append(uuid.UUID(athlete_id))
        for name, (coach, _) in coaches.items():
            if name == "club" or number < athletes:
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
        if number % 50 == 49:
            print(f"seeded {number + 1} athletes", file=sys.stderr, flush=True)
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
    return {name: (coach_id, coach.call("POST", "/v1/me/tokens", {
        "name": "roster script", "scopes": SCOPES})["token"])
        for name, (coach, coach_id) in coaches.items()}


def get_lua(path: str, token: str | None = None) -> str:
    auth = f'wrk.headers["Authorization"] = "Bearer {token}"\n' if token else ""
    return f'wrk.method = "GET"\nwrk.path = "{path}"\n{auth}'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--athletes", type=int, default=50)
    parser.add_argument("--club", type=int, default=500)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--connections", type=int, default=8)
    options = parser.parse_args()

    with scratch_database() as dsn:
        url = sqlalchemy_url(dsn)
        migrate.upgrade(url)
        with gunicorn("service.api.wsgi:app", api_env(url)) as api, \
                gunicorn("bench.baseline_app:app", {"BENCH_DSN": dsn}) as baseline:
            started = time.perf_counter()
            coaches = seed(api, url, options.athletes, options.club, options.days)
            seeded_s = time.perf_counter() - started
            (coach_id, token), (_, club_token) = coaches["coach"], coaches["club"]
            sizes = {name: len(Api(api, key).call("GET", "/v1/coach/athletes")["items"])
                     for name, (_, key) in coaches.items()}
            runs: dict[str, list[WrkResult]] = {"json": [], "raw": [], "ours": [], "club": []}
            paths = {"json": (baseline, get_lua("/json")),
                     "raw": (baseline, get_lua(f"/raw/roster?coach={coach_id}")),
                     "ours": (api, get_lua("/v1/coach/athletes", token)),
                     "club": (api, get_lua("/v1/coach/athletes", club_token))}
            for _ in range(options.rounds):
                for name, (server, lua) in paths.items():
                    runs[name].append(wrk(server, lua, seconds=options.seconds,
                                          connections=options.connections))
            rows = _counts(dsn)
    report(runs, options, seeded_s, rows, sizes)


def _counts(dsn: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(dsn) as connection:
        return {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("checkins", "shoes", "notifications", "coach_links", "access_log")}


def report(runs: dict[str, list[WrkResult]], options: argparse.Namespace, seeded_s: float,
           rows: dict[str, int], sizes: dict[str, int]) -> None:
    print(f"data: rosters of {sizes['coach']} and {sizes['club']} athletes, {options.days} days "
          "each; rows: " + ", ".join(f"{table} {n:,}" for table, n in rows.items())
          + f" (seeded through the API in {seeded_s:.0f} s)")
    print(f"runs: {options.rounds} interleaved rounds of {options.seconds} s each; wrk -t1 "
          f"-c{options.connections}; gunicorn 2 sync workers each side\n")
    labels = {"ours": f"`GET /v1/coach/athletes`, {sizes['coach']} athletes (PAT)",
              "club": f"`GET /v1/coach/athletes`, {sizes['club']} athletes (PAT)",
              "raw": f"baseline: Flask + one raw SQL roster aggregate, {sizes['coach']} athletes",
              "json": "context: minimal Flask JSON endpoint, no database"}
    print("| measure | requests/s | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for name in ("ours", "club", "raw", "json"):
        result = mean(runs[name])
        print(f"| {labels[name]} | {result.requests_per_s:,.1f} | {result.p50_ms:.1f} | "
              f"{result.p99_ms:.1f} |")
    raw = [o.requests_per_s / r.requests_per_s for o, r in zip(runs["ours"], runs["raw"],
                                                                  strict=True)]
    club = [c.p50_ms / o.p50_ms for c, o in zip(runs["club"], runs["ours"], strict=True)]
    print(f"\nroster / raw SQL roster, requests/s: {spread(raw, 2)} (target >= {TARGET_RAW}: "
          f"{'met' if statistics.mean(raw) >= TARGET_RAW else 'MISSED'})")
    print(f"p50 at {sizes['club']} / p50 at {sizes['coach']}: {spread(club, 1)} (target <= "
          f"{TARGET_CLUB:.0f}x: {'met' if statistics.mean(club) <= TARGET_CLUB else 'MISSED'})")
    errors = sum(r.errors for results in runs.values() for r in results)
    print(f"errors (non-2xx or socket): {errors}")


if __name__ == "__main__":
    main()
