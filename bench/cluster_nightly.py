"""The nightly analysis across worker hosts: 1, 2 and 3 hosts of the namespaced cluster.

    python bench/cluster_nightly.py [--athletes 100000]      (root: `make bench-cluster`)

The cluster of tests/cluster (its own PostgreSQL and Redis on the data host), the same data as
bench/nightly.py (120 days, about 42 runs per athlete), and the real path: one `nightly.dispatch`
of the night sent to the broker, chunks of 1,000 spread by Redis over `backstride worker`
processes, one per host (`--concurrency=1`, so hosts and processes are the same count). Timed from
the dispatch to the last athlete's `nightly_log` row. CPU is read from /proc for every process in
the worker namespaces (the workers) and in the data namespace (PostgreSQL, Redis) before and
after, so coordination overhead, were there any, would show as CPU per athlete growing with hosts.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.nightly import NIGHT, RESET, seed
from service.config import Settings
from tests.cluster import netns
from tests.cluster.cluster import Cluster
from workers.app import create_celery

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(namespaces: list[str]) -> float:
    """utime + stime of every live process in these namespaces, and of its reaped children."""
    total = 0
    for name in namespaces:
        for pid in netns.ip("netns", "pids", name).stdout.split():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return total / TICKS


def night(cluster: Cluster, hosts: int, athletes: int) -> tuple[float, float, float]:
    """Wall seconds, worker CPU seconds and data-host CPU seconds of one night on `hosts`."""
    for name in cluster.worker_names:
        if cluster.hosts[name].processes:
            cluster.power_off(name)
    with psycopg.connect(cluster.database_url, autocommit=True) as connection:
        connection.execute(RESET)
        connection.execute("VACUUM ANALYZE")
    active = cluster.worker_names[:hosts]
    for name in active:
        cluster.power_on(name)
    workers_ns = [cluster.hosts[n].namespace for n in active]
    data_ns = [cluster.hosts["data"].namespace]
    celery = create_celery(Settings.from_env(cluster.env("push")))
    cpu_before, data_before = cpu_seconds(workers_ns), cpu_seconds(data_ns)
    started = time.perf_counter()
    celery.send_task("nightly.dispatch", args=[NIGHT.isoformat()])
    with psycopg.connect(cluster.database_url, autocommit=True) as connection:
        while connection.execute("SELECT count(*) FROM nightly_log").fetchone()[0] < athletes:
            time.sleep(0.2)
    wall = time.perf_counter() - started
    return wall, cpu_seconds(workers_ns) - cpu_before, cpu_seconds(data_ns) - data_before


# The three reads that grow with the data, as the code issues them (checkins.reads.changes_since,
# the nightly chunk's daily sums, the roster's latest runs), on the seeded database.
EXPLAINS = {
    "sync feed (one athlete, first page of 100)": """
        SELECT * FROM checkins WHERE athlete_id = %(one)s AND change_seq > 0
        ORDER BY change_seq LIMIT 101""",
    "nightly chunk: daily sums of 1,000 athletes over 14 days": """
        SELECT athlete_id, local_date, sum(distance_m) FROM checkins
        WHERE athlete_id = ANY(%(chunk)s) AND kind = 'run' AND deleted_at IS NULL
          AND local_date BETWEEN date '2026-06-14' AND date '2026-06-27'
        GROUP BY athlete_id, local_date""",
    "roster: latest run of 50 athletes": """
        SELECT athlete_id, max(occurred_at) FROM checkins
        WHERE athlete_id = ANY(%(roster)s) AND kind = 'run' AND deleted_at IS NULL
        GROUP BY athlete_id""",
}


def explain(dsn: str) -> None:
    with psycopg.connect(dsn) as connection:
        ids = [row[0] for row in connection.execute(
            "SELECT id FROM accounts ORDER BY id LIMIT 1000")]
        rows = connection.execute("SELECT count(*), pg_size_pretty(pg_total_relation_size("
                                  "'checkins')) FROM checkins").fetchone()
        print(f"\ncheckins: {rows[0]:,} rows, {rows[1]} with indexes\n")
        for what, sql in EXPLAINS.items():
            plan = connection.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, {
                "one": ids[0], "chunk": ids, "roster": ids[:50]}).fetchall()
            # The id arrays are a thousand uuids long: their plan lines are cut short.
            lines = [line if len(line) < 160 else line[:150] + " …" for (line,) in plan]
            print(f"{what}:\n    " + "\n    ".join(lines) + "\n", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--athletes", type=int, default=100_000)
    parser.add_argument("--hosts", type=int, nargs="+", default=[1, 2, 3])
    options = parser.parse_args()
    with Cluster(apis=0, beats=0, worker_concurrency=1,
                 settings={"NIGHTLY_CHUNK_SIZE": "1000"}) as cluster:
        started = time.perf_counter()
        seed(cluster.database_url, 1, options.athletes)
        print(f"seeded {options.athletes:,} athletes in {time.perf_counter() - started:.0f} s",
              file=sys.stderr)
        results = {}
        for hosts in options.hosts:
            results[hosts] = night(cluster, hosts, options.athletes)
            print(f"{hosts} hosts: {results[hosts]}", file=sys.stderr)
        explain(cluster.database_url)
    print(f"{os.cpu_count()} cores; {options.athletes:,} athletes, chunks of 1,000, one worker "
          "process per host\n")
    print("| worker hosts | wall s | speed-up | worker CPU s | worker CPU ms per athlete | "
          "data host CPU ms per athlete |")
    print("|---|---|---|---|---|---|")
    one = results[options.hosts[0]][0]
    for hosts, (wall, cpu, data) in results.items():
        print(f"| {hosts} | {wall:.1f} | {one / wall:.2f} | {cpu:.1f} | "
              f"{1000 * cpu / options.athletes:.3f} | {1000 * data / options.athletes:.3f} |")


if __name__ == "__main__":
    main()
