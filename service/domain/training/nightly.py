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
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from service.db.bulk import among, insert_ignoring_conflicts
from service.domain.notify import notifications
from service.domain.shoes import messages as shoe_messages
from service.domain.shoes import records as shoe_records
from service.domain.shoes import rules as shoes
from service.domain.training import history, messages
from service.domain.training import rules as load
from service.domain.webhooks import outbox
from service.models import Account, Checkin, NightlyLog, NightlyState, Notification, Shoe

CATCH_UP_DAYS = 3  # a worker down for a night still analyses the nights it missed, up to this
LATE_SYNC_DAYS = 6  # runs that arrive after their night was analysed are still checked


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
            .where(among(session, Account.timezone, zones),
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
            weekly_threshold: float, source: str = "nightly",
            force: bool = False) -> Summary:
    """Analyse each athlete's days not yet analysed, up to `day` (all of `day` with `force`)."""
    summary = Summary()
    _ensure_state_rows(session, athlete_ids, now)
    state = _lock_states(session, athlete_ids)
    first_day = {athlete_id: _first_day(through, day, force)
                 for athlete_id, through in state.items()}
    todo = {athlete_id: first for athlete_id, first in first_day.items() if first <= day}
    if not todo:
        return summary
    athletes = notifications.recipients(session, todo, now)
    earliest = min(todo.values())
    # Runs synced after their night was analysed still get checked, for up to a week: the
    # dedupe key (the run's id) keeps one checked twice from being warned about twice.
    spikes = _day_runs(session, list(todo), earliest - timedelta(days=LATE_SYNC_DAYS), day)
    daily = history.daily_distances(session, list(todo), earliest - timedelta(days=13), day)
    first_runs = _first_run_days(session, list(todo), day)

    drafts: list[notifications.Draft] = []
    log: list[dict] = []
    for athlete_id, first in todo.items():
        athlete = athletes[athlete_id]
        deliver = athlete.deliver_after
        for late in range(LATE_SYNC_DAYS, 0, -1):
            run_day = first - timedelta(days=late)
            drafts += _spike_drafts(athlete, spikes.get((athlete_id, run_day), []), run_day,
                                    deliver)
        for offset in range((day - first).days + 1):
            target = first + timedelta(days=offset)
            drafts += _spike_drafts(athlete, spikes.get((athlete_id, target), []), target,
                                    deliver)
            drafts += _weekly_drafts(athlete, daily.get(athlete_id, {}),
                                     first_runs.get(athlete_id), target, deliver,
                                     weekly_threshold)
            summary.days += 1
            log.append({"athlete_id": athlete_id, "local_day": target, "analysed_at": now,
                        "source": source})
        summary.athletes += 1
    drafts += _shoe_drafts(session, athletes, day, now)

    written = notifications.write_new(session, drafts, now)
    for item in written:
        summary.notifications[item.draft.kind] += 1
    outbox.warnings(session, written, now)
    # Age alone moves a pair's status: as of the athletes' today, the day after the analysed one.
    shoe_records.track_statuses(session, list(athletes), day + timedelta(days=1), now)
    session.execute(update(NightlyState).where(
        among(session, NightlyState.athlete_id, todo),
        or_(NightlyState.analysed_through.is_(None), NightlyState.analysed_through < day),
    ).values(analysed_through=day, updated_at=now))  # a backfill never moves it backwards
    insert_ignoring_conflicts(session, NightlyLog.__table__, log, conflict=None)
    return summary


def _first_day(analysed_through: date | None, day: date, force: bool) -> date:
    if force:
        return day
    earliest = day - timedelta(days=CATCH_UP_DAYS - 1)
    if analysed_through is None:
        return day
    return max(analysed_through + timedelta(days=1), earliest)


def _ensure_state_rows(session: Session, athlete_ids: Sequence[uuid.UUID],
                       now: datetime) -> None:
    insert_ignoring_conflicts(session, NightlyState.__table__,
                              [{"athlete_id": athlete_id, "updated_at": now}
                               for athlete_id in athlete_ids], ["athlete_id"])


def _lock_states(session: Session,
                 athlete_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, date | None]:
    """Lock the athletes' rows until commit: a duplicate chunk waits, then finds them done."""
    rows = session.execute(
        select(NightlyState.athlete_id, NightlyState.analysed_through)
        .where(among(session, NightlyState.athlete_id, athlete_ids))
        .order_by(NightlyState.athlete_id).with_for_update()
    )
    return dict(rows.all())


@dataclass(frozen=True)
class _DayRun:
    """A run of an analysed day, with the longest runs before it that its baseline needs."""

    id: uuid.UUID
    started_at: datetime
    distance_m: int
    longest_30d_m: int | None
    longest_90d_m: int | None


def _day_runs(session: Session, athlete_ids: list[uuid.UUID], first: date,
              last: date) -> dict[tuple[uuid.UUID, date], list[_DayRun]]:
    """The runs of the analysed days, each with the longest run of the 30 and 90 days before it.

    One query; the windows are exact instants, [start - 30 d, start), as load.spike_baseline
    defines them (`history.longest_before`).
    """
    run = history.RUN
    rows = session.connection().execute(
        select(run.c.athlete_id, run.c.local_date, run.c.id, run.c.occurred_at,
               run.c.distance_m, history.longest_before(session, run, load.SPIKE_WINDOW.days),
               history.longest_before(session, run, load.FALLBACK_WINDOW.days))
        .where(among(session, run.c.athlete_id, athlete_ids), run.c.kind == "run",
               run.c.deleted_at.is_(None), run.c.local_date >= first, run.c.local_date <= last)
        .order_by(run.c.athlete_id, run.c.occurred_at)
    )
    by_day: dict[tuple[uuid.UUID, date], list[_DayRun]] = defaultdict(list)
    for athlete_id, local_day, run_id, started_at, distance_m, in_30, in_90 in rows:
        by_day[(athlete_id, local_day)].append(_DayRun(run_id, started_at, distance_m, in_30,
                                                       in_90))
    return by_day


def _first_run_days(session: Session, athlete_ids: list[uuid.UUID],
                    last: date) -> dict[uuid.UUID, date]:
    """Each athlete's first run day: how much history the weekly rule has."""
    table = Checkin.__table__.c
    return dict(session.connection().execute(
        select(table.athlete_id, func.min(table.local_date))
        .where(among(session, table.athlete_id, athlete_ids), table.kind == "run",
               table.deleted_at.is_(None), table.local_date <= last)
        .group_by(table.athlete_id)
    ).all())


def _spike_drafts(athlete: notifications.Recipient, runs: list[_DayRun], target: date,
                  deliver: datetime) -> list[notifications.Draft]:
    drafts = []
    for run in runs:
        finding = load.assess_against(load.Run(run.started_at, run.distance_m),
                                      load.baseline_of(run.longest_30d_m, run.longest_90d_m))
        if finding is None or finding.spike is load.Spike.OK:
            continue
        title, body, data = messages.run_spike(finding, str(run.id), target, athlete.units)
        drafts.append(notifications.Draft(athlete.id, "run_spike", f"run_spike:{run.id}", title,
                                          body, deliver, data))
    return drafts


def _weekly_drafts(athlete: notifications.Recipient, daily: dict[date, int],
                   first_run: date | None, target: date, deliver: datetime,
                   threshold: float) -> list[notifications.Draft]:
    if first_run is None or first_run > target:
        return []
    series = load.daily_series(daily, target - timedelta(days=13), target)
    change = load.weekly_change(series, (target - first_run).days + 1, threshold)
    if not change.caution:
        return []
    week = target - timedelta(days=target.weekday())
    title, body, data = messages.weekly_jump(change, target, athlete.units, threshold)
    return [notifications.Draft(athlete.id, "weekly_jump", f"weekly_jump:{week.isoformat()}",
                                title, body, deliver, data)]


ROTATE_EVERY = timedelta(days=90)


def _shoe_drafts(session: Session, athletes: dict[uuid.UUID, notifications.Recipient], day: date,
                 now: datetime) -> list[notifications.Draft]:
    """Inspect, plan, replace and rotate nudges for the athletes' pairs, as of `day`.

    Each at most once per pair and stage (the dedupe keys), rotation at most once in 90 days.
    Four queries for the whole chunk.
    """
    ids = list(athletes)
    shoe_rows = session.connection().execute(
        select(Shoe.__table__).where(among(session, Shoe.athlete_id, ids),
                                     Shoe.retired_at.is_(None))).all()
    pairs = shoe_records.wear_inputs(session, shoe_rows, day)
    drafts = []
    for row in shoe_rows:
        athlete, pair = athletes[row.athlete_id], pairs[row.id]
        forecast = shoes.forecast(pair, day)
        stages = []
        if forecast.status == shoes.REPLACE:
            stages.append(("shoe_replace", f"shoe_replace:{row.id}", shoe_messages.replace))
        elif forecast.status == shoes.PLAN:
            stages.append(("shoe_plan", f"shoe_plan:{row.id}", shoe_messages.plan))
        if forecast.inspect_due and forecast.status == shoes.INSPECT:  # plan/replace say more
            cycle = row.inspected_on.isoformat() if row.inspected_on else "first"
            stages.append(("shoe_inspect", f"shoe_inspect:{row.id}:{cycle}",
                           shoe_messages.inspect))
        for kind, key, message in stages:
            title, body, data = message(row.name, forecast, pair, athlete.units)
            drafts.append(notifications.Draft(row.athlete_id, kind, key, title, body,
                                              athlete.deliver_after,
                                              {**data, "shoe_id": str(row.id)}))
    drafts += _rotation_drafts(session, athletes, {row.id: row for row in shoe_rows}, day, now)
    return drafts


def _rotation_drafts(session: Session, athletes: dict[uuid.UUID, notifications.Recipient],
                     shoe_rows: dict[uuid.UUID, Any], day: date,
                     now: datetime) -> list[notifications.Draft]:
    by_athlete = shoe_records.recent_distance_by_pair(session, list(athletes), day)
    recently = set(session.scalars(
        select(Notification.athlete_id).where(
            among(session, Notification.athlete_id, list(by_athlete)),
            Notification.kind == "shoe_rotate",
            Notification.created_at > now - ROTATE_EVERY)))
    drafts = []
    for athlete_id, distances in by_athlete.items():
        candidate = shoes.rotation_candidate(distances)
        if candidate is None or athlete_id in recently or candidate not in shoe_rows:
            continue
        athlete = athletes[athlete_id]
        share = distances[candidate] / sum(distances.values())
        title, body, data = shoe_messages.rotate(shoe_rows[candidate].name, share, athlete.units)
        drafts.append(notifications.Draft(athlete_id, "shoe_rotate",
                                          f"shoe_rotate:{day.isoformat()}", title, body,
                                          athlete.deliver_after,
                                          {**data, "shoe_id": str(candidate)}))
    return drafts
