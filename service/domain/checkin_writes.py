"""Writing check-ins from a phone that retries: idempotent upserts, batches, tombstones.

Every write of an athlete first locks that athlete's sync counter, so one athlete's writes are
serialised (two threads upserting the same id leave one row) and every change gets the next number
of the athlete's change sequence in commit order (the sync cursor).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from service.domain import checkins
from service.domain.calendar import local_date
from service.domain.errors import DomainError, Gone, Invalid, NotFound
from service.models import Account, Checkin, Shoe, SyncCounter

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
_PAYLOAD = ("notes", "duration_s", "distance_m", "surface", "effort", "location", "side",
            "severity", "timing", "radiates", "morning_stiffness_min", "focus", "routine_ids")


@dataclass(frozen=True)
class Outcome:
    """What became of one check-in of an upload: a result and the row, or a refusal."""

    id: uuid.UUID
    result: str | None = None
    checkin: Checkin | None = None
    error: DomainError | None = None


def upsert(session: Session, athlete: Account, items: list[dict[str, Any]],
           now: datetime) -> list[Outcome]:
    """Create, update or leave alone each check-in; a refused item leaves the others be."""
    lock_sync_counter(session, athlete.id)
    ids = [item["id"] for item in items]
    existing = {row.id: row for row in session.scalars(select(Checkin).where(Checkin.id.in_(ids)))}
    shoe_ids = {item["shoe_id"] for item in items if item.get("shoe_id")}
    shoes = {shoe.id: shoe for shoe in session.scalars(select(Shoe).where(
        Shoe.athlete_id == athlete.id, Shoe.id.in_(shoe_ids) | Shoe.is_default))}
    default_shoe = next((shoe for shoe in shoes.values() if shoe.is_default), None)

    outcomes: list[Outcome] = []
    created: list[Checkin] = []
    changed: list[Checkin] = []
    seen: set[uuid.UUID] = set()
    for item in items:
        try:
            if item["id"] in seen:
                raise Invalid("This id appears twice in the batch.", field="id")
            seen.add(item["id"])
            row = existing.get(item["id"])
            outcome = _apply(athlete, item, row, shoes, default_shoe, now)
        except DomainError as error:
            outcomes.append(Outcome(item["id"], error=error))
            continue
        outcomes.append(outcome)
        if outcome.result == CREATED:
            created.append(outcome.checkin)
        elif outcome.result == UPDATED:
            changed.append(outcome.checkin)

    written = created + changed
    for row, seq in zip(written, _next_seqs(session, athlete.id, len(written)), strict=True):
        row.change_seq = seq
    if created:
        session.execute(insert(Checkin), [_columns(row) for row in created])
    session.flush()
    return outcomes


def delete(session: Session, athlete: Account, checkin_id: uuid.UUID, now: datetime) -> None:
    """Leave a tombstone the sync feed hands to the athlete's other phones; twice is harmless."""
    lock_sync_counter(session, athlete.id)
    row = session.scalar(select(Checkin).where(Checkin.id == checkin_id))
    if row is None or row.athlete_id != athlete.id:
        raise NotFound("No such check-in.")
    if row.deleted_at is not None:
        return
    row.deleted_at = now
    row.updated_at = now
    row.version += 1
    row.change_seq = _next_seqs(session, athlete.id, 1)[0]


def get_owned(session: Session, athlete: Account, checkin_id: uuid.UUID) -> Checkin:
    row = session.scalar(select(Checkin).where(Checkin.id == checkin_id,
                                               Checkin.athlete_id == athlete.id))
    if row is None:
        raise NotFound("No such check-in.")
    if row.deleted_at is not None:
        raise Gone("This check-in was deleted.")
    return row


def lock_sync_counter(session: Session, athlete_id: uuid.UUID) -> None:
    """Take the athlete's write lock (a row lock on PostgreSQL; SQLite writers are serial)."""
    found = session.scalar(select(SyncCounter.last_seq)
                           .where(SyncCounter.athlete_id == athlete_id).with_for_update())
    if found is None:
        session.add(SyncCounter(athlete_id=athlete_id, last_seq=0))
        session.flush()


def _next_seqs(session: Session, athlete_id: uuid.UUID, count: int) -> list[int]:
    if count == 0:
        return []
    last = session.scalar(
        update(SyncCounter).where(SyncCounter.athlete_id == athlete_id)
        .values(last_seq=SyncCounter.last_seq + count).returning(SyncCounter.last_seq)
    )
    return list(range(last - count + 1, last + 1))


def _apply(athlete: Account, item: dict[str, Any], row: Checkin | None,
           shoes: dict[uuid.UUID, Shoe], default_shoe: Shoe | None, now: datetime) -> Outcome:
    if row is not None and row.athlete_id != athlete.id:
        raise NotFound("No such check-in.")  # another athlete's: reveal nothing, touch nothing
    if row is not None and row.deleted_at is not None:
        raise Gone("This check-in was deleted.")
    fingerprint = checkins.fingerprint(item)
    if row is not None and row.fingerprint == fingerprint:
        return Outcome(row.id, UNCHANGED, row)
    if row is not None and row.kind != item["kind"]:
        raise Invalid(f"This check-in is a {row.kind}; its kind cannot change.", field="kind")

    occurred = checkins.occurred_at(item).astimezone(UTC)
    values: dict[str, Any] = {name: item.get(name) for name in _PAYLOAD}
    values.update(kind=item["kind"], occurred_at=occurred, fingerprint=fingerprint,
                  local_date=local_date(occurred, athlete.timezone), updated_at=now)
    if item["kind"] == "run":
        values["shoe_id"] = _shoe_for(item, row, shoes, default_shoe, occurred)

    if row is None:
        checkin = Checkin(id=item["id"], athlete_id=athlete.id, created_at=now, version=1, **values)
        return Outcome(checkin.id, CREATED, checkin)
    for name, value in values.items():
        setattr(row, name, value)
    row.version += 1
    return Outcome(row.id, UPDATED, row)


def _shoe_for(item: dict[str, Any], row: Checkin | None, shoes: dict[uuid.UUID, Shoe],
              default_shoe: Shoe | None, started_at: datetime) -> uuid.UUID | None:
    """The named pair, else the pair it already had, else the default pair for a new run."""
    if item.get("shoe_id"):
        shoe = shoes.get(item["shoe_id"])
        if shoe is None:
            raise NotFound("No such shoe.", field="shoe_id")
        if shoe.retired_at is not None and started_at >= shoe.retired_at:
            raise Invalid("This pair was retired before the run; pick another.", field="shoe_id")
        return shoe.id
    if row is not None:
        return row.shoe_id
    return default_shoe.id if default_shoe is not None else None


def _columns(row: Checkin) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in Checkin.__table__.columns}
