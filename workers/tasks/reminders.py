"""Stretch reminders: a sweep every minute over runs that arrived recently."""

from __future__ import annotations

import logging
from datetime import datetime

from service.clock import utcnow
from service.domain.stretch import reminders
from workers.app import job
from workers.database import session_scope
from workers.metrics import count_notifications

log = logging.getLogger(__name__)


@job("reminders.sweep", time_limit=120)
def sweep(now: str | None = None) -> dict[str, int]:
    """Write every stretch reminder due now. Idempotent: dedupe keys per run and per evening."""
    moment = datetime.fromisoformat(now) if now else utcnow()
    with session_scope() as session:
        result = reminders.sweep(session, moment)
        session.commit()
    count_notifications(result.by_kind())
    if result.reminders or result.evening_nudges:
        log.info("reminders written: %s", result)
    return {"reminders": result.reminders, "evening_nudges": result.evening_nudges}
