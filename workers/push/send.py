"""Claim, send, record: the loop push.deliver and push.sweep share."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Protocol

from sqlalchemy.orm import Session

from service.clock import utcnow
from service.config import Settings
from service.domain.notify import deliveries
from service.models import Device
from workers.push.apns import ApnsProvider
from workers.push.expo import ExpoProvider
from workers.push.fcm import FcmProvider
from workers.push.message import Message
from workers.push.webpush import WebPushProvider

log = logging.getLogger(__name__)


class Provider(Protocol):
    kind: str

    def send(self, device: Device, message: Message) -> deliveries.Outcome: ...


def providers(settings: Settings) -> dict[str, Provider]:
    """The providers this deployment can send through (others' devices get inbox only)."""
    available: dict[str, Provider] = {
        "expo": ExpoProvider(settings.expo_push_url, settings.expo_access_token,
                             settings.push_timeout_s),
    }
    if settings.vapid_private_key:
        available["webpush"] = WebPushProvider(
            settings.vapid_private_key, settings.vapid_subject, settings.webpush_hosts,
            settings.push_timeout_s, settings.push_ca_bundle, settings.push_allow_loopback)
    if settings.fcm_project_id and settings.fcm_service_account_file:
        available["fcm"] = FcmProvider(settings.fcm_service_account_file,
                                       settings.fcm_project_id, settings.fcm_url,
                                       settings.push_timeout_s,
                                       settings.push_ca_bundle or True)
    if settings.apns_key_file and settings.apns_key_id and settings.apns_team_id \
            and settings.apns_topic:
        available["apns"] = ApnsProvider(settings.apns_key_file, settings.apns_key_id,
                                         settings.apns_team_id, settings.apns_topic,
                                         settings.apns_url, settings.push_timeout_s,
                                         settings.push_ca_bundle or True)
    return available


def send_due(session: Session, available: Mapping[str, Provider],
             notification_id: uuid.UUID | None = None,
             on_recorded: Callable[[str, str], None] | None = None,
             batch: int = 100) -> dict[str, int]:
    """Send what is due, one claimed batch at a time; each claim is committed before sending.

    Returns how many deliveries ended in each status; `on_recorded(provider, status)` is called
    for each one, which is how the task counts them per provider for its metrics.
    """
    counts: dict[str, int] = {}
    while True:
        claimed = deliveries.claim(session, utcnow(), notification_id, limit=batch)
        session.commit()
        if not claimed:
            return counts
        ours = True  # the first was stamped by the claim itself
        with deliveries.Recorder(session) as recorded:
            for position, item in enumerate(claimed):
                following = claimed[position + 1] if position + 1 < len(claimed) else None
                if not ours:  # a sweep put it back meanwhile (the batch outlasted the stuck time)
                    ours = recorded.passed(following, utcnow())
                    continue
                outcome = _send_one(available, item)
                # Recorded before the next send, with the next one stamped as starting now, so
                # a worker killed here sends again at most the message that was in flight (its
                # collapse key makes the phone replace it), not the rest of its batch.
                status, ours = recorded(item, outcome, following, utcnow())
                counts[status] = counts.get(status, 0) + 1
                if on_recorded is not None:
                    on_recorded(item.device.kind, status)


def _send_one(available: Mapping[str, Provider], item: deliveries.Claimed) -> deliveries.Outcome:
    """One delivery's outcome, whatever its provider does: a provider that raises (a bug, or input
    it chokes on) fails this delivery alone, which is retried and in the end given up like any
    other, instead of leaving the whole claimed batch `sending` for every sweep to trip over."""
    kind = item.device.kind
    provider = available.get(kind)
    if provider is None:  # turned off since the delivery was planned
        return deliveries.Outcome("retry", f"{kind}: not configured on this worker")
    try:
        return provider.send(item.device, Message.of(item.notification))
    except Exception:
        log.exception("push provider %s raised on delivery %s", kind, item.delivery_id)
        return deliveries.Outcome("retry", f"{kind}: could not be sent (an error on our side)")
