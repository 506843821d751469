"""Registering, changing, rotating and removing webhook endpoints.

An endpoint's URL is read once, strictly, here: https only, a host name or a public address
literal, no user information, no fragment. Where the name resolves is checked again on every
request, as the worker connects (workers/push/guard.py), so a name that resolves to a private
address is never reached whatever it resolved to when it was registered.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from service.domain.errors import Invalid, NotFound
from service.domain.notify.endpoints import forbidden_address
from service.domain.webhooks import access, events
from service.domain.webhooks import secrets as secret_keys
from service.models import Account
from service.models.webhooks import CANCELLED, PENDING, WebhookDelivery, WebhookEndpoint

MAX_URL_LENGTH = 2000
MAX_ENDPOINTS = 10  # per owner, and per app
# How long the secret before a rotation still signs too: a receiver has this long to switch.
ROTATION_OVERLAP = timedelta(hours=24)
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?\[\]@!$&'()*+,;=%]+")

GONE_REASON = "gone"  # the endpoint answered 410
FAILING_REASON = "failing"  # every attempt failed for five days
OWNER_REASON = "owner"  # its owner turned it off


@dataclass(frozen=True)
class Issued:
    """A new endpoint, or a rotated one, with its secret: it exists only in this answer."""

    endpoint: WebhookEndpoint
    secret: str


def url_problem(url: str, *, allow_loopback: bool = False) -> str | None:
    """Why this URL cannot be an endpoint, or None."""
    if not isinstance(url, str) or not 0 < len(url) <= MAX_URL_LENGTH \
            or not _URL_CHARACTERS.fullmatch(url) or "#" in url:
        return "Not a URL we can send to (no spaces, fragments or unusual characters)."
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "Not a valid URL."
    if parts.scheme != "https":
        return "Use an https URL: webhooks are sent over TLS only."
    if "@" in parts.netloc:
        return "A webhook URL carries no user name or password."
    host = (parts.hostname or "").lower()
    if not host:
        return "The URL has no host."
    if port == 0:
        return "The URL's port is not a port."
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        if forbidden_address(address, allow_loopback=allow_loopback):
            return "Webhooks are never sent to private, loopback or link-local addresses."
    elif not all(_LABEL.fullmatch(label) for label in host.split(".")) \
            or ("." not in host and not allow_loopback):
        return "The URL's host is not a public host name."
    return None


def _check(url: str, event_types: Collection[str], allow_loopback: bool) -> None:
    problem = url_problem(url, allow_loopback=allow_loopback)
    if problem:
        raise Invalid(problem, field="url")
    unknown = sorted(set(event_types) - set(events.ALL_TYPES))
    if unknown or not event_types:
        raise Invalid(f"Unknown event types: {', '.join(unknown)}." if unknown
                      else "Choose at least one event type.", field="event_types")


def owned(owner: Account) -> Select[tuple[WebhookEndpoint]]:
    return select(WebhookEndpoint).where(WebhookEndpoint.owner_id == owner.id)


def get_owned(session: Session, owner: Account, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = session.scalar(owned(owner).where(WebhookEndpoint.id == endpoint_id))
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


def create(session: Session, sealer: secret_keys.Sealer, owner: Account, *, url: str,
           event_types: Collection[str], description: str | None = None,
           app_id: uuid.UUID | None = None, now: datetime,
           allow_loopback: bool = False) -> Issued:
    _check(url, event_types, allow_loopback)
    if app_id is not None:
        access.check_app_owner(session, owner, app_id)
    siblings = (WebhookEndpoint.app_id == app_id if app_id is not None
                else (WebhookEndpoint.owner_id == owner.id) & WebhookEndpoint.app_id.is_(None))
    if len(session.scalars(select(WebhookEndpoint.id).where(siblings)).all()) >= MAX_ENDPOINTS:
        raise Invalid(f"At most {MAX_ENDPOINTS} endpoints each; remove one first.", field="url")
    secret = secret_keys.new_secret()
    endpoint = WebhookEndpoint(
        owner_id=owner.id, app_id=app_id, url=url, description=description,
        event_types=_ordered(event_types), secret=sealer.seal(secret), created_at=now,
        updated_at=now)
    session.add(endpoint)
    session.flush()
    return Issued(endpoint, secret)


def change(session: Session, endpoint: WebhookEndpoint, changes: dict, now: datetime, *,
           allow_loopback: bool = False) -> WebhookEndpoint:
    """Change the URL, the event types, the description; `enabled` turns it off or on again
    (on again: its failures are forgotten; what it missed can be replayed)."""
    url = changes.get("url", endpoint.url)
    event_types = changes.get("event_types", endpoint.event_types)
    _check(url, event_types, allow_loopback)
    endpoint.url, endpoint.event_types = url, _ordered(event_types)
    if "description" in changes:
        endpoint.description = changes["description"]
    enabled = changes.get("enabled")
    if enabled is True and endpoint.disabled_at is not None:
        endpoint.disabled_at = endpoint.disabled_reason = endpoint.failing_since = None
    elif enabled is False and endpoint.disabled_at is None:
        disable(session, endpoint, OWNER_REASON, now)
    endpoint.updated_at = now
    return endpoint


def rotate(endpoint: WebhookEndpoint, sealer: secret_keys.Sealer, now: datetime) -> Issued:
    """A new secret at once; the old one signs too for ROTATION_OVERLAP (two signatures)."""
    secret = secret_keys.new_secret()
    endpoint.previous_secret, endpoint.previous_secret_expires_at = (
        endpoint.secret, now + ROTATION_OVERLAP)
    endpoint.secret, endpoint.updated_at = sealer.seal(secret), now
    return Issued(endpoint, secret)


def signing_secrets(endpoint: WebhookEndpoint, sealer: secret_keys.Sealer,
                    now: datetime) -> list[str]:
    """The secrets a request is signed with now: the current one, and during a rotation the one
    before it."""
    found = [sealer.open(endpoint.secret)]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at \
            and endpoint.previous_secret_expires_at > now:
        found.append(sealer.open(endpoint.previous_secret))
    return found


def disable(session: Session, endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    """Stop sending to it: its pending deliveries are cancelled (replay brings them back)."""
    endpoint.disabled_at, endpoint.disabled_reason, endpoint.updated_at = now, reason, now
    session.execute(update(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == PENDING)
        .values(status=CANCELLED, last_error=f"endpoint disabled ({reason})"))


def remove(session: Session, endpoint: WebhookEndpoint) -> None:
    session.delete(endpoint)


def _ordered(event_types: Collection[str]) -> list[str]:
    wanted = set(event_types)
    return [name for name in events.ALL_TYPES if name in wanted]
