"""The nightly analysis: a planner every 15 minutes, and chunks of athletes analysed set-based."""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime

from service.clock import utcnow
from service.domain.training import nightly
from workers.app import app, job
from workers.database import session_scope
from workers.metrics import count_notifications

log = logging.getLogger(__name__)
settings = app.settings


@job("nightly.dispatch", time_limit=300)
def dispatch(now: str | None = None) -> int:
    """Send a chunk task for every group of athletes whose local night has passed.

    Safe to run twice, or from two beats: a chunk finds athletes already analysed and skips them.
    `now` (ISO 8601) exists for backfills and tests; beat leaves it out.
    """
    moment = datetime.fromisoformat(now) if now else utcnow()
    with session_scope() as session:
        groups = nightly.due(session, moment, settings.nightly_hour)
    sent = 0
    for day, ids in groups.items():
        for chunk in nightly.chunks(ids, settings.nightly_chunk_size):
            analyse_chunk.delay([str(i) for i in chunk], day.isoformat(), now)
            sent += 1
    log.info("nightly dispatch at %s: %d chunks for %s", moment.isoformat(), sent,
             {day.isoformat(): len(ids) for day, ids in groups.items()})
    return sent


@job("nightly.analyse_chunk", time_limit=1800, soft_time_limit=1500)
def analyse_chunk(athlete_ids: list[str], day: str, now: str | None = None) -> dict:
    """Analyse up to a chunk of athletes for a local day, in one transaction."""
    moment = datetime.fromisoformat(now) if now else utcnow()
    log.info("nightly chunk started: %d athletes for %s", len(athlete_ids), day)
    with session_scope() as session:
        summary = nightly.analyse(session, [uuid.UUID(i) for i in athlete_ids],
                                  date.fromisoformat(day), moment,
                                  weekly_threshold=settings.weekly_jump_threshold,
                                  source="nightly.analyse_chunk")
        session.commit()
    count_notifications(summary.notifications)
    log.info("nightly chunk done: %s", summary.line())
    return {"athletes": summary.athletes, "notifications": dict(summary.notifications)}
