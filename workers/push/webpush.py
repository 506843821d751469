"""Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payloads (RFC 8291).

pywebpush encrypts (`WebPusher.encode`: an ECDH key pair and HKDF per message, which RFC 8291
requires); the POST is ours, through the same guarded httpx client as webhooks, kept open per
push service, so every URL someone else chose is checked by one guard (pywebpush's `webpush()`
wanted a requests session, which needed a second guard written against urllib3). A TTL is
always sent (none would drop messages for phones that are offline) and the client has a
timeout. `Topic` carries the collapse key, so a re-send replaces what the browser shows. 404/410
mean the subscription is gone, as do keys that cannot encrypt; 413 is a payload too large (a
bug: failed); 429 and 5xx are retried; anything else, a redirect included, is failed
(redirects are never followed).

The endpoint is someone else's URL: it is read again here with the registration's own parser
(`service.domain.notify.endpoints`), and what is posted to is the URL rebuilt from that reading,
through a client that checks every address it connects to (workers/push/guard.py). A failure is
recorded in words that say nothing of our network (the athlete reads them in their export); the
details go to the worker's log.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time

import httpx
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02
from pywebpush import WebPusher, WebPushException

from service.domain.notify import endpoints
from service.domain.notify.deliveries import Outcome
from service.models import Device
from workers.push.guard import guarded_client
from workers.push.message import Message, retry_after_s

TTL_S = 24 * 3600
VAPID_LIFETIME_S = 12 * 3600  # RFC 8292: at most 24 h
VAPID_RENEW_S = 3600
CONTENT_ENCODING = "aes128gcm"
UNREACHABLE = "webpush: the push service could not be reached"
log = logging.getLogger(__name__)


class WebPushProvider:
    kind = "webpush"

    def __init__(self, vapid_private_key: str, subject: str, allowed_hosts: tuple[str, ...],
                 timeout_s: float, ca_bundle: str | None = None,
                 allow_loopback: bool = False) -> None:
        self.vapid = Vapid02.from_raw(vapid_private_key.encode())
        self.subject = subject
        self.allowed_hosts = allowed_hosts
        self.client = guarded_client(allow_loopback=allow_loopback, ca_bundle=ca_bundle,
                                     timeout_s=timeout_s)
        self._signed: dict[str, tuple[dict[str, str], float]] = {}

    def send(self, device: Device, message: Message) -> Outcome:
        try:
            endpoint = endpoints.parse(device.address, self.allowed_hosts)
        except endpoints.EndpointRefused as refused:
            return Outcome("gone", f"webpush: {refused}")
        payload = json.dumps({"title": message.title, "body": message.body,
                              "data": message.data}).encode()
        try:
            body = WebPusher({"endpoint": endpoint.url,
                              "keys": {"p256dh": device.p256dh, "auth": device.auth}},
                             ).encode(payload, CONTENT_ENCODING)["body"]
        except (WebPushException, ValueError) as error:
            log.warning("web push keys of device %s refused: %s", device.id, error)
            return Outcome("gone", "webpush: the subscription's keys are not valid")
        try:
            response = self.client.post(endpoint.url, content=body, headers={
                "TTL": str(TTL_S), "Content-Encoding": CONTENT_ENCODING,
                "Content-Type": "application/octet-stream",
                "Topic": topic(message.collapse_key), "Urgency": "normal",
                **self._vapid_headers(endpoint.origin)})
        except httpx.HTTPError as error:
            log.warning("web push to %s not sent: %s: %s", endpoint.host,
                        type(error).__name__, error)
            return Outcome("retry", UNREACHABLE)
        return _outcome(response)

    def _vapid_headers(self, origin: str) -> dict[str, str]:
        """The VAPID Authorization for this push service, signed once per origin for 12 hours.

        The JWT names only the origin (`aud`), so one signature serves every subscriber there.
        """
        cached = self._signed.get(origin)
        if cached is None or cached[1] < time.time() + VAPID_RENEW_S:
            expires = int(time.time()) + VAPID_LIFETIME_S
            headers = self.vapid.sign({"aud": origin, "exp": expires, "sub": self.subject})
            self._signed[origin] = cached = (headers, expires)
        return cached[0]


def topic(collapse_key: str) -> str:
    """At most 32 URL-safe base64 characters, as RFC 8030 requires of a Topic."""
    digest = hashlib.sha256(collapse_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:32]


def _outcome(response: httpx.Response) -> Outcome:
    status = response.status_code
    if status < 300:
        return Outcome("ok")
    if status in (404, 410):
        return Outcome("gone", f"webpush: HTTP {status}")
    if status == 429 or status >= 500:
        return Outcome("retry", f"webpush: HTTP {status}",
                       retry_after_s(response.headers.get("Retry-After")))
    return Outcome("failed", f"webpush: HTTP {status}")


def generate_keys() -> tuple[str, str]:
    """A VAPID pair: the private key for BACKSTRIDE_VAPID_PRIVATE_KEY, the public one for apps."""
    vapid = Vapid02()
    vapid.generate_keys()
    private = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    public = vapid.public_key.public_bytes(serialization.Encoding.X962,
                                           serialization.PublicFormat.UncompressedPoint)
    return _b64(private), _b64(public)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
