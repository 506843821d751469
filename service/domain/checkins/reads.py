"""Reading check-ins back: a filtered history, and the change feed phones sync from."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from service.models import Account, Checkin


def history(athlete: Account, *, kind: str | None = None, start: datetime | None = None,
            end: datetime | None = None,
            hide_kinds: Collection[str] = ()) -> Select[tuple[Checkin]]:
    """Live check-ins, optionally of one kind and within [start, end), for the cursor pager;
    none of `hide_kinds` (what the caller may not see)."""
    statement = select(Checkin).where(Checkin.athlete_id == athlete.id,
                                      Checkin.deleted_at.is_(None))
    if kind:
        statement = statement.where(Checkin.kind == kind)
    if hide_kinds:
        statement = statement.where(Checkin.kind.not_in(list(hide_kinds)))
    if start:
        statement = statement.where(Checkin.occurred_at >= start)
    if end:
        statement = statement.where(Checkin.occurred_at < end)
    return statement


@dataclass(frozen=True)
class Changes:
    items: list[Checkin]
    next_since: int
    has_more: bool


def changes_since(session: Session, athlete: Account, since: int, limit: int,
                  kind: str | None = None, hide_kinds: Collection[str] = ()) -> Changes:
    """Everything changed after `since`, deletions included, oldest change first.

    Calling again with `next_since` until `has_more` is false leaves a phone with exactly the
    server's state: sequences are assigned in commit order (see checkin_writes).
    """
    statement = select(Checkin).where(Checkin.athlete_id == athlete.id,
                                      Checkin.change_seq > since)
    if kind:
        statement = statement.where(Checkin.kind == kind)
    if hide_kinds:
        statement = statement.where(Checkin.kind.not_in(list(hide_kinds)))
    rows = list(session.scalars(statement.order_by(Checkin.change_seq).limit(limit + 1)))
    items = rows[:limit]
    return Changes(items, items[-1].change_seq if items else since, len(rows) > limit)
