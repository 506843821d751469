"""Query plans of the reads that grow with the data, at a multiple of the benchmark's size.

    python bench/data_tier.py [--athletes 1000000]        (root: the cluster's data host)

The data of bench/nightly.py (120 days, about 42 runs per athlete) seeded in slices of 100,000
into the cluster's own PostgreSQL (tests/cluster; no worker, API or beat host is started), then
EXPLAIN (ANALYZE, BUFFERS) of the sync feed, a nightly chunk's daily sums and the roster's latest
runs, each run twice (the second with what the first read now cached).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cluster_nightly import explain
from bench.nightly import seed
from tests.cluster.cluster import Cluster

SLICE = 100_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--athletes", type=int, default=1_000_000)
    parser.add_argument("--explain-at", type=int, nargs="*", default=[500_000],
                        help="sizes on the way at which to print the plans too")
    options = parser.parse_args()
    with Cluster(workers=0, apis=0, beats=0) as cluster:
        started = time.perf_counter()
        for first in range(1, options.athletes + 1, SLICE):
            seed(cluster.database_url, first, min(first + SLICE - 1, options.athletes))
            print(f"seeded {first + SLICE - 1:,} in {time.perf_counter() - started:.0f} s",
                  file=sys.stderr, flush=True)
            if first + SLICE - 1 in options.explain_at:
                report(cluster.database_url, first + SLICE - 1)
        report(cluster.database_url, options.athletes)


def report(dsn: str, athletes: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
        sizes = connection.execute("""
            SELECT relname, pg_size_pretty(pg_relation_size(oid))
            FROM pg_class WHERE relname LIKE '%checkins%' AND relkind IN ('r', 'i')
            ORDER BY pg_relation_size(oid) DESC""").fetchall()
    print(f"\n# {athletes:,} athletes; sizes: "
          + ", ".join(f"{name} {size}" for name, size in sizes), flush=True)
    print("\n## first run (OS cache as the seeding left it)")
    explain(dsn)
    print("\n## again")
    explain(dsn)


if __name__ == "__main__":
    main()
