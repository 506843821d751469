"""APNs over HTTP/2 with token (JWT) authentication.

The ES256 provider token is reused for 40 minutes: regenerating it more often than every 20 is
answered with 429 TooManyProviderTokenUpdates, and older than 60 is ExpiredProviderToken (then it
is regenerated). 410 Unregistered and 400 BadDeviceToken drop the device token; 429 and 5xx are
retried. `apns-collapse-id` makes a re-send replace what the phone shows.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import jwt

from service.domain.notify.deliveries import Outcome
from service.domain.notify.devices import token_problem
from service.models import Device
from workers.push.message import Message, retry_after_s, tls

TOKEN_LIFETIME_S = 40 * 60
GONE_REASONS = {"Unregistered", "BadDeviceToken", "DeviceTokenNotForTopic"}


class ApnsProvider:
    kind = "apns"

    def __init__(self, key_file: str, key_id: str, team_id: str, topic: str, base_url: str,
                 timeout_s: float, verify: str | bool = True) -> None:
        self.key = Path(key_file).read_text()
        self.key_id, self.team_id, self.topic = key_id, team_id, topic
        self.base_url = base_url.rstrip("/")
        self.client = httpx.Client(http2=True, timeout=timeout_s, verify=tls(verify))
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def send(self, device: Device, message: Message) -> Outcome:
        payload = {"aps": {"alert": {"title": message.title, "body": message.body},
                           "sound": "default"}, **message.data}
        headers = {"authorization": f"bearer {self._provider_token()}",
                   "apns-topic": self.topic, "apns-push-type": "alert", "apns-priority": "10",
                   "apns-expiration": str(int(time.time()) + 24 * 3600),
                   "apns-collapse-id": message.collapse_key[:64]}
        if token_problem("apns", device.address):  # stored before tokens were checked
            return Outcome("gone", "apns: not a device token")
        url = f"{self.base_url}/3/device/{quote(device.address, safe='')}"
        try:
            response = self.client.post(url, json=payload, headers=headers)
        except httpx.HTTPError as error:
            return Outcome("retry", f"apns: {type(error).__name__}")
        if response.status_code == 200:
            return Outcome("ok")
        reason = _reason(response)
        if response.status_code == 410 or reason in GONE_REASONS:
            return Outcome("gone", f"apns: {reason or response.status_code}")
        if reason == "ExpiredProviderToken":
            self._token = None
            return Outcome("retry", "apns: ExpiredProviderToken")
        if response.status_code == 429 or response.status_code >= 500:
            return Outcome("retry", f"apns: {reason or response.status_code}",
                           retry_after_s(response.headers.get("retry-after")))
        return Outcome("failed", f"apns: {reason or response.status_code}")

    def _provider_token(self) -> str:
        with self._lock:
            if self._token is None or self._token[1] < time.time():
                issued = int(time.time())
                token = jwt.encode({"iss": self.team_id, "iat": issued}, self.key,
                                   algorithm="ES256", headers={"kid": self.key_id})
                self._token = (token, issued + TOKEN_LIFETIME_S)
            return self._token[0]


def _reason(response: httpx.Response) -> str | None:
    try:
        return response.json().get("reason")
    except ValueError:
        return None
