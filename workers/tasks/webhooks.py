"""Webhooks: send the deliveries that are due, on their own queue (`webhooks`).

Beat runs `webhooks.sweep` every BACKSTRIDE_WEBHOOK_SWEEP_INTERVAL_S (5 s: the retry schedule's
shortest wait): it puts back deliveries whose worker died mid-request, sends what is due and now
and then forgets old events. The API hints `webhooks.deliver` after a commit that wrote
deliveries, so a first attempt goes out at once rather than at the next sweep. Retries wait in
the database (`next_attempt_at`), never as countdowns in the broker.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from functools import cache

import httpx

from service.clock import utcnow
from service.domain.webhooks import deliveries, rules
from service.domain.webhooks.secrets import Sealer
from workers.app import app, job
from workers.database import session_scope
from workers.push.guard import guarded_client
from workers.webhooks.send import send_due

log = logging.getLogger(__name__)
PURGE_CHANCE = 0.01  # about once in 100 sweeps: every eight minutes at the default interval


@cache
def _client() -> httpx.Client:
    """One client per worker process (made after the fork), its connections kept alive."""
    settings = app.settings
    return guarded_client(allow_loopback=settings.webhook_allow_loopback,
                          ca_bundle=settings.webhook_ca_bundle,
                          timeout_s=settings.webhook_timeout_s,
                          max_connections=settings.webhook_concurrency)


@cache
def _sealer() -> Sealer:
    return Sealer(app.settings.secret_key)


def _send(session) -> dict[str, int]:
    settings = app.settings
    batch = rules.claim_size(settings.webhook_concurrency, settings.webhook_timeout_s,
                             settings.webhook_stuck_after_s)
    return send_due(session, _client(), _sealer(), concurrency=settings.webhook_concurrency,
                    batch=batch)


@job("webhooks.deliver", time_limit=900, soft_time_limit=870)
def deliver() -> dict[str, int]:
    """Send what is due now. A second copy finds nothing left to claim."""
    with session_scope() as session:
        return _send(session)


@job("webhooks.sweep", time_limit=900, soft_time_limit=870)
def sweep() -> dict[str, int]:
    """Put back stuck deliveries, send what is due, sometimes purge old events."""
    with session_scope() as session:
        released = deliveries.release_stuck(
            session, utcnow(), timedelta(seconds=app.settings.webhook_stuck_after_s))
        purged = deliveries.purge(session, utcnow()) if random.random() < PURGE_CHANCE else 0
        session.commit()
        counts = _send(session)
    if released or purged or counts:
        log.info("webhooks sweep: released %d, purged %d, %s", released, purged, counts)
    return counts
