"""Push delivery: every notification is in the inbox; these put it on the athlete's devices."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from functools import cache

from service.clock import utcnow
from service.domain.notify import deliveries
from workers.app import app, job
from workers.database import session_scope
from workers.metrics import count_push
from workers.push.send import providers, send_due

log = logging.getLogger(__name__)


@cache
def _providers():
    return providers(app.settings)


def _batch() -> int:
    return deliveries.batch_size(app.settings.push_stuck_after_s, app.settings.push_timeout_s)


@job("push.deliver", time_limit=300)
def deliver(notification_id: str) -> dict[str, int]:
    """Push one notification now (when it is due). A second copy finds nothing left to claim."""
    with session_scope() as session:
        deliveries.plan(session, utcnow(), list(_providers()), [uuid.UUID(notification_id)])
        session.commit()
        return send_due(session, _providers(), uuid.UUID(notification_id), count_push,
                        batch=_batch())


@job("push.sweep", time_limit=300)
def sweep() -> dict[str, int]:
    """Every minute: plan due notifications, put back stuck ones, send what is due."""
    with session_scope() as session:
        released = deliveries.release_stuck(
            session, utcnow(), timedelta(seconds=app.settings.push_stuck_after_s))
        planned = deliveries.plan(session, utcnow(), list(_providers()))
        session.commit()
        counts = send_due(session, _providers(), on_recorded=count_push, batch=_batch())
    if planned or released or counts:
        log.info("push sweep: planned %d, released %d, %s", planned, released, counts)
    return counts
