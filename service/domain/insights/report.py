"""GET /v1/me/insights: the athlete's check-ins of the last 180 days, in four queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.insights import rules as insights
from service.domain.training.rules import FALLBACK_WINDOW
from service.models import Account, Checkin, Shoe

WINDOW = timedelta(days=180)


@dataclass(frozen=True)
class InsightReport:
    since: date
    until: date
    minimum_per_group: int
    comparisons: list[insights.Comparison]


def report(session: Session, athlete: Account, now: datetime, today: date) -> InsightReport:
    since = now - WINDOW
    c = Checkin.__table__.c
    rows = session.connection().execute(
        select(c.id, c.kind, c.occurred_at, c.local_date, c.duration_s, c.distance_m, c.surface,
               c.shoe_id, c.severity)
        .where(c.athlete_id == athlete.id, c.deleted_at.is_(None),
               c.occurred_at >= since - FALLBACK_WINDOW, c.occurred_at <= now)
        .order_by(c.occurred_at)).all()
    recent = [row for row in rows if row.occurred_at >= since]
    runs = [_run(row) for row in recent if row.kind == "run"]
    earlier = [_run(row) for row in rows if row.kind == "run" and row.occurred_at < since]
    pains = [insights.PainFact(row.occurred_at, row.local_date, row.severity)
             for row in rows if row.kind == "pain"]
    shoes = {shoe.id: insights.ShoeFact(shoe.initial_distance_m, shoe.max_distance_m)
             for shoe in session.execute(select(Shoe.id, Shoe.initial_distance_m,
                                                Shoe.max_distance_m)
                                         .where(Shoe.athlete_id == athlete.id))}
    in_shoes = [_run(row) for row in session.connection().execute(
        select(c.id, c.occurred_at, c.duration_s, c.distance_m, c.surface, c.shoe_id)
        .where(c.athlete_id == athlete.id, c.kind == "run", c.deleted_at.is_(None),
               c.shoe_id.is_not(None), c.occurred_at <= now))]
    return InsightReport(
        since=today - WINDOW, until=today, minimum_per_group=insights.MIN_PER_GROUP,
        comparisons=[
            insights.by_surface(runs, pains),
            insights.by_shoe_wear(runs, in_shoes, pains, shoes),
            insights.by_spike(runs, earlier, pains),
            insights.by_stretching({row.local_date for row in recent},
                                   {row.local_date for row in recent if row.kind == "exercise"},
                                   pains),
        ])


def _run(row) -> insights.RunFact:
    return insights.RunFact(row.id, row.occurred_at,
                            row.occurred_at + timedelta(seconds=row.duration_s), row.distance_m,
                            row.surface, row.shoe_id)
