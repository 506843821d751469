"""The nightly analysis: which athletes are due, and analysing a chunk of them set-based.

Each athlete is analysed after their local night (default 03:00) for the local day that just
ended. A chunk reads all its athletes' runs in one query, applies the pure rules, writes
notifications with dedupe keys and records the analysed day, all in the caller's one transaction.
Running it twice, or two copies at once, changes nothing the second time.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.domain import load, messages, notifications
from service.models import Account, Checkin, NightlyLog, NightlyState

HISTORY_DAYS = 91  # the spike fallback looks back 90 days before the day's first run
CATCH_UP_DAYS = 3  # a worker down for a night still analyses the nights it missed, up to this


@dataclass
class Summary:
    athletes: int = 0
    days: int = 0
    notifications: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, other: Summary) -> None:
        self.athletes += other.athletes
        self.days += other.days
        for kind, count in other.notifications.items():
            self.notifications[kind] += count

    def line(self) -> str:
        written = ", ".join(f"{kind} {n}" for kind, n in sorted(self.notifications.items()))
        return (f"analysed {self.athletes} athletes ({self.days} athlete-days); "
                f"notifications written: {written or 'none'}")


def due(session: Session, now: datetime, nightly_hour: int) -> dict[date, list[uuid.UUID]]:
    """Athletes whose local night has passed and whose last analysed day is before yesterday.

    Grouped by the local day to analyse. One query for the time zones in use, one per distinct
    local "yesterday" (two at most on Earth at any instant, three around the date line).
    """
    zones_by_day: dict[date, list[str]] = defaultdict(list)
    for zone in session.scalars(select(Account.timezone).distinct()):
        local = now.astimezone(ZoneInfo(zone))
        if local.hour >= nightly_hour:
            zones_by_day[local.date() - timedelta(days=1)].append(zone)
    result: dict[date, list[uuid.UUID]] = {}
    for day, zones in zones_by_day.items():
        ids = session.scalars(
            select(Account.id)
            .outerjoin(NightlyState, NightlyState.athlete_id == Account.id)
            .where(Account.timezone.in_(zones),
                   or_(NightlyState.analysed_through.is_(None),
                       NightlyState.analysed_through < day))
            .order_by(Account.id)
        ).all()
        if ids:
            result[day] = list(ids)
    return result


def chunks(ids: Sequence[uuid.UUID], size: int) -> Iterator[list[uuid.UUID]]:
    for start in range(0, len(ids), size):
        yield list(ids[start:start + size])


def analyse(session: Session, athlete_ids: Sequence[uuid.UUID], day: date, now: datetime, *,
            weekly_threshold: float = load.WEEKLY_JUMP_THRESHOLD, source: str = "nightly",
            force: bool = False) -> Summary:
    """Analyse each athlete's days not yet analysed, up to `day` (all of `day` with `force`)."""
    summary = Summary()
    _ensure_state_rows(session, athlete_ids)
    state = _lock_states(session, athlete_ids)
    first_day = {athlete_id: _first_day(through, day, force)
                 for athlete_id, through in state.items()}
    todo = {athlete_id: first for athlete_id, first in first_day.items() if first <= day}
    if not todo:
        return summary
    athletes = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(todo)))}
    runs = _runs(session, list(todo), min(todo.values()) - timedelta(days=HISTORY_DAYS), day)

    drafts: list[notifications.Draft] = []
    log: list[dict] = []
    for athlete_id, first in todo.items():
        athlete = athletes[athlete_id]
        athlete_drafts = []
        for offset in range((day - first).days + 1):
            target = first + timedelta(days=offset)
            athlete_drafts += _findings(athlete, runs.get(athlete_id, []), target, now,
                                        weekly_threshold)
            summary.days += 1
            log.append({"athlete_id": athlete_id, "local_day": target, "analysed_at": now,
                        "source": source})
        drafts += athlete_drafts
        summary.athletes += 1

    for kind in notifications.write(session, drafts, now):
        summary.notifications[kind] += 1
    session.execute(update(NightlyState).where(
        NightlyState.athlete_id.in_(todo),
        or_(NightlyState.analysed_through.is_(None), NightlyState.analysed_through < day),
    ).values(analysed_through=day, updated_at=now))  # a backfill never moves it backwards
    session.execute(NightlyLog.__table__.insert(), log)
    return summary


def _first_day(analysed_through: date | None, day: date, force: bool) -> date:
    if force:
        return day
    earliest = day - timedelta(days=CATCH_UP_DAYS - 1)
    if analysed_through is None:
        return day
    return max(analysed_through + timedelta(days=1), earliest)


def _ensure_state_rows(session: Session, athlete_ids: Sequence[uuid.UUID]) -> None:
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(NightlyState).on_conflict_do_nothing(index_elements=["athlete_id"]),
                    [{"athlete_id": athlete_id, "analysed_through": None}
                     for athlete_id in athlete_ids])


def _lock_states(session: Session,
                 athlete_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, date | None]:
    """Lock the athletes' rows until commit: a duplicate chunk waits, then finds them done."""
    rows = session.execute(
        select(NightlyState.athlete_id, NightlyState.analysed_through)
        .where(NightlyState.athlete_id.in_(athlete_ids))
        .order_by(NightlyState.athlete_id).with_for_update()
    )
    return dict(rows.all())


@dataclass(frozen=True)
class _Run:
    id: uuid.UUID
    started_at: datetime
    local_date: date
    distance_m: int


def _runs(session: Session, athlete_ids: list[uuid.UUID], since: date,
          until: date) -> dict[uuid.UUID, list[_Run]]:
    """Every run of these athletes between the two local days, oldest first: one query."""
    rows = session.execute(
        select(Checkin.athlete_id, Checkin.id, Checkin.occurred_at, Checkin.local_date,
               Checkin.distance_m)
        .where(Checkin.athlete_id.in_(athlete_ids), Checkin.kind == "run",
               Checkin.deleted_at.is_(None), Checkin.local_date >= since,
               Checkin.local_date <= until)
        .order_by(Checkin.athlete_id, Checkin.occurred_at)
    )
    by_athlete: dict[uuid.UUID, list[_Run]] = defaultdict(list)
    for athlete_id, run_id, started_at, local_day, distance_m in rows:
        by_athlete[athlete_id].append(_Run(run_id, started_at, local_day, distance_m))
    return by_athlete


def _findings(athlete: Account, runs: list[_Run], target: date, now: datetime,
              weekly_threshold: float) -> list[notifications.Draft]:
    deliver = notifications.deliver_after(now, athlete.timezone, athlete.quiet_hours_start,
                                          athlete.quiet_hours_end)
    drafts = []
    history = [load.Run(r.started_at, r.distance_m) for r in runs]
    for index, run in enumerate(runs):
        if run.local_date != target:
            continue
        finding = load.assess_run(history[index], history[:index])
        if finding is None or finding.spike is load.Spike.OK:
            continue
        title, body, data = messages.run_spike(finding, str(run.id), target, athlete.units)
        drafts.append(notifications.Draft(athlete.id, "run_spike", f"run_spike:{run.id}", title,
                                          body, deliver, data))
    past = [r for r in runs if r.local_date <= target]
    if past:
        daily: dict[date, int] = defaultdict(int)
        for run in past:
            daily[run.local_date] += run.distance_m
        series = load.daily_series(daily, target - timedelta(days=13), target)
        history_days = (target - past[0].local_date).days + 1
        change = load.weekly_change(series, history_days, weekly_threshold)
        if change.caution:
            week = target - timedelta(days=target.weekday())
            title, body, data = messages.weekly_jump(change, target, athlete.units,
                                                     weekly_threshold)
            drafts.append(notifications.Draft(athlete.id, "weekly_jump",
                                              f"weekly_jump:{week.isoformat()}", title, body,
                                              deliver, data))
    return drafts
