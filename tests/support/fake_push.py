"""A local fake of the Expo push API: a real HTTP server on 127.0.0.1 that checks what it gets.

The token decides the answer: ...[gone] DeviceNotRegistered, ...[busy] 429 with Retry-After,
...[down] 500; anything else is accepted.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ACCESS_TOKEN = "expo-test-access-token"


class FakeExpo:
    def __init__(self, delay_s: float = 0.0, bind: tuple[str, int] = ("127.0.0.1", 0)) -> None:
        """`delay_s` holds every answer back, as a slow push service would. `GET /_received`
        answers what it has received, for a test whose fake runs in another process."""
        self.received: list[dict] = []
        self.problems: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path != "/--/api/v2/push/send":
                    fake.problems.append(f"path {self.path}")
                if self.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
                    fake.problems.append("missing or wrong access token")
                if not isinstance(body, list) or len(body) > 100:
                    fake.problems.append("not a list of at most 100 messages")
                time.sleep(delay_s)
                tickets = []
                for message in body:
                    for field in ("to", "title", "body", "collapseId", "ttl"):
                        if field not in message:
                            fake.problems.append(f"message without {field}")
                    fake.received.append(message)
                    token = message.get("to", "")
                    if token.endswith("[busy]"):
                        return self._answer(429, {"errors": [{"code": "RATE_LIMIT"}]},
                                            {"Retry-After": "120"})
                    if token.endswith("[down]"):
                        return self._answer(500, {"errors": [{"code": "INTERNAL"}]})
                    tickets.append({"status": "error", "message": "gone",
                                    "details": {"error": "DeviceNotRegistered"}}
                                   if token.endswith("[gone]")
                                   else {"status": "ok", "id": f"ticket-{len(fake.received)}"})
                return self._answer(200, {"data": tickets})

            def do_GET(self) -> None:
                if self.path != "/_received":
                    return self._answer(404, {"error": "not found"})
                return self._answer(200, {"received": fake.received, "problems": fake.problems})

            def _answer(self, status: int, payload: dict, headers: dict | None = None) -> None:
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(bind, Handler)
        host = self.server.server_address[0]
        self.url = f"http://{host}:{self.server.server_port}/--/api/v2/push/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeExpo:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()
