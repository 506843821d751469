"""Registering push targets, and refusing addresses we must never send to.

A Web Push endpoint is a URL the client chose, and the worker will POST to it: only https, only
hosts on the allow-list (the browsers' push services by default), never an IP literal in a private,
loopback or link-local range unless the allow-list names it (tests add 127.0.0.1). Nothing is
resolved here: the worker checks the address again when it sends.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Iterable
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.config import WEBPUSH_HOSTS
from service.domain.errors import Invalid, NotFound
from service.models import Account, Device


def endpoint_problem(endpoint: str, allowed_hosts: Iterable[str]) -> str | None:
    """Why this Web Push endpoint is refused, or None."""
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    allowed = [h.lower() for h in allowed_hosts]
    if parts.scheme != "https":
        return "Use an https push endpoint."
    if not host:
        return "The endpoint has no host."
    if not any(host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:]))
               for pattern in allowed):
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return "This push service is not one we send to."
        if address.is_private or address.is_loopback or address.is_link_local \
                or address.is_reserved or address.is_multicast or address.is_unspecified:
            return "Push endpoints on private or local addresses are refused."
        return "This push service is not one we send to."
    return None


def register(session: Session, athlete: Account, session_id: uuid.UUID | None, *, kind: str,
             address: str, p256dh: str | None = None, auth: str | None = None,
             label: str | None = None, allowed_hosts: Iterable[str] = WEBPUSH_HOSTS,
             ) -> tuple[Device, bool]:
    """Register (or take over) a push target; True when it is new to this athlete."""
    if kind == "webpush":
        problem = endpoint_problem(address, allowed_hosts)
        if problem:
            raise Invalid(problem, field="endpoint")
    device = session.scalar(select(Device).where(Device.kind == kind, Device.address == address))
    created = device is None or device.athlete_id != athlete.id
    if device is None:
        device = Device(kind=kind, address=address)
        session.add(device)
    device.athlete_id, device.session_id = athlete.id, session_id
    device.p256dh, device.auth, device.label = p256dh, auth, label
    device.disabled_at = device.disabled_reason = None
    session.flush()
    return device, created


def listing(athlete: Account):
    return select(Device).where(Device.athlete_id == athlete.id)


def remove(session: Session, athlete: Account, device_id: uuid.UUID) -> None:
    device = session.scalar(select(Device).where(Device.id == device_id,
                                                 Device.athlete_id == athlete.id))
    if device is None:
        raise NotFound("No such device.")
    session.delete(device)
