"""Push fan-out: Web Push to many subscriptions against plain POSTs, in the same run.

    python bench/push.py [--subscriptions 2000]

One local HTTPS push service (a minimal one that answers 201) serves both sides. Backstride's side
is the real path: delivery rows in PostgreSQL, claimed and recorded by two worker processes
running `send_due` with the Web Push provider (aes128gcm encryption and a VAPID signature per
message). The baseline is two processes POSTing bodies of the same size to the same service with
httpx at the same concurrency, with no encryption and no database. Target: at least 0.5 of the
baseline's rate.
"""

from __future__ import annotations

import argparse
import base64
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bench.harness import scratch_database, spread, sqlalchemy_url
from service.db import make_engine, make_session_factory, migrate
from service.domain.accounts import passwords
from service.domain.accounts import registration as accounts
from service.domain.notify import deliveries, devices, notifications
from tests.support.tls import https_server
from workers.push.send import send_due
from workers.push.webpush import WebPushProvider, generate_keys

PROCESSES = 2


class Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args) -> None:
        pass


def serve(directory: Path) -> tuple[ThreadingHTTPServer, str, Path]:
    server, origin, cert = https_server(Ok, directory)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, origin, cert


def seed(url: str, origin: str, count: int) -> None:
    """One athlete per 100 subscriptions, one due notification each."""
    factory = make_session_factory(make_engine(url))
    hasher = passwords.make_hasher("cheapest")
    host = origin.removeprefix("https://")  # the allow-list names this host:port
    now = datetime.now(UTC)
    with factory() as session:
        for group in range(count // 100):
            athlete = accounts.register(session, hasher, email=f"fan{group}@example.org",
                                        password="tarmac-and-trails-2026")
            for n in range(100):
                key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
                    serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
                devices.register(session, athlete, None, kind="webpush",
                                 address=f"{origin}/push/{group}-{n}",
                                 p256dh=base64.urlsafe_b64encode(key).decode().rstrip("="),
                                 auth=base64.urlsafe_b64encode(os.urandom(16)).decode()
                                 .rstrip("="), allowed_hosts=(host,))
            notifications.write(session, [notifications.Draft(
                athlete.id, "run_spike", f"bench:{group}", "Your 14.5 km run was a big step up",
                "Keep your next long run under 11.0 km and build up in smaller steps.",
                now - timedelta(minutes=1), {"rule": "run_spike"})], now)
        deliveries.plan(session, now, ["webpush"])
        session.commit()


def worker(url: str, private_key: str, cert: str, host: str) -> int:
    provider = WebPushProvider(private_key, "mailto:ops@example.org", (host,), 10,
                               ca_bundle=cert, allow_loopback=True)
    with make_session_factory(make_engine(url))() as session:
        return send_due(session, {"webpush": provider}).get("sent", 0)


def baseline(origin: str, cert: str, count: int, size: int) -> int:
    body = os.urandom(size)
    with httpx.Client(verify=cert, timeout=10) as client:
        for n in range(count):
            client.post(f"{origin}/push/plain-{n}", content=body,
                        headers={"TTL": "86400", "Content-Encoding": "aes128gcm"})
    return count


def once(origin: str, cert: Path, count: int, private_key: str) -> tuple[int, float, int, float]:
    """One run on a fresh database: pushes sent and seconds, then the baseline's."""
    context = multiprocessing.get_context("spawn")
    with scratch_database() as dsn:
        url = sqlalchemy_url(dsn)
        migrate.upgrade(url)
        seed(url, origin, count)
        with context.Pool(PROCESSES) as pool:
            started = time.perf_counter()
            sent = sum(pool.starmap(worker, [(url, private_key, str(cert),
                                                origin.removeprefix("https://"))] * PROCESSES))
            push_s = time.perf_counter() - started
    # An encrypted body of the message above is about this size (aes128gcm adds 103 bytes).
    size = 240
    with context.Pool(PROCESSES) as pool:
        started = time.perf_counter()
        plain = sum(pool.starmap(baseline, [(origin, str(cert), count // PROCESSES, size)]
                                 * PROCESSES))
        plain_s = time.perf_counter() - started
    return sent, push_s, plain, plain_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    directory = Path(tempfile.mkdtemp())
    server, origin, cert = serve(directory)
    private_key, _public = generate_keys()
    runs = [once(origin, cert, options.subscriptions, private_key)
            for _ in range(options.runs)]
    server.shutdown()
    print("| run | Web Push via delivery rows, 2 processes: pushes/s | plain httpx POSTs, "
          "2 processes: POSTs/s | ratio |")
    print("|---|---|---|---|")
    ratios = []
    for number, (sent, push_s, plain, plain_s) in enumerate(runs, 1):
        ratios.append((sent / push_s) / (plain / plain_s))
        print(f"| {number} | {sent / push_s:,.0f} ({sent:,} in {push_s:.1f} s) | "
              f"{plain / plain_s:,.0f} ({plain:,} in {plain_s:.1f} s) | {ratios[-1]:.2f} |")
    met = "met" if sum(ratios) / len(ratios) >= 0.5 else "MISSED"
    print(f"\nratio: {spread(ratios)}; target at least 0.5: {met}")


if __name__ == "__main__":
    main()
