"""Housekeeping that beat runs on a timer."""

from __future__ import annotations

import logging
from dataclasses import asdict

from service.clock import utcnow
from service.domain.accounts import housekeeping
from workers.app import job
from workers.database import session_scope

log = logging.getLogger(__name__)


@job("maintenance.purge_expired_tokens", time_limit=300)
def purge_expired_tokens() -> dict[str, int]:
    """Delete sessions and tokens that can no longer authenticate anyone. Safe to run twice."""
    with session_scope() as session:
        result = housekeeping.purge(session, utcnow())
        session.commit()
    log.info("purged expired tokens: %s", result)
    return asdict(result)
