"""A local HTTPS webhook receiver that verifies every request as a receiver should, with the
`standardwebhooks` library itself, and counts what it was sent per webhook-id.

Its certificate is made at start with `cryptography` (tests.support.tls);
pass `receiver.cert` to the sender as BACKSTRIDE_WEBHOOK_CA_BUNDLE. Each path has its own secret
(`expect(path, secret)`); `answer` picks what every request gets (200, 503 while "down", 410),
`delay_s` slows each answer.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from standardwebhooks import Webhook, WebhookVerificationError

from tests.support.tls import https_server


class Receiver:
    def __init__(self, directory: Path, *, delay_s: float = 0.0) -> None:
        self.secrets: dict[str, list[str]] = {}
        self.answer = 200
        self.delay_s = delay_s
        self.received: list[dict] = []  # verified bodies, with their id and path
        self.problems: list[str] = []
        self.requests = 0  # every request, verified or not
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.take(self.path, dict(self.headers), body)
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                self.send_response(status)
                if status == 503:
                    self.send_header("Retry-After", "1")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args) -> None:
                pass

        self.server, self.origin, self.cert = https_server(Handler, directory)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def expect(self, path: str, *secrets: str) -> str:
        """Accept requests to `path` signed with any of `secrets`; returns its URL."""
        self.secrets[path] = list(secrets)
        return self.origin + path

    def take(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            self.requests += 1
            answer = self.answer
        if answer != 200:
            return answer
        secrets = self.secrets.get(path)
        if not secrets:
            self.problems.append(f"no secret for {path}")
            return 400
        for secret in secrets:
            try:
                payload = Webhook(secret).verify(body, headers)
                break
            except WebhookVerificationError:
                continue
        else:
            self.problems.append(f"bad signature on {path}: {headers.get('webhook-signature')}")
            return 400
        if len(body) >= 20 * 1024:
            self.problems.append(f"a payload of {len(body)} bytes")
        with self.lock:
            self.received.append({"id": headers["webhook-id"], "path": path,
                                  "signatures": headers["webhook-signature"].count("v1,"),
                                  **payload})
        return 200

    def ids(self) -> Counter:
        with self.lock:
            return Counter(item["id"] for item in self.received)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()
