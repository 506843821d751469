"""FCM HTTP v1 with a service account: a small httpx client whose every URL is a setting.

firebase-admin hard-codes its endpoint and retries 500/503 by itself for up to two minutes; this
client does one attempt per call and lets the delivery's own backoff decide. The OAuth2 access
token comes from a signed JWT assertion (RFC 7523) and is reused until five minutes before it
expires. UNREGISTERED, SENDER_ID_MISMATCH and an invalid token argument drop the token.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import jwt

from service.domain.notify.deliveries import Outcome
from service.models import Device
from workers.push.message import Message, retry_after_s, tls

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GONE_CODES = {"UNREGISTERED", "SENDER_ID_MISMATCH", "INVALID_ARGUMENT"}


class FcmProvider:
    kind = "fcm"

    def __init__(self, service_account_file: str, project_id: str, base_url: str,
                 timeout_s: float, verify: str | bool = True) -> None:
        account = json.loads(Path(service_account_file).read_text())
        self.client_email = account["client_email"]
        self.private_key = account["private_key"]
        self.token_uri = account["token_uri"]
        self.send_url = f"{base_url.rstrip('/')}/v1/projects/{project_id}/messages:send"
        self.client = httpx.Client(timeout=timeout_s, verify=tls(verify))
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def send(self, device: Device, message: Message) -> Outcome:
        try:
            token = self._access_token()
        except (httpx.HTTPError, KeyError, ValueError) as error:
            return Outcome("retry", f"fcm: no access token ({type(error).__name__})")
        body = {"message": {
            "token": device.address,
            "notification": {"title": message.title, "body": message.body},
            "data": {key: str(value) for key, value in message.data.items()},
            "android": {"collapse_key": message.collapse_key[:64], "ttl": "86400s"},
            "apns": {"headers": {"apns-collapse-id": message.collapse_key[:64]}},
        }}
        try:
            response = self.client.post(self.send_url, json=body,
                                        headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as error:
            return Outcome("retry", f"fcm: {type(error).__name__}")
        if response.status_code == 200:
            return Outcome("ok")
        code = _error_code(response)
        if response.status_code == 401:
            self._token = None  # expired or revoked: the next attempt signs in again
            return Outcome("retry", "fcm: access token refused")
        if code in GONE_CODES or response.status_code == 404:
            return Outcome("gone", f"fcm: {code or response.status_code}")
        if response.status_code == 429 or response.status_code >= 500:
            return Outcome("retry", f"fcm: HTTP {response.status_code}",
                           retry_after_s(response.headers.get("Retry-After")))
        return Outcome("failed", f"fcm: {code or response.status_code}")

    def _access_token(self) -> str:
        with self._lock:
            if self._token and self._token[1] > time.time() + 300:
                return self._token[0]
            now = int(time.time())
            assertion = jwt.encode({"iss": self.client_email, "scope": SCOPE,
                                    "aud": self.token_uri, "iat": now, "exp": now + 3600},
                                   self.private_key, algorithm="RS256")
            response = self.client.post(self.token_uri, data={
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": assertion})
            response.raise_for_status()
            answer = response.json()
            self._token = (answer["access_token"], time.time() + int(answer["expires_in"]))
            return self._token[0]


def _error_code(response: httpx.Response) -> str | None:
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return None
    for detail in error.get("details", []):
        if detail.get("errorCode"):
            return detail["errorCode"]
    return error.get("status")
