"""Writing notifications exactly once, at a time the athlete will welcome, and reading the inbox."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from service.db.bulk import among, insert_ignoring_conflicts
from service.domain.errors import NotFound
from service.domain.notify.rules import deliver_after
from service.models import Account, Notification


@dataclass(frozen=True)
class Draft:
    """A notification about to be written; its dedupe key names the finding, not the job run."""

    athlete_id: uuid.UUID
    kind: str
    dedupe_key: str
    title: str
    body: str
    deliver_after: datetime
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Recipient:
    """What a job needs to word and time a message for one athlete."""

    id: uuid.UUID
    units: str
    timezone: str
    quiet_hours_start: time
    quiet_hours_end: time
    deliver_after: datetime  # for a message written now


def recipients(session: Session, athlete_ids: Collection[uuid.UUID],
               now: datetime) -> dict[uuid.UUID, Recipient]:
    """The athletes a job writes to, in one query, each with when a message may go out."""
    rows = session.connection().execute(
        select(Account.id, Account.units, Account.timezone, Account.quiet_hours_start,
               Account.quiet_hours_end).where(among(session, Account.id, athlete_ids)))
    return {row.id: Recipient(*row, deliver_after(now, row.timezone, row.quiet_hours_start,
                                                  row.quiet_hours_end))
            for row in rows}


@dataclass(frozen=True)
class Written:
    """A draft that was new, and the id of its notification."""

    id: uuid.UUID
    draft: Draft


def write(session: Session, drafts: list[Draft], now: datetime) -> list[str]:
    """Insert the new drafts and return their kinds; an existing (athlete, key) is skipped."""
    return [item.draft.kind for item in write_new(session, drafts, now)]


def write_new(session: Session, drafts: list[Draft], now: datetime) -> list[Written]:
    """Like `write`, returning the notifications actually inserted (for their webhook events)."""
    if not drafts:
        return []
    rows = [{"id": uuid.uuid4(), "athlete_id": d.athlete_id, "kind": d.kind,
             "dedupe_key": d.dedupe_key, "title": d.title, "body": d.body, "data": d.data,
             "created_at": now, "deliver_after": d.deliver_after} for d in drafts]
    inserted = set(insert_ignoring_conflicts(session, Notification.__table__, rows,
                                             ["athlete_id", "dedupe_key"], "id"))
    return [Written(row["id"], draft) for row, draft in zip(rows, drafts, strict=True)
            if row["id"] in inserted]


def inbox(athlete: Account, now: datetime, *, unread: bool | None = None,
          hide_kinds: Sequence[str] = ()) -> Select[Any]:
    """What the athlete can read now: delivered (past quiet hours), newest first.

    `hide_kinds` are kind prefixes left out (what a coach was not granted)."""
    statement = select(Notification).where(Notification.athlete_id == athlete.id,
                                           Notification.deliver_after <= now,
                                           *(~Notification.kind.startswith(prefix,
                                                                           autoescape=True)
                                             for prefix in hide_kinds))
    if unread is True:
        statement = statement.where(Notification.read_at.is_(None))
    elif unread is False:
        statement = statement.where(Notification.read_at.is_not(None))
    return statement


def mark_read(session: Session, athlete: Account, notification_id: uuid.UUID,
              now: datetime) -> Notification:
    notification = session.scalar(select(Notification).where(
        Notification.id == notification_id, Notification.athlete_id == athlete.id))
    if notification is None:
        raise NotFound("No such notification.")
    if notification.read_at is None:
        notification.read_at = now
    return notification
