"""Webhook fan-out: deliveries through the outbox against plain POSTs, in the same run.

    python bench/webhooks.py [--deliveries 2000]

One local HTTPS receiver (a minimal one that answers 204) serves both sides. Backstride's side is
the real path: events and their delivery rows in PostgreSQL (20 athletes, one endpoint each),
claimed, signed with `standardwebhooks` (HMAC-SHA256), POSTed through the guarded httpx client
(every address checked as it connects) and recorded one commit per answer, by two worker
processes running `send_due` with BACKSTRIDE_WEBHOOK_CONCURRENCY's default of 8 requests at
once each. The baseline is two processes POSTing bodies of the same size to the same receiver
with a plain httpx client at the same concurrency, with no signature and no database. Target:
at least 0.5 of the baseline's rate.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import ssl
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench.harness import scratch_database, spread, sqlalchemy_url
from service.db import make_engine, make_session_factory, migrate
from service.domain.accounts import passwords
from service.domain.accounts import registration as accounts
from service.domain.webhooks import endpoints, events, outbox
from service.domain.webhooks.secrets import Sealer
from tests.support.tls import https_server
from workers.push.guard import guarded_client
from workers.webhooks.send import send_due

PROCESSES = 2
CONCURRENCY = 8
ATHLETES = 20
SECRET_KEY = "bench-secret-" + "x" * 40


class Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args) -> None:
        pass


def serve(directory: Path) -> tuple[ThreadingHTTPServer, str, Path]:
    server, origin, cert = https_server(Ok, directory)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, origin, cert


def seed(url: str, origin: str, count: int) -> int:
    """ATHLETES athletes with an endpoint each, and count // ATHLETES check-in events each."""
    factory = make_session_factory(make_engine(url))
    hasher = passwords.make_hasher("cheapest")
    sealer = Sealer(SECRET_KEY)
    now = datetime.now(UTC)
    with factory() as session:
        for number in range(ATHLETES):
            athlete = accounts.register(session, hasher, email=f"hook{number}@example.org",
                                        password="tarmac-and-trails-2026")
            endpoints.create(session, sealer, athlete, url=f"{origin}/hooks/{number}",
                             event_types=[events.CHECKIN_CREATED], now=now,
                             allow_loopback=True)
            outbox.emit(session, [events.checkin(events.CHECKIN_CREATED, athlete.id,
                                                 uuid.uuid4(), "run")
                                  for _ in range(count // ATHLETES)], now)
        session.commit()
    sample = events.checkin(events.CHECKIN_CREATED, uuid.uuid4(), uuid.uuid4(), "run")
    return len(json.dumps(events.payload(sample.type, sample.data, now)))  # the body's size


def worker(url: str, cert: str) -> int:
    with guarded_client(allow_loopback=True, ca_bundle=cert, max_connections=CONCURRENCY) \
            as client, make_session_factory(make_engine(url))() as session:
        return send_due(session, client, Sealer(SECRET_KEY),
                        concurrency=CONCURRENCY).get("delivered", 0)


def baseline(origin: str, cert: str, count: int, size: int) -> int:
    body = os.urandom(size)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    with httpx.Client(verify=ssl.create_default_context(cafile=cert), timeout=15,
                      limits=limits) as client, ThreadPoolExecutor(CONCURRENCY) as pool:
        answers = pool.map(lambda n: client.post(f"{origin}/plain/{n}", content=body,
                                                 headers={"content-type": "application/json"}),
                           range(count))
        return sum(1 for answer in answers if answer.status_code == 204)


def once(origin: str, cert: Path, count: int) -> tuple[int, float, int, float]:
    """One run on a fresh database: deliveries and seconds, then the baseline's."""
    context = multiprocessing.get_context("spawn")
    with scratch_database() as dsn:
        url = sqlalchemy_url(dsn)
        migrate.upgrade(url)
        size = seed(url, origin, count)
        with context.Pool(PROCESSES) as pool:
            started = time.perf_counter()
            sent = sum(pool.starmap(worker, [(url, str(cert))] * PROCESSES))
            hooks_s = time.perf_counter() - started
    with context.Pool(PROCESSES) as pool:
        started = time.perf_counter()
        plain = sum(pool.starmap(baseline, [(origin, str(cert), count // PROCESSES, size)]
                                 * PROCESSES))
        plain_s = time.perf_counter() - started
    return sent, hooks_s, plain, plain_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    directory = Path(tempfile.mkdtemp())
    server, origin, cert = serve(directory)
    runs = [once(origin, cert, options.deliveries) for _ in range(options.runs)]
    server.shutdown()
    print(f"| run | webhooks via the outbox, {PROCESSES} processes x {CONCURRENCY}: per s | "
          f"plain httpx POSTs, {PROCESSES} processes x {CONCURRENCY}: per s | ratio |")
    print("|---|---|---|---|")
    ratios = []
    for number, (sent, hooks_s, plain, plain_s) in enumerate(runs, 1):
        ratios.append((sent / hooks_s) / (plain / plain_s))
        print(f"| {number} | {sent / hooks_s:,.0f} ({sent:,} in {hooks_s:.1f} s) | "
              f"{plain / plain_s:,.0f} ({plain:,} in {plain_s:.1f} s) | {ratios[-1]:.2f} |")
    met = "met" if sum(ratios) / len(ratios) >= 0.5 else "MISSED"
    print(f"\nratio: {spread(ratios)}; target at least 0.5: {met}")


if __name__ == "__main__":
    main()
