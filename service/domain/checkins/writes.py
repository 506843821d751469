"""Writing check-ins from a phone that retries: idempotent upserts, batches, tombstones.

Every write of an athlete first reserves numbers of that athlete's change sequence, which locks it
until commit: one athlete's writes are serialised (two threads upserting the same id leave one
row) and changes are numbered in commit order (the sync cursor).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.db.bulk import insert_ignoring_conflicts
from service.domain.calendar import local_date
from service.domain.checkins import rules as checkins
from service.domain.errors import DomainError, Gone, Invalid, NotFound
from service.domain.pain import tiers as pain
from service.domain.shoes import records as shoe_records
from service.domain.webhooks import events, outbox
from service.models import Account, Checkin, Shoe, SyncCounter

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
_PAYLOAD = ("notes", "duration_s", "moving_s", "distance_m", "surface", "sport", "effort",
            "location", "side", "severity", "timing", "radiates", "morning_stiffness_min", "focus",
            "routine_ids")


@dataclass(frozen=True)
class Outcome:
    """What became of one check-in of an upload: a result and the row, or a refusal."""

    id: uuid.UUID
    result: str | None = None
    checkin: Checkin | NewCheckin | None = None
    error: DomainError | None = None
    triage: pain.Written | None = None  # a pain check-in just written: its triage, at once


class NewCheckin(dict[str, Any]):
    """A check-in about to be inserted: its columns, readable as attributes like a row.

    Building 500 ORM instances cost more than inserting them; new rows go in as plain values.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    @classmethod
    def of(cls, values: dict[str, Any]) -> NewCheckin:
        row = cls({column.key: None for column in Checkin.__table__.columns})
        row.update(values)
        kind_is_run = row["kind"] == "run"
        row.update(started_at=row["occurred_at"] if kind_is_run else None,
                   recorded_at=None if kind_is_run else row["occurred_at"], deleted=False)
        return row


# How a new check-in arrived: the athlete's own signed-in app, a personal token (a script), a file.
ARRIVED_VIA = ("app", "token", "import")


def upsert(session: Session, athlete: Account, items: list[dict[str, Any]],
           now: datetime, *, import_id: uuid.UUID | None = None,
           arrived_via: str | None = None) -> list[Outcome]:
    """Create, update or leave alone each check-in; a refused item leaves the others be.

    A retry of what is already stored is answered from one read, without a lock or a write.
    `import_id` marks new rows as history from a file import (see `_shoe_for`); `arrived_via`
    records how new rows came (`ARRIVED_VIA`).
    """
    outcomes: dict[int, Outcome] = {}
    seen: set[uuid.UUID] = set()
    for index, item in enumerate(items):
        if item["id"] in seen:
            outcomes[index] = Outcome(item["id"], error=Invalid(
                "This id appears twice in the batch.", field="id"))
        seen.add(item["id"])
    existing = _rows(session, list(seen))
    pending: list[int] = []
    for index, item in enumerate(items):
        if index in outcomes:
            continue
        row = existing.get(item["id"])
        if row is not None and row.fingerprint == checkins.fingerprint(item):
            outcomes[index] = _unchanged(athlete, row)
        else:
            pending.append(index)
    if pending:
        via = "import" if import_id is not None else arrived_via
        _write(session, athlete, items, pending, existing, outcomes, now, import_id, via)
        _triage(session, athlete, outcomes, now)
        if import_id is None:  # an import's runs are told of by its import.finished
            _tell(session, athlete, list(outcomes.values()), now)
    return [outcomes[index] for index in range(len(items))]


def _tell(session: Session, athlete: Account, outcomes: list[Outcome], now: datetime) -> None:
    """The webhook events of the check-ins just written, in their transaction."""
    changed = [o for o in outcomes if o.result in (CREATED, UPDATED)]
    if not changed:
        return
    # One look-up of the athlete's webhook subscribers for both kinds of event: nothing a
    # check-in write does changes who listens.
    found = outbox.subscribers(session, [athlete.id], now)
    outbox.emit(session, [events.checkin(
        events.CHECKIN_CREATED if o.result == CREATED else events.CHECKIN_UPDATED,
        athlete.id, o.id, o.checkin.kind) for o in changed], now, found)
    if any(o.checkin.kind == "run" for o in changed):
        shoe_records.track_statuses(session, [athlete.id], local_date(now, athlete.timezone),
                                    now, found)


def _triage(session: Session, athlete: Account, outcomes: dict[int, Outcome],
            now: datetime) -> None:
    """Triage the pain check-ins this write created or changed, in the same transaction."""
    changed = {index: outcome for index, outcome in outcomes.items()
               if outcome.result in (CREATED, UPDATED) and outcome.checkin.kind == "pain"}
    if not changed:
        return
    written = pain.triage_written(session, athlete,
                                  [outcome.checkin for outcome in changed.values()], now)
    for index, outcome in changed.items():
        outcomes[index] = replace(outcome, triage=written[outcome.id])


def delete(session: Session, athlete: Account, checkin_id: uuid.UUID, now: datetime) -> None:
    """Leave a tombstone the sync feed hands to the athlete's other phones; twice is harmless."""
    (seq,) = _next_seqs(session, athlete.id, 1)
    row = session.scalar(select(Checkin).where(Checkin.id == checkin_id))
    if row is None or row.athlete_id != athlete.id:
        raise NotFound("No such check-in.")
    if row.deleted_at is not None:
        return
    row.deleted_at = now
    row.updated_at = now
    row.version += 1
    row.change_seq = seq
    outbox.emit(session, [events.checkin(events.CHECKIN_DELETED, athlete.id, row.id, row.kind)],
                now)
    if row.kind == "run":
        session.flush()
        shoe_records.track_statuses(session, [athlete.id], local_date(now, athlete.timezone),
                                    now)


def get_owned(session: Session, athlete: Account, checkin_id: uuid.UUID) -> Checkin:
    row = session.scalar(select(Checkin).where(Checkin.id == checkin_id,
                                               Checkin.athlete_id == athlete.id))
    if row is None:
        raise NotFound("No such check-in.")
    if row.deleted_at is not None:
        raise Gone("This check-in was deleted.")
    return row


def _write(session: Session, athlete: Account, items: list[dict[str, Any]], pending: list[int],
           existing: dict[uuid.UUID, Checkin], outcomes: dict[int, Outcome],
           now: datetime, import_id: uuid.UUID | None = None,
           arrived_via: str | None = None) -> None:
    seqs = iter(_next_seqs(session, athlete.id, len(pending)))  # takes the athlete's lock
    stale = [items[i]["id"] for i in pending if items[i]["id"] in existing]
    if stale:  # read before the lock: read again now that no one else can change them
        existing.update(_rows(session, stale))
    shoes = _shoes(session, athlete, [items[i] for i in pending if items[i]["kind"] == "run"])
    created: dict[int, NewCheckin] = {}
    for index in pending:
        outcome = _decide(athlete, items[index], existing.get(items[index]["id"]), shoes, now,
                          import_id)
        if outcome.result in (CREATED, UPDATED):
            outcome.checkin.change_seq = next(seqs)
        if outcome.result == CREATED:
            outcome.checkin.arrived_via = arrived_via  # in the INSERT: no UPDATE after it
            created[index] = outcome.checkin
        outcomes[index] = outcome
    raced = _insert(session, list(created.values()))
    if raced:  # created by a request that held the lock before us; now they are updates
        existing.update(_rows(session, list(raced)))
        for index, row in created.items():
            if row.id in raced:
                outcome = _decide(athlete, items[index], existing[row.id], shoes, now,
                                  import_id)
                if outcome.result == UPDATED:
                    outcome.checkin.change_seq = row.change_seq
                outcomes[index] = outcome
    session.flush()


def _rows(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, Checkin]:
    if not ids:
        return {}
    return {row.id: row for row in session.scalars(
        select(Checkin).where(Checkin.id.in_(ids)).execution_options(populate_existing=True))}


def _shoes(session: Session, athlete: Account, runs: list[dict[str, Any]]) -> _Shoes:
    if not runs:
        return _Shoes({}, None)
    named = {item["shoe_id"] for item in runs if item.get("shoe_id")}
    found = {shoe.id: shoe for shoe in session.scalars(select(Shoe).where(
        Shoe.athlete_id == athlete.id, Shoe.id.in_(named) | Shoe.is_default))}
    return _Shoes(found, next((shoe for shoe in found.values() if shoe.is_default), None))


def _insert(session: Session, rows: list[NewCheckin]) -> set[uuid.UUID]:
    """Insert new check-ins; the ids of those that turned out to exist already."""
    inserted = insert_ignoring_conflicts(session, Checkin.__table__, rows, ["id"], "id")
    return {row.id for row in rows} - set(inserted)


def _next_seqs(session: Session, athlete_id: uuid.UUID, count: int) -> list[int]:
    """Reserve `count` numbers of the athlete's change sequence, locking it until commit.

    Numbers reserved for items that end up refused are simply skipped: the feed needs order, not
    density.
    """
    statement = (update(SyncCounter).where(SyncCounter.athlete_id == athlete_id)
                 .values(last_seq=SyncCounter.last_seq + count).returning(SyncCounter.last_seq))
    last = session.scalar(statement)
    if last is None:  # an account from before counters existed
        session.add(SyncCounter(athlete_id=athlete_id, last_seq=0))
        session.flush()
        last = session.scalar(statement)
    return list(range(last - count + 1, last + 1))


@dataclass(frozen=True)
class _Shoes:
    by_id: dict[uuid.UUID, Shoe]
    default: Shoe | None


def _unchanged(athlete: Account, row: Checkin) -> Outcome:
    try:
        _check_owner(athlete, row)
    except DomainError as error:
        return Outcome(row.id, error=error)
    return Outcome(row.id, UNCHANGED, row)


def _check_owner(athlete: Account, row: Checkin) -> None:
    if row.athlete_id != athlete.id:
        raise NotFound("No such check-in.")  # another athlete's: reveal nothing, touch nothing
    if row.deleted_at is not None:
        raise Gone("This check-in was deleted.")


def _decide(athlete: Account, item: dict[str, Any], row: Checkin | None, shoes: _Shoes,
            now: datetime, import_id: uuid.UUID | None = None) -> Outcome:
    try:
        return _apply(athlete, item, row, shoes, now, import_id)
    except DomainError as error:
        return Outcome(item["id"], error=error)


def _apply(athlete: Account, item: dict[str, Any], row: Checkin | None, shoes: _Shoes,
           now: datetime, import_id: uuid.UUID | None = None) -> Outcome:
    fingerprint = checkins.fingerprint(item)
    if row is not None:
        _check_owner(athlete, row)
        if row.fingerprint == fingerprint:
            return Outcome(row.id, UNCHANGED, row)
        if row.kind != item["kind"]:
            raise Invalid(f"This check-in is a {row.kind}; its kind cannot change.",
                          field="kind")

    occurred = checkins.occurred_at(item).astimezone(UTC)
    values: dict[str, Any] = {name: item.get(name) for name in _PAYLOAD}
    values["answers"] = checkins.answered(item.get("answers"))
    values.update(kind=item["kind"], occurred_at=occurred, fingerprint=fingerprint,
                  local_date=local_date(occurred, athlete.timezone), updated_at=now)
    if item["kind"] == "run":
        values["shoe_id"] = _shoe_for(item, row, shoes, occurred, values["local_date"],
                                      history=import_id is not None)

    if row is None:
        checkin = NewCheckin.of({"id": item["id"], "athlete_id": athlete.id, "created_at": now,
                                 "version": 1, "import_id": import_id, **values})
        return Outcome(checkin.id, CREATED, checkin)
    for name, value in values.items():
        setattr(row, name, value)
    row.version += 1
    return Outcome(row.id, UPDATED, row)


def _shoe_for(item: dict[str, Any], row: Checkin | None, shoes: _Shoes, started_at: datetime,
              day: date, *, history: bool = False) -> uuid.UUID | None:
    """The named pair, else the pair it already had, else the default pair for a new run.

    An imported run (`history`) goes on the default pair only if it was run on or after the day
    the pair was first used: five years of history must not land on last month's shoes.
    """
    if item.get("shoe_id"):
        shoe = shoes.by_id.get(item["shoe_id"])
        if shoe is None:
            raise NotFound("No such shoe.", field="shoe_id")
        if shoe.retired_at is not None and started_at >= shoe.retired_at:
            raise Invalid("This pair was retired before the run; pick another.", field="shoe_id")
        return shoe.id
    if row is not None:
        return row.shoe_id
    if shoes.default is None or (history and day < shoes.default.first_used_on):
        return None
    return shoes.default.id
