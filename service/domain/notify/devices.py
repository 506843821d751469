"""Registering push targets, and refusing addresses we must never send to.

A Web Push endpoint is a URL the client chose, and the worker will POST to it: it must pass
`endpoints.parse` (https, no user info, no port, a host on the allow-list, the browsers' push
services by default). Nothing is resolved here: the worker checks the addresses when it connects.
A token must look like its provider's (`token_problem`): it goes into a provider's URL or body.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.config import WEBPUSH_HOSTS
from service.domain.accounts import quotas
from service.domain.errors import Invalid, NotFound
from service.domain.notify import endpoints
from service.models import Account, Device

# APNs device tokens are 32 bytes today, written as 64 hex digits; Apple says they may grow, so
# any whole number of bytes from 32 to 100.
_APNS_TOKEN = re.compile(r"(?:[0-9a-f]{2}){32,100}")
# FCM registration tokens: URL-safe base64 with ":" between their two parts; no length is
# documented (about 160 today), this bound is ours.
_FCM_TOKEN = re.compile(r"[A-Za-z0-9_:-]{1,4096}")
_EXPO_TOKEN = re.compile(r"(?:ExponentPushToken|ExpoPushToken)\[[A-Za-z0-9_-]{1,200}\]")
_TOKENS = {"apns": (_APNS_TOKEN, "an APNs device token is 64 (or more) hexadecimal digits"),
           "fcm": (_FCM_TOKEN, "an FCM registration token is letters, digits, '-', '_' and ':'"),
           "expo": (_EXPO_TOKEN, "an Expo push token reads ExponentPushToken[…]")}


def endpoint_problem(endpoint: str, allowed_hosts: Iterable[str]) -> str | None:
    """Why this Web Push endpoint is refused, or None."""
    return endpoints.problem(endpoint, allowed_hosts)


def normalised_token(kind: str, token: str) -> str:
    """The token as stored and sent: APNs tokens in lower case, others as given."""
    return token.lower() if kind == "apns" else token


def token_problem(kind: str, token: str) -> str | None:
    """Why this FCM, APNs or Expo token is refused, or None."""
    pattern, shape = _TOKENS[kind]
    if not isinstance(token, str) or not pattern.fullmatch(normalised_token(kind, token)):
        return f"This is not a token we can push to: {shape}."
    return None


def register(session: Session, athlete: Account, session_id: uuid.UUID | None, *, kind: str,
             address: str, p256dh: str | None = None, auth: str | None = None,
             label: str | None = None, allowed_hosts: Iterable[str] = WEBPUSH_HOSTS,
             max_devices: int | None = None) -> tuple[Device, bool]:
    """Register (or take over) a push target; True when it is new to this athlete.

    At most `max_devices` working targets per athlete: one emergency check-in fans out a push
    to each, so an account must not hold dozens.
    """
    if kind == "webpush":
        try:
            address = endpoints.parse(address, allowed_hosts).url
        except endpoints.EndpointRefused as refused:
            raise Invalid(str(refused), field="endpoint") from None
    else:
        problem = token_problem(kind, address)
        if problem:
            raise Invalid(problem, field="token")
        address = normalised_token(kind, address)
    device = session.scalar(select(Device).where(Device.kind == kind, Device.address == address))
    created = device is None or device.athlete_id != athlete.id
    if created and max_devices is not None:
        quotas.hold(session, athlete)
        working = session.scalar(select(func.count()).select_from(Device).where(
            Device.athlete_id == athlete.id, Device.disabled_at.is_(None))) or 0
        quotas.check(working, 1, max_devices,
                     f"You have {working} devices registered, the most one account may have "
                     f"({max_devices}); remove one you no longer use first.")
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
