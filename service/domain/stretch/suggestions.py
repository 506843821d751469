"""A routine for this athlete now: the pain locations of their last 14 days, read once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.stretch.catalogue import Routine
from service.domain.stretch.rules import RECENT, pick
from service.models import Account, Checkin


def suggest(session: Session, athlete: Account, now: datetime) -> tuple[list[Routine], list[str]]:
    """A routine for this athlete now, and the pain locations of the last 14 days it was for."""
    locations = list(session.scalars(select(Checkin.location).where(
        Checkin.athlete_id == athlete.id, Checkin.kind == "pain", Checkin.deleted_at.is_(None),
        Checkin.occurred_at >= now - RECENT)))
    return pick(locations), sorted(set(locations))


def suggest_without_pain() -> list[Routine]:
    """The routine for someone whose pain is not to be looked at (a token without pain:read)."""
    return pick([])
