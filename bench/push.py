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
import ssl
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

from bench.harness import machine, scratch_database, sqlalchemy_url
from service.db import make_engine, make_session_factory, migrate
from service.domain.accounts import passwords
from service.domain.accounts import registration as accounts
from service.domain.notify import deliveries, devices, notifications
from tests.support.fake_webpush import self_signed
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
    cert, key = self_signed(directory)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"https://127.0.0.1:{server.server_port}", cert


def seed(url: str, origin: str, count: int) -> None:
    """One athlete per 100 subscriptions, one due notification each."""
    factory = make_session_factory(make_engine(url))
    hasher = passwords.make_hasher("cheapest")
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
                                 .rstrip("="), allowed_hosts=("127.0.0.1",))
            notifications.write(session, [notifications.Draft(
                athlete.id, "run_spike", f"bench:{group}", "Your 14.5 km run was a big step up",
                "Keep your next long run under 11.0 km and build up in smaller steps.",
                now - timedelta(minutes=1), {"rule": "run_spike"})], now)
        deliveries.plan(session, now, ["webpush"])
        session.commit()


def worker(url: str, private_key: str, cert: str) -> int:
    provider = WebPushProvider(private_key, "mailto:ops@example.org", ("127.0.0.1",), 10,
                               ca_bundle=cert)
    with make_session_factory(make_engine(url))() as session:
        return send_due(session, {"webpush": provider}).get("sent", 0)


def baseline(origin: str, cert: str, count: int, size: int) -> int:
    body = os.urandom(size)
    with httpx.Client(verify=cert, timeout=10) as client:
        for n in range(count):
            client.post(f"{origin}/push/plain-{n}", content=body,
                        headers={"TTL": "86400", "Content-Encoding": "aes128gcm"})
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=2000)
    count = parser.parse_args().subscriptions
    directory = Path(tempfile.mkdtemp())
    server, origin, cert = serve(directory)
    private_key, _public = generate_keys()
    context = multiprocessing.get_context("spawn")
    with scratch_database() as dsn:
        url = sqlalchemy_url(dsn)
        migrate.upgrade(url)
        seed(url, origin, count)
        with context.Pool(PROCESSES) as pool:
            started = time.perf_counter()
            sent = sum(pool.starmap(worker, [(url, private_key, str(cert))] * PROCESSES))
            push_s = time.perf_counter() - started
        # An encrypted body of the message above is about this size (aes128gcm adds 103 bytes).
        size = 240
        with context.Pool(PROCESSES) as pool:
            started = time.perf_counter()
            plain = sum(pool.starmap(baseline, [(origin, str(cert), count // PROCESSES, size)]
                                     * PROCESSES))
            plain_s = time.perf_counter() - started
    server.shutdown()
    push_rate, plain_rate = sent / push_s, plain / plain_s
    print(f"machine: {machine()}\n")
    print("| measure | pushes | seconds | per second |")
    print("|---|---|---|---|")
    print(f"| Web Push via delivery rows, {PROCESSES} processes | {sent:,} | {push_s:.1f} | "
          f"{push_rate:,.0f} |")
    print(f"| plain httpx POSTs, {PROCESSES} processes | {plain:,} | {plain_s:.1f} | "
          f"{plain_rate:,.0f} |")
    print(f"\nratio: {push_rate / plain_rate:.2f} (target at least 0.5)")


if __name__ == "__main__":
    main()
