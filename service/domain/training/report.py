"""The athlete's training load as of a local day: what GET /v1/me/load shows."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.domain.errors import Invalid
from service.domain.pain import tiers as pain
from service.domain.training import rules as load
from service.models import Account, Checkin

WEEKS_SHOWN = 8
WINDOW_DAYS = 120


@dataclass(frozen=True)
class WeekDistance:
    week_start: date
    distance_m: int


@dataclass(frozen=True)
class LatestRun:
    run_id: uuid.UUID
    started_at: datetime
    distance_m: int
    baseline_m: int | None
    spike: str | None
    percent_longer: int | None


@dataclass(frozen=True)
class LoadReport:
    as_of: date
    units: str
    weeks: list[WeekDistance]
    latest_run: LatestRun | None
    weekly_change: load.WeeklyChange
    longest_advisable_run_m: int | None
    acwr: load.Acwr
    return_mode: load.ReturnMode
    advice_paused: pain.ActiveTier | None  # a triage tier is active: no advice to run more


def report(session: Session, athlete: Account, as_of: date, today: date,
           weekly_threshold: float, *, with_pain: bool = True
           ) -> LoadReport:
    """The load report as of a day. `with_pain=False` is for a coach not granted pain: they never
    get the longest advisable run nor `advice_paused`. A triage tier withholds that advice (no one
    should be told to run more), so a number for one athlete and null for another would tell the
    coach which has a tier; the coach's view of advice is the same whatever the tier."""
    if as_of > today:
        raise Invalid("Choose today or an earlier day.", field="as_of")
    since = as_of - timedelta(days=WINDOW_DAYS)
    runs = session.execute(
        select(Checkin.id, Checkin.occurred_at, Checkin.local_date, Checkin.distance_m)
        .where(Checkin.athlete_id == athlete.id, Checkin.kind == "run",
               Checkin.deleted_at.is_(None), Checkin.local_date > since,
               Checkin.local_date <= as_of)
        .order_by(Checkin.occurred_at)
    ).all()
    first_run_day = session.scalar(
        select(func.min(Checkin.local_date))
        .where(Checkin.athlete_id == athlete.id, Checkin.kind == "run",
               Checkin.deleted_at.is_(None))
    )
    last_before = session.scalar(
        select(func.max(Checkin.local_date))
        .where(Checkin.athlete_id == athlete.id, Checkin.kind == "run",
               Checkin.deleted_at.is_(None), Checkin.local_date <= since)
    )
    daily: dict[date, int] = defaultdict(int)
    for run in runs:
        daily[run.local_date] += run.distance_m
    history = [load.Run(run.occurred_at, run.distance_m) for run in runs]
    end_of_day = datetime.combine(as_of + timedelta(days=1), time(0),
                                  tzinfo=ZoneInfo(athlete.timezone)).astimezone(UTC)
    baseline = load.spike_baseline(history, end_of_day)
    paused = pain.active(session, [athlete.id], before=end_of_day).get(athlete.id)
    history_days = (as_of - first_run_day).days + 1 if first_run_day else 0
    acwr_first = max(first_run_day, as_of - timedelta(days=WINDOW_DAYS - 1)) \
        if first_run_day else as_of
    return LoadReport(
        as_of=as_of,
        units=athlete.units,
        weeks=_weeks(daily, as_of),
        latest_run=_latest(runs, history),
        weekly_change=load.weekly_change(
            load.daily_series(daily, as_of - timedelta(days=13), as_of), history_days,
            weekly_threshold),
        longest_advisable_run_m=load.longest_advisable_run_m(baseline)
        if baseline and paused is None and with_pain else None,
        acwr=load.acwr(load.daily_series(daily, acwr_first, as_of)) if first_run_day
        else load.Acwr("warming_up", None, None, None),
        return_mode=load.return_mode([*daily, *([last_before] if last_before else [])], as_of),
        advice_paused=paused if with_pain else None,
    )


def _weeks(daily: dict[date, int], as_of: date) -> list[WeekDistance]:
    """The last 8 local weeks, Monday to Sunday, oldest first; the last one is under way."""
    this_monday = as_of - timedelta(days=as_of.weekday())
    weeks = []
    for back in range(WEEKS_SHOWN - 1, -1, -1):
        start = this_monday - timedelta(weeks=back)
        total = sum(daily.get(start + timedelta(days=i), 0) for i in range(7)
                    if start + timedelta(days=i) <= as_of)
        weeks.append(WeekDistance(start, total))
    return weeks


def _latest(runs, history: list[load.Run]) -> LatestRun | None:
    if not runs:
        return None
    last = runs[-1]
    finding = load.assess_run(history[-1], history[:-1])
    return LatestRun(
        run_id=last.id, started_at=last.occurred_at, distance_m=last.distance_m,
        baseline_m=finding.baseline_m if finding else None,
        spike=finding.spike.label if finding else None,
        percent_longer=finding.percent_longer if finding else None,
    )
