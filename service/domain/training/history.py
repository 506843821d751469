"""Run history read set-based for many athletes at once: what `rules` needs, as aggregates.

The nightly job and the coach's roster read hundreds of athletes in one request. Fetching every run
of their windows into Python made the work grow with the athletes' history (about 25 rows an
athlete for the roster's 44 days); these queries hand back a few rows an athlete whatever the
history, computed by PostgreSQL or SQLite through the (athlete, kind, time) and (athlete, local
day) indexes, and the pure rules in `rules` are applied to them unchanged.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, FromClause, and_, func, literal_column, select
from sqlalchemy.orm import Session

from service.db.bulk import among
from service.domain.training import rules as load
from service.models import Account, Checkin

# Aliases made once: each copies the table's columns, which showed in profiles when made per call.
RUN = Checkin.__table__.alias("run")
_EARLIER = Checkin.__table__.alias("earlier")


def days_before(column: ColumnElement, days: int, dialect: str) -> ColumnElement:
    if dialect == "postgresql":
        return column - literal_column(f"interval '{int(days)} days'")
    # SQLite keeps UTC timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff' text.
    return func.strftime("%Y-%m-%d %H:%M:%f000", column, f"-{days} days")


def longest_before(session: Session, run: FromClause, days: int) -> ColumnElement:
    """The longest run of the same athlete started in [run - days, run): the windows of
    `rules.spike_baseline`, as exact instants."""
    before = _EARLIER
    return (select(func.max(before.c.distance_m))
            .where(before.c.athlete_id == run.c.athlete_id, before.c.kind == "run",
                   before.c.deleted_at.is_(None), before.c.distance_m > 0,
                   before.c.occurred_at >= days_before(run.c.occurred_at, days,
                                                       session.bind.dialect.name),
                   before.c.occurred_at < run.c.occurred_at)
            .scalar_subquery())


def daily_distances(session: Session, athlete_ids: list[uuid.UUID], first: date, last: date,
                    until: datetime | None = None) -> dict[uuid.UUID, dict[date, int]]:
    """Each athlete's run distance per local day from `first` to `last` (and started by `until`,
    when given): one aggregate query, at most a row an athlete-day."""
    c = Checkin.__table__.c
    conditions = [among(session, c.athlete_id, athlete_ids), c.kind == "run",
                  c.deleted_at.is_(None), c.local_date >= first, c.local_date <= last]
    if until is not None:
        conditions.append(c.occurred_at <= until)
    daily: dict[uuid.UUID, dict[date, int]] = defaultdict(dict)
    for athlete_id, local_day, total in session.connection().execute(
            select(c.athlete_id, c.local_date, func.sum(c.distance_m))
            .where(*conditions).group_by(c.athlete_id, c.local_date)):
        daily[athlete_id][local_day] = int(total)
    return daily


@dataclass(frozen=True)
class LatestRun:
    """An athlete's latest run by an instant, with the longest runs before it and the day of
    their first run (how much history the weekly rule has)."""

    started_at: datetime
    distance_m: int
    longest_30d_m: int | None
    longest_90d_m: int | None
    first_run_day: date

    def finding(self) -> load.SpikeFinding | None:
        """The run against the 30 days before it, as `rules.assess_run` judges it."""
        return load.assess_against(load.Run(self.started_at, self.distance_m),
                                   load.baseline_of(self.longest_30d_m, self.longest_90d_m))


def latest_runs(session: Session, athlete_ids: list[uuid.UUID],
                now: datetime) -> dict[uuid.UUID, LatestRun]:
    """Each athlete's latest run started by `now`, one row an athlete from one query.

    Driven from the athletes, each latest instant found by the (athlete, kind, time) index: the
    grouped max over all their runs that this replaced read every run they ever logged.
    """
    c, account = Checkin.__table__.c, Account.__table__.c
    mine = and_(c.athlete_id == account.id, c.kind == "run", c.deleted_at.is_(None))
    latest_at = select(func.max(c.occurred_at)).where(mine, c.occurred_at <= now)
    first_day = select(func.min(c.local_date)).where(mine)
    run = RUN
    rows = session.connection().execute(
        select(run.c.athlete_id, run.c.occurred_at, run.c.distance_m,
               longest_before(session, run, load.SPIKE_WINDOW.days),
               longest_before(session, run, load.FALLBACK_WINDOW.days),
               first_day.scalar_subquery())
        .select_from(Account.__table__)
        .join(run, and_(run.c.athlete_id == account.id, run.c.kind == "run",
                        run.c.deleted_at.is_(None),
                        run.c.occurred_at == latest_at.scalar_subquery()))
        .where(among(session, account.id, athlete_ids))
        .order_by(run.c.athlete_id, run.c.id))
    # Two runs at the same instant: the last by id, a stable choice.
    return {athlete_id: LatestRun(started_at, distance_m, in_30, in_90, first_run_day)
            for athlete_id, started_at, distance_m, in_30, in_90, first_run_day in rows}
