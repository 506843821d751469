"""Storing and reading plans: idempotent writes by the client's ids, the check, done against
planned.

A write of an athlete's plan first locks the athlete's account row until commit, so two writes of
one plan (the athlete's phone and their coach, or a retried batch) are serialised and a new id
written twice leaves one row. Writing the same body again changes nothing and says "unchanged".
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service.db.bulk import among
from service.domain.errors import DomainError, Invalid, NotFound
from service.domain.plans import rules
from service.domain.webhooks import events, outbox
from service.models import Account, Checkin, PlannedRun

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
MAX_BATCH = 500
# The check needs the runs of the 90 days before the first day judged (the spike rule's fallback
# window) and the 13 before that day for the weekly rule; a margin of a day for today.
HISTORY_DAYS = 91 + 13


@dataclass(frozen=True)
class Outcome:
    id: uuid.UUID
    result: str | None = None
    run: PlannedRun | None = None
    error: DomainError | None = None


def fingerprint(item: dict[str, Any]) -> str:
    body = {"date": item["date"].isoformat(), "distance_m": item["distance_m"],
            "kind": item.get("kind"), "notes": item.get("notes")}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def problems(item: dict[str, Any], today: date) -> dict[str, list[str]]:
    """What the schema cannot check: the day against the athlete's today, the kind, the bounds."""
    errors: dict[str, list[str]] = {}
    day = item["date"]
    if not today - timedelta(days=rules.DAYS_BACK) <= day <= today + timedelta(
            days=rules.DAYS_AHEAD):
        errors["date"] = ["More than a year ago or two years ahead: check the year."]
    if not rules.MIN_DISTANCE_M <= item["distance_m"] <= rules.MAX_DISTANCE_M:
        errors["distance_m"] = [f"Between {rules.MIN_DISTANCE_M} m and "
                                f"{rules.MAX_DISTANCE_M // 1000} km."]
    if item.get("kind") is not None and item["kind"] not in rules.KINDS:
        errors["kind"] = [f"One of {', '.join(rules.KINDS)}."]
    return errors


@dataclass(frozen=True)
class Written:
    outcomes: list[Outcome]  # one per item, in order
    removed: int = 0  # with `replace`: the other planned runs of the stretch, removed

    @property
    def changed(self) -> bool:
        return self.removed > 0 or any(o.result in (CREATED, UPDATED) for o in self.outcomes)


def upsert(session: Session, athlete: Account, items: Sequence[dict[str, Any]], today: date,
           now: datetime, *, coach: Account | None = None,
           replace: bool = False) -> Written:
    """Create, update or leave alone each planned run; a refused item leaves the others be.

    `coach` is the coach writing (None: the athlete). With `replace`, the athlete's other planned
    runs from the batch's first day to its last are removed: the batch is that stretch's plan.
    """
    _lock(session, athlete)
    outcomes: dict[int, Outcome] = {}
    seen: set[uuid.UUID] = set()
    for index, item in enumerate(items):
        if item["id"] in seen:
            outcomes[index] = Outcome(item["id"], error=Invalid(
                "This id appears twice in the batch.", field="id"))
            continue
        seen.add(item["id"])
        wrong = problems(item, today)
        if wrong:
            name, messages = next(iter(wrong.items()))
            outcomes[index] = Outcome(item["id"], error=Invalid(messages[0], field=name))
    existing = {row.id: row for row in session.scalars(
        select(PlannedRun).where(PlannedRun.id.in_(list(seen))))} if seen else {}
    moved_from = {row.id: row.local_date for row in existing.values()}
    for index, item in enumerate(items):
        if index in outcomes:
            continue
        outcomes[index] = _apply(session, athlete, item, existing.get(item["id"]), now, coach)
    removed = 0
    session.flush()
    if replace:
        kept = [o.id for o in outcomes.values() if o.error is None]
        days = [item["date"] for index, item in enumerate(items) if outcomes[index].error is None]
        if days:
            removed = session.execute(delete(PlannedRun).where(
                PlannedRun.athlete_id == athlete.id, PlannedRun.local_date >= min(days),
                PlannedRun.local_date <= max(days), PlannedRun.id.not_in(kept)),
                execution_options={"synchronize_session": False}).rowcount or 0
    written = Written([outcomes[index] for index in range(len(items))], removed)
    _announce(session, athlete, written, items, moved_from, now, coach)
    return written


def _announce(session: Session, athlete: Account, written: Written,
              items: Sequence[dict[str, Any]], moved_from: dict[uuid.UUID, date],
              now: datetime, coach: Account | None) -> None:
    """One `plan.changed` event for a write that changed anything, spanning every day touched:
    new days, the days updated runs moved from, and with `replace` the whole stretch."""
    if not written.changed:
        return
    counts = Counter(o.result for o in written.outcomes)
    days = [item["date"] for item, o in zip(items, written.outcomes, strict=True)
            if o.result in (CREATED, UPDATED)]
    days += [moved_from[o.id] for o in written.outcomes if o.result == UPDATED]
    if written.removed:
        days += [item["date"] for item, o in zip(items, written.outcomes, strict=True)
                 if o.error is None]
    outbox.emit(session, [events.plan_changed(
        athlete.id, min(days), max(days), created=counts[CREATED], updated=counts[UPDATED],
        removed=written.removed, coach_id=coach.id if coach else None)], now)


def _lock(session: Session, athlete: Account) -> None:
    session.execute(select(Account.id).where(Account.id == athlete.id).with_for_update())


def _apply(session: Session, athlete: Account, item: dict[str, Any], row: PlannedRun | None,
           now: datetime, coach: Account | None) -> Outcome:
    if row is not None and row.athlete_id != athlete.id:
        return Outcome(item["id"], error=NotFound("No such planned run."))
    digest = fingerprint(item)
    if row is not None and row.fingerprint == digest:
        return Outcome(row.id, UNCHANGED, row)
    values = {"local_date": item["date"], "distance_m": item["distance_m"],
              "kind": item.get("kind"), "notes": item.get("notes"), "fingerprint": digest,
              "coach_id": coach.id if coach is not None else None, "updated_at": now}
    if row is None:
        row = PlannedRun(id=item["id"], athlete_id=athlete.id, created_at=now, version=1,
                         **values)
        session.add(row)
        return Outcome(row.id, CREATED, row)
    for name, value in values.items():
        setattr(row, name, value)
    row.version += 1
    return Outcome(row.id, UPDATED, row)


def get_owned(session: Session, athlete: Account, run_id: uuid.UUID) -> PlannedRun:
    row = session.scalar(select(PlannedRun).where(PlannedRun.id == run_id,
                                                  PlannedRun.athlete_id == athlete.id))
    if row is None:
        raise NotFound("No such planned run.")
    return row


def remove(session: Session, athlete: Account, run_id: uuid.UUID, now: datetime, *,
           coach: Account | None = None) -> None:
    _lock(session, athlete)
    row = get_owned(session, athlete, run_id)
    day = row.local_date
    session.delete(row)
    session.flush()
    outbox.emit(session, [events.plan_changed(athlete.id, day, day, created=0, updated=0,
                                              removed=1, coach_id=coach.id if coach else None)],
                now)


def listing(session: Session, athlete: Account, first: date | None,
            last: date | None) -> list[PlannedRun]:
    statement = select(PlannedRun).where(PlannedRun.athlete_id == athlete.id)
    if first is not None:
        statement = statement.where(PlannedRun.local_date >= first)
    if last is not None:
        statement = statement.where(PlannedRun.local_date <= last)
    return list(session.scalars(statement.order_by(PlannedRun.local_date, PlannedRun.created_at,
                                                   PlannedRun.id)))


# -- reading plans and runs for the rules, set-based -------------------------------------------


def planned(session: Session, athlete_ids: Collection[uuid.UUID], first: date | None,
            last: date | None = None) -> dict[uuid.UUID, list[rules.Planned]]:
    """Each athlete's planned runs between two days (either open), in one query."""
    c = PlannedRun.__table__.c
    statement = select(c.athlete_id, c.id, c.local_date, c.distance_m, c.kind).where(
        among(session, c.athlete_id, athlete_ids))
    if first is not None:
        statement = statement.where(c.local_date >= first)
    if last is not None:
        statement = statement.where(c.local_date <= last)
    by_athlete: dict[uuid.UUID, list[rules.Planned]] = defaultdict(list)
    for athlete_id, run_id, day, metres, kind in session.connection().execute(
            statement.order_by(c.athlete_id, c.local_date, c.created_at, c.id)):
        by_athlete[athlete_id].append(rules.Planned(run_id, day, metres, kind))
    return by_athlete


def done(session: Session, athlete_ids: Collection[uuid.UUID], first: date,
         last: date) -> dict[uuid.UUID, list[rules.Done]]:
    """Each athlete's runs by local day between two days, in one query."""
    c = Checkin.__table__.c
    by_athlete: dict[uuid.UUID, list[rules.Done]] = defaultdict(list)
    for athlete_id, day, metres in session.connection().execute(
            select(c.athlete_id, c.local_date, c.distance_m)
            .where(among(session, c.athlete_id, athlete_ids), c.kind == "run",
                   c.deleted_at.is_(None), c.local_date >= first, c.local_date <= last)
            .order_by(c.athlete_id, c.occurred_at)):
        by_athlete[athlete_id].append(rules.Done(day, metres))
    return by_athlete


def first_run_days(session: Session, athlete_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, date]:
    c = Checkin.__table__.c
    return dict(session.connection().execute(
        select(c.athlete_id, func.min(c.local_date))
        .where(among(session, c.athlete_id, athlete_ids), c.kind == "run",
               c.deleted_at.is_(None))
        .group_by(c.athlete_id)).all())


@dataclass(frozen=True)
class Situation:
    """What the rules need to judge one athlete's plan from today."""

    done: list[rules.Done]
    planned: list[rules.Planned]
    first_run_day: date | None
    today: date


def situation(session: Session, athlete: Account, today: date) -> Situation:
    ids = [athlete.id]
    return Situation(done(session, ids, today - timedelta(days=HISTORY_DAYS), today).get(
                         athlete.id, []),
                     planned(session, ids, today).get(athlete.id, []),
                     first_run_days(session, ids).get(athlete.id), today)


def check(session: Session, athlete: Account, today: date, threshold: float) -> rules.Preflight:
    seen = situation(session, athlete, today)
    return rules.judge(seen.done, seen.planned, today, threshold,
                       first_run_day=seen.first_run_day)


def safer(session: Session, athlete: Account, today: date, threshold: float) -> rules.Safer:
    seen = situation(session, athlete, today)
    return rules.safer(seen.done, seen.planned, today, threshold,
                       first_run_day=seen.first_run_day)


ADHERENCE_DAYS = 14


@dataclass(frozen=True)
class Adherence:
    days: list[rules.DayMatch]  # each planned day from `first` to `last`
    counts: dict[str, int]
    next_run: rules.Planned | None  # the first planned run after `last`


def adherence(session: Session, athlete_ids: Collection[uuid.UUID], first: date, last: date,
              today: dict[uuid.UUID, date]) -> dict[uuid.UUID, Adherence]:
    """Done against planned for each athlete from `first` to `last`, and their next planned
    run after it (within a year): two queries for any number of athletes."""
    if not athlete_ids:
        return {}
    plans_then = planned(session, athlete_ids, first, last + timedelta(days=366))
    runs = done(session, athlete_ids, first, last)
    result = {}
    for athlete_id in athlete_ids:
        runs_planned = plans_then.get(athlete_id, [])
        window = [run for run in runs_planned if run.day <= last]
        ahead = [run for run in runs_planned if run.day > last]
        matched = rules.match(window, runs.get(athlete_id, []), today[athlete_id])
        result[athlete_id] = Adherence(matched, rules.counts(matched),
                                       ahead[0] if ahead else None)
    return result
