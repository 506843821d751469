"""A local fake of Google's token endpoint and FCM HTTP v1, on 127.0.0.1.

The token endpoint verifies the RS256 assertion with the service account's public key, its
issuer, scope, audience and lifetime; the send endpoint requires the access token it handed out
and a well-formed message. The device token decides the answer: ...-gone UNREGISTERED (404),
...-busy 429 with Retry-After, else 200.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

PROJECT = "backstride-test"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"


class FakeFcm:
    def __init__(self, directory: Path) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.received: list[dict] = []
        self.problems: list[str] = []
        self.tokens_issued = 0
        self.access_token = "ya29.fake-access-token"
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path == "/token":
                    return self._answer(*fake.token(raw))
                if self.path != f"/v1/projects/{PROJECT}/messages:send":
                    fake.problems.append(f"path {self.path}")
                    return self._answer(404, {})
                return self._answer(*fake.send(self.headers.get("Authorization", ""),
                                               json.loads(raw)))

            def _answer(self, status: int, payload: dict, headers: dict | None = None) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.account_file = directory / "service-account.json"
        self.account_file.write_text(json.dumps({
            "type": "service_account", "project_id": PROJECT,
            "client_email": "push@backstride-test.iam.gserviceaccount.com",
            "private_key": self.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()).decode(),
            "token_uri": f"{self.url}/token",
        }))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def token(self, raw: bytes) -> tuple[int, dict]:
        form = dict(urllib.parse.parse_qsl(raw.decode()))
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            self.problems.append("wrong grant_type")
        claims = jwt.decode(form["assertion"], self.key.public_key(), algorithms=["RS256"],
                            audience=f"{self.url}/token")
        if claims.get("scope") != SCOPE or not claims.get("iss"):
            self.problems.append("wrong scope or issuer")
        if claims["exp"] - claims["iat"] > 3600 or claims["exp"] < time.time():
            self.problems.append("assertion lifetime")
        self.tokens_issued += 1
        return 200, {"access_token": self.access_token, "expires_in": 3599,
                     "token_type": "Bearer"}

    def send(self, authorization: str, body: dict) -> tuple[int, dict] | tuple[int, dict, dict]:
        if authorization != f"Bearer {self.access_token}":
            self.problems.append("send without the access token")
            return 401, {"error": {"status": "UNAUTHENTICATED"}}
        message = body.get("message", {})
        for field in ("token", "notification", "android", "apns"):
            if field not in message:
                self.problems.append(f"message without {field}")
        if not all(isinstance(v, str) for v in message.get("data", {}).values()):
            self.problems.append("data values must be strings")
        self.received.append(message)
        token = message.get("token", "")
        if token.endswith("-gone"):
            return 404, {"error": {"status": "NOT_FOUND", "details": [
                {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                 "errorCode": "UNREGISTERED"}]}}
        if token.endswith("-busy"):
            return 429, {"error": {"status": "RESOURCE_EXHAUSTED"}}, {"Retry-After": "90"}
        return 200, {"name": f"projects/{PROJECT}/messages/{len(self.received)}"}

    def __enter__(self) -> FakeFcm:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()
