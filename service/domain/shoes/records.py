"""An athlete's shoes: reading them with their wear, and keeping the pairs in order."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, select, update
from sqlalchemy.orm import Session

from service.db.bulk import among, insert_ignoring_conflicts
from service.domain.errors import Invalid, NotFound
from service.domain.shoes import rules
from service.domain.webhooks import events, outbox
from service.models import Account, Checkin, Shoe
from service.models.webhooks import ShoeStatusSeen


@dataclass(frozen=True)
class ShoeState:
    """A shoe with its wear forecast, as the API shows it."""

    shoe: Shoe
    forecast: rules.Forecast

    def __getattr__(self, name: str) -> Any:
        if name in rules.Forecast.__dataclass_fields__:
            return getattr(self.forecast, name)
        return getattr(self.shoe, name)


def states(session: Session, shoes: list[Shoe], today: date) -> list[ShoeState]:
    pairs = wear_inputs(session, shoes, today)
    return [ShoeState(shoe, rules.forecast(pairs[shoe.id], today)) for shoe in shoes]


def wear_inputs(session: Session, shoes: list[Any], today: date) -> dict[uuid.UUID, rules.Pair]:
    """What the wear rules need for each shoe, from two aggregate queries for all of them.

    `shoes` are Shoe rows or any rows with the same attributes (the nightly job reads Core rows).
    """
    if not shoes:
        return {}
    window_start = today - timedelta(days=rules.RATE_WINDOW_DAYS - 1)
    c = Checkin.__table__.c
    s = Shoe.__table__.c
    live_run = and_(c.kind == "run", c.deleted_at.is_(None), c.local_date <= today)
    in_window = c.local_date >= window_start
    since_use = and_(in_window, c.local_date >= s.first_used_on)
    ids = [shoe.id for shoe in shoes]
    own = {row[0]: row[1:] for row in session.connection().execute(
        select(s.id, func.sum(c.distance_m),
               func.sum(case((in_window, c.distance_m), else_=0)),
               func.sum(case((since_use, c.distance_m), else_=0)))
        .join(Checkin.__table__, and_(c.shoe_id == s.id, live_run))
        .where(among(session, s.id, ids)).group_by(s.id))}
    athlete = {row[0]: row[1:] for row in session.connection().execute(
        select(s.id, func.sum(c.distance_m), func.sum(case((since_use, c.distance_m), else_=0)))
        .join(Checkin.__table__, and_(c.athlete_id == s.athlete_id, live_run, in_window))
        .where(among(session, s.id, ids)).group_by(s.id))}
    pairs = {}
    for shoe in shoes:
        total, last_28, since = own.get(shoe.id, (0, 0, 0))
        athlete_28, athlete_since = athlete.get(shoe.id, (0, 0))
        pairs[shoe.id] = rules.Pair(
            first_used_on=shoe.first_used_on, initial_distance_m=shoe.initial_distance_m,
            run_distance_m=int(total or 0), max_distance_m=shoe.max_distance_m,
            max_age_days=shoe.max_age_days, last_28_days_m=int(last_28 or 0),
            athlete_last_28_days_m=int(athlete_28 or 0), since_first_use_m=int(since or 0),
            athlete_since_first_use_m=int(athlete_since or 0),
            retired=shoe.retired_at is not None, inspected_on=shoe.inspected_on,
            inspected_distance_m=shoe.inspected_distance_m,
        )
    return pairs


def recent_distance_by_pair(session: Session, athlete_ids: list[uuid.UUID],
                            today: date) -> dict[uuid.UUID, dict[uuid.UUID, int]]:
    """Each athlete's distance per pair over the last 8 weeks (runs without a pair left out)."""
    c = Checkin.__table__.c
    rows = session.connection().execute(
        select(c.athlete_id, c.shoe_id, func.sum(c.distance_m))
        .where(among(session, c.athlete_id, athlete_ids), c.kind == "run",
               c.deleted_at.is_(None),
               c.shoe_id.is_not(None), c.local_date <= today,
               c.local_date > today - timedelta(days=rules.ROTATION_WINDOW_DAYS))
        .group_by(c.athlete_id, c.shoe_id))
    by_athlete: dict[uuid.UUID, dict[uuid.UUID, int]] = defaultdict(dict)
    for athlete_id, shoe_id, total in rows:
        by_athlete[athlete_id][shoe_id] = int(total)
    return by_athlete


def track_statuses(session: Session, athlete_ids: list[uuid.UUID], today: date,
                   now: datetime, found: outbox.Subscribers | None = None) -> int:
    """Tell the endpoints listening for shoe.status_changed of each pair whose status moved.

    Only for athletes someone listens to (one query for the others): each pair's status is kept
    beside it once someone does, and the first one seen is where changes are counted from.
    Called after every write that can move a status (a run, a pair changed, inspected or
    retired) and by the nightly job (age alone moves one). Returns how many events. `found`:
    these athletes' webhook subscribers, when the caller has just looked them up.
    """
    listened = outbox.listening(session, athlete_ids, events.SHOE_STATUS_CHANGED, now, found)
    if not listened:
        return 0
    shoes = list(session.scalars(select(Shoe).where(among(session, Shoe.athlete_id, listened))))
    seen = {row.shoe_id: row for row in session.scalars(select(ShoeStatusSeen).where(
        among(session, ShoeStatusSeen.athlete_id, listened)))}
    first, changed = [], []
    for state in states(session, shoes, today):
        known = seen.get(state.shoe.id)
        if known is None:
            first.append({"shoe_id": state.shoe.id, "athlete_id": state.shoe.athlete_id,
                          "status": state.status, "updated_at": now})
        elif known.status != state.status:
            changed.append(events.shoe_status(state.shoe.athlete_id, state.shoe.id,
                                              state.status, known.status))
            known.status, known.updated_at = state.status, now
    insert_ignoring_conflicts(session, ShoeStatusSeen.__table__, first, ["shoe_id"])
    return outbox.emit(session, changed, now)


def get_owned(session: Session, athlete: Account, shoe_id: uuid.UUID) -> Shoe:
    shoe = session.scalar(select(Shoe).where(Shoe.id == shoe_id, Shoe.athlete_id == athlete.id))
    if shoe is None:
        raise NotFound("No such shoe.")
    return shoe


def listing(athlete: Account, *, include_retired: bool) -> Select[tuple[Shoe]]:
    statement = select(Shoe).where(Shoe.athlete_id == athlete.id)
    if not include_retired:
        statement = statement.where(Shoe.retired_at.is_(None))
    return statement


def create(session: Session, athlete: Account, fields: dict[str, Any], today: date) -> Shoe:
    _check_first_use(fields.get("first_used_on"), today)
    shoe = Shoe(athlete_id=athlete.id, is_default=False,
                **{k: v for k, v in fields.items() if k != "is_default"})
    session.add(shoe)
    session.flush()
    if fields.get("is_default"):
        make_default(session, shoe)
    return shoe


def change(session: Session, shoe: Shoe, changes: dict[str, Any], today: date) -> Shoe:
    _check_first_use(changes.get("first_used_on"), today)
    is_default = changes.pop("is_default", None)
    for name, value in changes.items():
        setattr(shoe, name, value)
    if is_default:
        make_default(session, shoe)
    elif is_default is False:
        shoe.is_default = False
    return shoe


def make_default(session: Session, shoe: Shoe) -> None:
    """New runs without a shoe go on this pair; at most one default, never a retired one."""
    if shoe.retired_at is not None:
        raise Invalid("A retired pair cannot be the default.", field="is_default")
    session.execute(update(Shoe).where(Shoe.athlete_id == shoe.athlete_id, Shoe.id != shoe.id,
                                       Shoe.is_default).values(is_default=False))
    shoe.is_default = True


def mark_inspected(session: Session, shoe: Shoe, today: date) -> Shoe:
    """Looked at them, still fine: remember where they stood, so the nudge can wait."""
    if shoe.retired_at is not None:
        raise Invalid("This pair is retired.", field="retired_at")
    shoe.inspected_on = today
    shoe.inspected_distance_m = states(session, [shoe], today)[0].distance_m
    return shoe


def retire(shoe: Shoe, when: datetime, now: datetime) -> Shoe:
    if when > now:
        raise Invalid("Retire them now or in the past.", field="retired_at")
    shoe.retired_at = when
    shoe.is_default = False
    return shoe


def delete_or_retire(session: Session, shoe: Shoe, now: datetime) -> bool:
    """Delete a pair with no runs (True); a pair with runs keeps its history and is retired."""
    has_runs = session.scalar(select(Checkin.id).where(
        Checkin.shoe_id == shoe.id, Checkin.deleted_at.is_(None)).limit(1))
    if has_runs is not None:
        if shoe.retired_at is None:
            retire(shoe, now, now)
        return False
    # Tombstones of deleted runs may still point at it; they no longer need to.
    session.execute(update(Checkin).where(Checkin.shoe_id == shoe.id).values(shoe_id=None))
    session.delete(shoe)
    return True


def _check_first_use(first_used_on: date | None, today: date) -> None:
    if first_used_on is not None and first_used_on > today:
        raise Invalid("First used in the future? Use today or an earlier date.",
                      field="first_used_on")
