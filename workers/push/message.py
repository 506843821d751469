from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

from service.models import Notification


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    data: dict[str, Any]
    # The same key on a re-send makes the phone replace, not repeat, what it shows.
    collapse_key: str

    @classmethod
    def of(cls, notification: Notification) -> Message:
        return cls(notification.title, notification.body,
                   {"notification_id": str(notification.id), "kind": notification.kind},
                   str(notification.id))


def tls(verify: str | bool) -> ssl.SSLContext | bool:
    """httpx's `verify`: True for the system's CAs, or a CA file (a test's own push service)."""
    return ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify


def retry_after_s(value: str | None) -> float | None:
    """A Retry-After of delta-seconds; None when absent or an HTTP date (we back off anyway)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
