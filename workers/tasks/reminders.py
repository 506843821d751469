"""Reminders: a sweep every minute over runs that arrived recently, and the notices the day before
a flagged planned run."""

from __future__ import annotations

import logging
from datetime import datetime

from service.clock import utcnow
from service.domain.plans import messages as plan_messages
from service.domain.plans import notices as plan_notices
from service.domain.stretch import reminders
from workers.app import app, job
from workers.database import session_scope
from workers.metrics import count_notifications

log = logging.getLogger(__name__)


@job("reminders.sweep", time_limit=120)
def sweep(now: str | None = None) -> dict[str, int]:
    """Write every stretch reminder and plan notice due now. Idempotent: dedupe keys per run, per
    evening and per planned run and day."""
    moment = datetime.fromisoformat(now) if now else utcnow()
    with session_scope() as session:
        result = reminders.sweep(session, moment)
        notices = plan_notices.sweep(session, moment, app.settings.weekly_jump_threshold)
        session.commit()
    count_notifications({**result.by_kind(), plan_messages.KIND: notices})
    if result.reminders or result.evening_nudges or notices:
        log.info("reminders written: %s, plan notices: %d", result, notices)
    return {"reminders": result.reminders, "evening_nudges": result.evening_nudges,
            "plan_notices": notices}
