"""A local fake of APNs: HTTP/2 over TLS on 127.0.0.1 (the h2 library), checking what it gets.

It verifies the ES256 provider token against the key's public half (`kid`, `iss`, age), requires
`apns-topic`, `apns-push-type` and `apns-collapse-id`, and answers by the device token's last hex
digits (`token("410")`): ...410 410 Unregistered, ...400 400 BadDeviceToken, ...429 429
TooManyRequests, else 200.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from pathlib import Path

import h2.config
import h2.connection
import h2.events
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.tls import self_signed

KEY_ID, TEAM_ID, TOPIC = "ABC123DEFG", "TEAM123456", "app.backstride.ios"


def token(ending: str) -> str:
    """A well-formed device token (64 hex digits) ending in `ending`, which picks the answer."""
    return ending.rjust(64, "a")


class FakeApns:
    def __init__(self, directory: Path) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.key_file = directory / "AuthKey.p8"
        self.key_file.write_bytes(self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        self.cert, key = self_signed(directory)
        self.received: list[dict] = []
        self.problems: list[str] = []
        self.provider_tokens: set[str] = set()
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(self.cert, key)
        self.context.set_alpn_protocols(["h2"])
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.url = f"https://127.0.0.1:{self.listener.getsockname()[1]}"
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while self.running:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        try:
            sock = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            return
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        streams: dict[int, dict] = {}
        while True:
            try:
                data = sock.recv(65535)
            except OSError:
                return
            if not data:
                return
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.RequestReceived):
                    streams[event.stream_id] = {
                        "headers": {k.decode() if isinstance(k, bytes) else k:
                                    v.decode() if isinstance(v, bytes) else v
                                    for k, v in event.headers}, "body": b""}
                elif isinstance(event, h2.events.DataReceived):
                    streams[event.stream_id]["body"] += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length,
                                                   event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    status, payload = self._answer(streams.pop(event.stream_id))
                    body = json.dumps(payload).encode() if payload else b""
                    conn.send_headers(event.stream_id, [
                        (":status", str(status)), ("apns-id", "fake-apns-id"),
                        ("content-length", str(len(body)))], end_stream=not body)
                    if body:
                        conn.send_data(event.stream_id, body, end_stream=True)
            sock.sendall(conn.data_to_send())

    def _answer(self, request: dict) -> tuple[int, dict | None]:
        headers = request["headers"]
        token = headers.get("authorization", "").removeprefix("bearer ")
        try:
            if jwt.get_unverified_header(token).get("kid") != KEY_ID:
                self.problems.append("wrong kid")
            claims = jwt.decode(token, self.key.public_key(), algorithms=["ES256"])
            if claims.get("iss") != TEAM_ID or claims["iat"] < time.time() - 3600:
                self.problems.append("wrong iss or an expired provider token")
        except jwt.InvalidTokenError as error:
            self.problems.append(f"provider token: {error}")
            return 403, {"reason": "InvalidProviderToken"}
        self.provider_tokens.add(token)
        for name in ("apns-topic", "apns-push-type", "apns-collapse-id", "apns-expiration"):
            if name not in headers:
                self.problems.append(f"no {name}")
        device = headers[":path"].removeprefix("/3/device/")
        self.received.append({"device": device, "collapse": headers.get("apns-collapse-id"),
                              **json.loads(request["body"])})
        if device.endswith("410"):
            return 410, {"reason": "Unregistered", "timestamp": int(time.time() * 1000)}
        if device.endswith("400"):
            return 400, {"reason": "BadDeviceToken"}
        if device.endswith("429"):
            return 429, {"reason": "TooManyRequests"}
        return 200, None

    def __enter__(self) -> FakeApns:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.running = False
        self.listener.close()
