"""A local fake push service for Web Push: HTTPS on 127.0.0.1 with its own certificate.

It checks what a real one would: the VAPID JWT (ES256 signature by the key in `k`, `aud` the
endpoint's origin, `exp` within 24 h, a `sub`), a TTL, a Topic of at most 32 characters, and it
decrypts every payload with the subscription's private key (RFC 8291), as pywebpush's own tests
do. The path decides the answer: /push/gone 410, /push/busy 429 with Retry-After,
/push/redirect 307 to `redirect_to`, else 201.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from email.message import Message
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.support.tls import https_server


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Subscriber:
    """A browser's side of a subscription: its key pair and auth secret."""

    def __init__(self) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        self.keys = {"p256dh": b64(public), "auth": b64(self.auth)}


class FakeWebPush:
    def __init__(self, directory: Path) -> None:
        self.subscribers: dict[str, Subscriber] = {}
        self.received: list[dict] = []
        self.problems: list[str] = []
        self.paths: list[str] = []  # every POST's path, checked or not
        self.redirect_to = "http://127.0.0.1:9/"  # where /push/redirect answers 307 to
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                fake.paths.append(self.path)
                if self.path == "/push/redirect":  # a push service sending us elsewhere
                    self.send_response(307)
                    self.send_header("Location", fake.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                fake.check(self.path, self.headers, body)  # names are case-insensitive
                status = {"/push/gone": 410, "/push/busy": 429}.get(self.path, 201)
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "60")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args) -> None:
                pass

        self.server, self.origin, self.cert = https_server(Handler, directory)
        self.host = f"127.0.0.1:{self.server.server_port}"  # as an allow-list names it
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def subscribe(self, name: str) -> dict:
        subscriber = Subscriber()
        self.subscribers[f"/push/{name}"] = subscriber
        return {"endpoint": f"{self.origin}/push/{name}", "keys": subscriber.keys}

    def check(self, path: str, headers: Message, body: bytes) -> None:
        scheme, _, params = headers.get("Authorization", "").partition(" ")
        fields = dict(part.strip().split("=", 1) for part in params.split(",") if "=" in part)
        if scheme.lower() != "vapid" or "t" not in fields or "k" not in fields:
            self.problems.append("no VAPID authorization")
            return
        head, claims_b64, signature = fields["t"].split(".")
        claims = json.loads(unb64(claims_b64))
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(fields["k"]))
        raw = unb64(signature)
        public.verify(encode_dss_signature(int.from_bytes(raw[:32], "big"),
                                           int.from_bytes(raw[32:], "big")),
                      f"{head}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        if claims.get("aud") != self.origin:
            self.problems.append(f"aud {claims.get('aud')}")
        if not time.time() < claims.get("exp", 0) <= time.time() + 24 * 3600:
            self.problems.append("exp not within 24 h")
        if not claims.get("sub"):
            self.problems.append("no sub")
        if int(headers.get("TTL", "0")) <= 0:
            self.problems.append("no TTL: an offline phone would never get it")
        if not 0 < len(headers.get("Topic", "")) <= 32:
            self.problems.append("no Topic, or too long")
        if headers.get("Content-Encoding") != "aes128gcm":
            self.problems.append("not aes128gcm")
        subscriber = self.subscribers[path]
        plain = http_ece.decrypt(body, private_key=subscriber.private_key,
                                 auth_secret=subscriber.auth, version="aes128gcm")
        self.received.append({"path": path, "topic": headers.get("Topic"),
                              **json.loads(plain)})

    def __enter__(self) -> FakeWebPush:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()
