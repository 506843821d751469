"""The Expo push API: POST a list of messages, read a ticket per message.

Expo answers 200 with a ticket per message; `DeviceNotRegistered` means the token is gone. 429 and
5xx are retried (honouring Retry-After). Receipts, checked later by Expo's own design, are not
fetched: a token that fails there fails again on the next push and is dropped then.
"""

from __future__ import annotations

import httpx

from service.domain.notify.deliveries import Outcome
from service.models import Device
from workers.push.message import Message, retry_after_s


class ExpoProvider:
    kind = "expo"

    def __init__(self, url: str, access_token: str | None, timeout_s: float,
                 client: httpx.Client | None = None) -> None:
        self.url = url
        self.headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if access_token:
            self.headers["Authorization"] = f"Bearer {access_token}"
        self.client = client or httpx.Client(timeout=timeout_s)

    def send(self, device: Device, message: Message) -> Outcome:
        payload = [{"to": device.address, "title": message.title, "body": message.body,
                    "data": message.data, "collapseId": message.collapse_key,
                    "ttl": 24 * 3600, "priority": "high"}]
        try:
            response = self.client.post(self.url, json=payload, headers=self.headers)
        except httpx.HTTPError as error:
            return Outcome("retry", f"expo: {type(error).__name__}")
        if response.status_code == 429 or response.status_code >= 500:
            return Outcome("retry", f"expo: HTTP {response.status_code}",
                           retry_after_s(response.headers.get("Retry-After")))
        if response.status_code != 200:
            return Outcome("failed", f"expo: HTTP {response.status_code}")
        try:
            (ticket,) = response.json()["data"]
        except (ValueError, KeyError, TypeError):
            return Outcome("retry", "expo: unreadable answer")
        if ticket.get("status") == "ok":
            return Outcome("ok")
        error = (ticket.get("details") or {}).get("error", "")
        if error == "DeviceNotRegistered":
            return Outcome("gone", "DeviceNotRegistered")
        if error == "MessageRateExceeded":
            return Outcome("retry", error, 60)
        return Outcome("failed", f"expo: {error or ticket.get('message', 'error')}")

