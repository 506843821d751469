"""The nightly analysis at 10,000 and 100,000 athletes against a same-run SQL baseline.

    python bench/nightly.py [--sizes 10000 100000]

Each athlete has 120 days of history: runs on Mondays, Wednesdays and Saturdays with one in five
skipped (about 42 runs, 7 to 10 km), a run on the analysed day, for one athlete in ten a 21 km
one. The analysis runs chunk after chunk of 1,000, as
one worker process would, in a fresh process so its peak memory is its own; then again on two
processes. The baseline is one
raw SQL aggregate over the same runs table: each athlete's last four weekly sums and longest run of
30 days, fetched in full. Targets: at 100,000 athletes within 10x the baseline, peak memory under
1 GB, and the 100,000 run no more than 12x the 10,000 run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import scratch_database, spread, sqlalchemy_url
from service.config import WEEKLY_JUMP_THRESHOLD
from service.db import make_engine, make_session_factory, migrate
from service.domain.training import nightly
from service.models import Account

DAY = date(2026, 6, 27)  # a Saturday: the analysed day is one of the usual running days
NIGHT = datetime(2026, 6, 28, 3, 30, tzinfo=UTC)
CHUNK = 1000

SEED_ACCOUNTS = """
INSERT INTO accounts (id, email, password_hash, timezone, units, quiet_hours_start,
                      quiet_hours_end, created_at, updated_at, version)
SELECT gen_random_uuid(), 'bench' || n || '@example.org', 'x', 'Europe/London', 'km',
       '21:30', '07:00', now(), now(), 1
FROM generate_series(%(first)s::int, %(last)s::int) AS n
"""
SEED_RUNS = """
INSERT INTO checkins (id, athlete_id, kind, occurred_at, local_date, duration_s, distance_m,
                      fingerprint, change_seq, created_at, updated_at, version)
SELECT gen_random_uuid(), a.id, 'run', (%(day)s::date - k) + time '07:00',
       %(day)s::date - k, 3000,
       CASE WHEN k = 0 AND hashtext(a.email) %% 10 = 0 THEN 21000
            ELSE 7000 + (hashtext(a.email || k) & 255) * 12 END,
       'bench', 200 - k, now(), now(), 1
FROM accounts a CROSS JOIN generate_series(0, 119) AS k
WHERE a.email LIKE 'bench%%'
  -- Mondays, Wednesdays and Saturdays, one in five skipped, and the analysed day for everyone
  AND (k = 0 OR (extract(isodow FROM %(day)s::date - k) IN (1, 3, 6)
                 AND hashtext(a.email || 'skip' || k) %% 5 <> 0))
  AND split_part(substring(a.email from 6), '@', 1)::int BETWEEN %(first)s::int AND %(last)s::int
"""
BASELINE = """
SELECT athlete_id,
       sum(distance_m) FILTER (WHERE local_date > %(day)s::date - 7) AS week_0,
       sum(distance_m) FILTER (WHERE local_date <= %(day)s::date - 7
                                 AND local_date > %(day)s::date - 14) AS week_1,
       sum(distance_m) FILTER (WHERE local_date <= %(day)s::date - 14
                                 AND local_date > %(day)s::date - 21) AS week_2,
       sum(distance_m) FILTER (WHERE local_date <= %(day)s::date - 21
                                 AND local_date > %(day)s::date - 28) AS week_3,
       max(distance_m) FILTER (WHERE local_date > %(day)s::date - 30
                                 AND local_date < %(day)s::date) AS longest_30
FROM checkins
WHERE kind = 'run' AND deleted_at IS NULL AND local_date > %(day)s::date - 30
      AND local_date <= %(day)s::date
GROUP BY athlete_id
"""
RESET = "TRUNCATE nightly_state, nightly_log, deliveries, notifications"


def seed(dsn: str, first: int, last: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(SEED_ACCOUNTS, {"first": first, "last": last})
        connection.execute(SEED_RUNS, {"day": DAY, "first": first, "last": last})
        connection.execute("ANALYZE")


def baseline(dsn: str) -> tuple[float, int]:
    with psycopg.connect(dsn) as connection:
        started = time.perf_counter()
        rows = connection.execute(BASELINE, {"day": DAY}).fetchall()
        return time.perf_counter() - started, len(rows)


def analyse_chunks(url: str, chunks: list[list]) -> tuple[int, nightly.Summary]:
    """One worker process's share of the night: peak RSS in bytes, and what it did."""
    factory = make_session_factory(make_engine(url))
    total = nightly.Summary()
    for chunk in chunks:
        with factory() as session:
            total.add(nightly.analyse(session, chunk, DAY, NIGHT,
                                      weekly_threshold=WEEKLY_JUMP_THRESHOLD))
            session.commit()
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, total


def _ready(_n: int) -> None:
    time.sleep(0.5)  # long enough that each process takes one


def analyse_all(url: str, workers: int) -> tuple[float, int, int, str]:
    """The whole night on `workers` fresh processes: seconds, peak RSS, athletes, summary."""
    from sqlalchemy import select

    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        ids = list(session.scalars(select(Account.id).order_by(Account.id)))
    engine.dispose()
    chunks = list(nightly.chunks(ids, CHUNK))
    shares = [chunks[i::workers] for i in range(workers)]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        # Each fresh process imports the service before the clock starts: on a busy machine the
        # imports alone took 13 s, which small sizes would otherwise report as analysis.
        pool.map(_ready, range(workers), chunksize=1)
        started = time.perf_counter()
        results = pool.starmap(analyse_chunks, [(url, share) for share in shares])
        seconds = time.perf_counter() - started
    total = nightly.Summary()
    for _, summary in results:
        total.add(summary)
    return seconds, max(peak for peak, _ in results), total.athletes, total.line()


def measure(dsn: str, workers: int) -> tuple[float, tuple[float, int, int, str]]:
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(RESET)
        connection.execute("VACUUM ANALYZE")
    base, rows = baseline(dsn)
    result = analyse_all(sqlalchemy_url(dsn), workers)
    assert rows == result[2], (rows, result[2])
    return base, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3, help="one-process nights per size")
    options = parser.parse_args()
    sizes = sorted(options.sizes)
    results, parallel, runs = {}, {}, {}
    with scratch_database() as dsn:
        migrate.upgrade(sqlalchemy_url(dsn))
        seeded = 0
        for size in sizes:
            started = time.perf_counter()
            seed(dsn, seeded + 1, size)
            print(f"seeded {size:,} athletes in {time.perf_counter() - started:.0f} s",
                  file=sys.stderr)
            seeded = size
            results[size] = [measure(dsn, 1) for _ in range(options.runs)]
            parallel[size] = measure(dsn, 2)
            with psycopg.connect(dsn) as connection:
                runs[size] = connection.execute("SELECT count(*) FROM checkins").fetchone()[0]
    print("| athletes | runs in all | baseline SQL aggregate s | nightly analysis s | ratio | "
          "peak memory MB | summary |")
    print("|---|---|---|---|---|---|---|")
    for size, nights in results.items():
        bases = [base for base, _ in nights]
        seconds = [result[0] for _, result in nights]
        peak = max(result[1] for _, result in nights)
        print(f"| {size:,} | {runs[size]:,} | {spread(bases)} | {spread(seconds, 1)} | "
              f"{spread([s / b for s, b in zip(seconds, bases, strict=True)], 1)} | "
              f"{peak / 2**20:.0f} | {nights[-1][1][3]} |")
    print("\nThe same nights on 2 worker processes (what one worker with --concurrency=2 does):\n")
    print("| athletes | baseline SQL aggregate s | nightly analysis s | ratio | peak MB/process |")
    print("|---|---|---|---|---|")
    for size, (base, (seconds, peak, _athletes, _line)) in parallel.items():
        print(f"| {size:,} | {base:.2f} | {seconds:.1f} | {seconds / base:.1f} | "
              f"{peak / 2**20:.0f} |")
    if len(sizes) >= 2:
        small = statistics.mean(result[0] for _, result in results[sizes[0]])
        large = statistics.mean(result[0] for _, result in results[sizes[-1]])
        print(f"\n{sizes[-1]:,} run / {sizes[0]:,} run: {large / small:.1f}x "
              f"(athletes {sizes[-1] / sizes[0]:.0f}x)")


if __name__ == "__main__":
    main()
