"""Bytes on the wire: the spec, a 500-item sync page and a year's export, plain and compressed.

The answers come from the app itself (Flask's test client on a scratch SQLite database, nothing
on the network), so each size is exactly the body a client receives for that Accept-Encoding.
The baseline is the same answer uncompressed; the table gives each coding's share of it.

    .venv/bin/python bench/wire.py
"""

from __future__ import annotations

import argparse
import platform
import random
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from service.api import create_app
from service.config import Settings
from service.db import migrate

CODINGS = ("identity", "gzip", "br", "zstd")
PASSWORD = "tarmac-and-trails-2026"


def a_year_of_check_ins(today: date, rng: random.Random) -> list[dict]:
    """Four runs a week with notes now and then, weekly pain reports, stretching after runs."""
    items: list[dict] = []
    for back in range(365, 0, -1):
        day = today - timedelta(days=back)
        start = datetime(day.year, day.month, day.day, 7, rng.randint(0, 59), tzinfo=UTC)
        if day.weekday() in (0, 2, 4, 6):
            km = rng.uniform(5, 21 if day.weekday() == 6 else 10)
            items.append({"id": str(uuid.uuid4()), "kind": "run",
                          "started_at": start.isoformat(), "distance_m": round(km * 1000),
                          "duration_s": round(km * rng.uniform(320, 380)), "surface": "road",
                          "effort": rng.randint(3, 8),
                          **({"notes": "Felt my lower back on the hills."}
                             if rng.random() < 0.2 else {})})
            items.append({"id": str(uuid.uuid4()), "kind": "exercise",
                          "recorded_at": (start + timedelta(hours=1)).isoformat(),
                          "focus": "stretch", "duration_s": 600})
        if day.weekday() == 1:
            items.append({"id": str(uuid.uuid4()), "kind": "pain",
                          "recorded_at": (start + timedelta(hours=12)).isoformat(),
                          "location": "lower_back", "severity": rng.randint(1, 5),
                          "timing": "after_run"})
    return items


def measure(seed: int) -> dict[str, dict[str, int]]:
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'wire.sqlite'}"
        migrate.upgrade(url)
        settings = Settings.from_env({
            "BACKSTRIDE_DATABASE_URL": url, "BACKSTRIDE_DATA_DIR": scratch,
            "BACKSTRIDE_PASSWORD_PROFILE": "cheapest",
            "BACKSTRIDE_RATELIMIT_DEFAULT": "100000 per minute",
            "BACKSTRIDE_RATELIMIT_AUTH": "100000 per minute"})
        app = create_app(settings)
        client = app.test_client()
        email = "sam@example.org"
        client.post("/v1/auth/register", json={"email": email, "password": PASSWORD,
                                                "timezone": "Europe/London"})
        token = client.post("/v1/auth/token", json={"email": email, "password": PASSWORD}
                            ).get_json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        items = a_year_of_check_ins(date.today(), random.Random(seed))
        for start in range(0, len(items), 500):
            answer = client.post("/v1/checkins/batch", json={"items": items[start:start + 500]},
                                 headers=auth)
            assert answer.status_code == 200, answer.get_json()
        paths = {"spec (/openapi.json)": "/openapi.json",
                 "sync page of 500 (/v1/checkins?since=0&limit=500)":
                     "/v1/checkins?since=0&limit=500",
                 f"a year's export, {len(items)} check-ins (/v1/me/export)": "/v1/me/export"}
        sizes: dict[str, dict[str, int]] = {}
        for name, path in paths.items():
            sizes[name] = {}
            for coding in CODINGS:
                answer = client.get(path, headers={**auth, "Accept-Encoding": coding})
                assert answer.status_code == 200, (path, answer.status_code)
                assert answer.headers.get("Content-Encoding", "identity") == coding, (path, coding)
                sizes[name][coding] = len(answer.get_data())
        app.extensions["backstride"].engine.dispose()
        return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="histories drawn (other seeds)")
    rounds = parser.parse_args().rounds
    started = time.monotonic()
    runs = [measure(seed) for seed in range(rounds)]
    print(f"{date.today()}, {platform.machine()}, Python {platform.python_version()}, "
          f"{rounds} histories, {time.monotonic() - started:.0f} s\n")
    print("| answer | plain bytes | gzip | Brotli | zstd |")
    print("|---|---|---|---|---|")
    for name in runs[0]:
        plain = [run[name]["identity"] for run in runs]
        cells = [f"{min(plain):,} to {max(plain):,}" if min(plain) != max(plain)
                 else f"{plain[0]:,}"]
        for coding in CODINGS[1:]:
            shares = [run[name][coding] / run[name]["identity"] for run in runs]
            sizes = [run[name][coding] for run in runs]
            cells.append(f"{sum(sizes) // len(sizes):,} ({min(shares):.3f} to {max(shares):.3f})")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
