"""Shoes: what a pair has done, and keeping an athlete's pairs in order.

Wear limits are conventions (C): most running shoes are built for roughly 500 to 800 km, and the
athlete may set 480 to 1,000 km and 90 to 730 days for each pair.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from service.domain.errors import Invalid, NotFound
from service.models import Account, Checkin, Shoe

MAX_DISTANCE_RANGE_M = (480_000, 1_000_000)
MAX_AGE_RANGE_DAYS = (90, 730)
MAX_INITIAL_DISTANCE_M = 5_000_000


def age_days(first_used_on: date, today: date) -> int:
    """Whole days since first use; a pair first used today is 0 days old."""
    return max(0, (today - first_used_on).days)


@dataclass(frozen=True)
class ShoeState:
    """A shoe with what its runs add up to, as the API shows it."""

    shoe: Shoe
    distance_m: int
    age_days: int

    def __getattr__(self, name: str) -> Any:
        return getattr(self.shoe, name)


def states(session: Session, shoes: list[Shoe], today: date) -> list[ShoeState]:
    """Distance and age of each shoe, with one aggregate query for all of them."""
    run_distance = run_distances(session, [shoe.id for shoe in shoes])
    return [
        ShoeState(shoe, shoe.initial_distance_m + run_distance.get(shoe.id, 0),
                  age_days(shoe.first_used_on, today))
        for shoe in shoes
    ]


def run_distances(session: Session, shoe_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not shoe_ids:
        return {}
    rows = session.execute(
        select(Checkin.shoe_id, func.sum(Checkin.distance_m))
        .where(Checkin.shoe_id.in_(shoe_ids), Checkin.kind == "run", Checkin.deleted_at.is_(None))
        .group_by(Checkin.shoe_id)
    )
    return {shoe_id: int(total) for shoe_id, total in rows}


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


def retire(shoe: Shoe, when: datetime) -> Shoe:
    shoe.retired_at = when
    shoe.is_default = False
    return shoe


def delete_or_retire(session: Session, shoe: Shoe, now: datetime) -> bool:
    """Delete a pair with no runs (True); a pair with runs keeps its history and is retired."""
    has_runs = session.scalar(select(Checkin.id).where(
        Checkin.shoe_id == shoe.id, Checkin.deleted_at.is_(None)).limit(1))
    if has_runs is not None:
        if shoe.retired_at is None:
            retire(shoe, now)
        return False
    # Tombstones of deleted runs may still point at it; they no longer need to.
    session.execute(update(Checkin).where(Checkin.shoe_id == shoe.id).values(shoe_id=None))
    session.delete(shoe)
    return True


def _check_first_use(first_used_on: date | None, today: date) -> None:
    if first_used_on is not None and first_used_on > today:
        raise Invalid("First used in the future? Use today or an earlier date.",
                      field="first_used_on")
