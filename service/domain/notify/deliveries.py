"""Pushing notifications to devices: one delivery row per (notification, device), each sent once.

A delivery is claimed (`pending` to `sending`, attempts + 1) and committed before the provider is
called, so a second copy of the same task finds nothing to claim; its outcome is recorded after.
A worker killed between the two leaves it `sending`; the sweep puts such rows back after a few
minutes, and the collapse key makes a repeat replace, not stack, what the phone shows.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Update, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from service.db.bulk import insert_ignoring_conflicts
from service.models import Delivery, Device, Notification
from service.models.delivery import DEAD, GONE, PENDING, SENDING, SENT

MAX_ATTEMPTS = 6
BASE_BACKOFF_S = 30
MAX_BACKOFF_S = 3600
STUCK_AFTER = timedelta(minutes=5)
RECENT = timedelta(days=2)  # notifications older than this are inbox-only


@dataclass(frozen=True)
class Outcome:
    """What a provider said: ok, gone (drop the token), retry (maybe after N s), or failed."""

    kind: str
    detail: str = ""
    retry_after_s: float | None = None


@dataclass(frozen=True)
class Claimed:
    delivery_id: uuid.UUID
    device: Device
    notification: Notification
    # The claim's attempt number, counting this one: what `record` decides a retry or the end by,
    # and how `started` knows the row is still this claim's (a later claim has another).
    attempts: int


def backoff_s(attempts: int, retry_after_s: float | None = None,
              jitter: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter (0.5x to 1.5x), never sooner than Retry-After."""
    delay = min(MAX_BACKOFF_S, BASE_BACKOFF_S * 2 ** max(0, attempts - 1))
    delay *= 0.5 + jitter()
    return max(delay, retry_after_s or 0)


def plan(session: Session, now: datetime, kinds: Sequence[str],
         notification_ids: Sequence[uuid.UUID] | None = None) -> int:
    """Create the missing delivery rows of due notifications (or of the given ones).

    Only devices of `kinds`, the providers this deployment can send to.
    """
    due = select(Notification.id, Device.id).join(
        Device, (Device.athlete_id == Notification.athlete_id) & Device.disabled_at.is_(None)
        & Device.kind.in_(list(kinds)))
    due = due.where(Notification.deliver_after <= now, Notification.created_at >= now - RECENT)
    if notification_ids is not None:
        due = due.where(Notification.id.in_(list(notification_ids)))
    rows = [{"id": uuid.uuid4(), "notification_id": n, "device_id": d, "status": PENDING,
             "attempts": 0, "next_attempt_at": now, "created_at": now}
            for n, d in session.execute(due)]
    return len(insert_ignoring_conflicts(session, Delivery.__table__, rows,
                                         ["notification_id", "device_id"], "id"))


def batch_size(stuck_after_s: float, timeout_s: float, most: int = 100) -> int:
    """How many deliveries one claim may take: so many that even if every one of them takes the
    whole push timeout, the last is reached before `release_stuck` would call it stuck. A bigger
    batch has its waiting tail put back and claimed again by other workers, over and over while
    the push service is slow, each claim an attempt, until live rows end up dead."""
    return max(1, min(most, math.ceil(stuck_after_s / timeout_s) - 1))


def claim(session: Session, now: datetime, notification_id: uuid.UUID | None = None,
          limit: int = 100) -> list[Claimed]:
    """Take due deliveries for sending; the caller commits before calling any provider."""
    statement = (select(Delivery).where(Delivery.status == PENDING,
                                        Delivery.next_attempt_at <= now)
                 .order_by(Delivery.next_attempt_at).limit(limit)
                 .with_for_update(skip_locked=True))
    if notification_id is not None:
        statement = statement.where(Delivery.notification_id == notification_id)
    rows = list(session.scalars(statement))
    if not rows:
        return []
    found = {row.id: row for row in session.scalars(
        select(Device).where(Device.id.in_({r.device_id for r in rows})))}
    found.update({row.id: row for row in session.scalars(
        select(Notification).where(Notification.id.in_({r.notification_id for r in rows})))})
    for delivery in rows:
        delivery.status, delivery.attempts = SENDING, delivery.attempts + 1
        delivery.next_attempt_at = now  # while sending: when it was claimed
    session.flush()
    return [Claimed(d.id, found[d.device_id], found[d.notification_id], d.attempts)
            for d in rows]


def _recorded(item: Claimed, outcome: Outcome, now: datetime) -> tuple[dict[str, object],
                                                                       str | None]:
    """The delivery's new columns for this outcome, and why to disable its device (gone)."""
    values: dict[str, object] = {"last_error": outcome.detail or None}
    disable = None
    if outcome.kind == "ok":
        values.update(status=SENT, sent_at=now)
    elif outcome.kind == "gone":
        values.update(status=GONE)
        disable = outcome.detail[:80] or "gone"
    elif outcome.kind == "retry" and item.attempts < MAX_ATTEMPTS:
        values.update(status=PENDING, next_attempt_at=now + timedelta(
            seconds=backoff_s(item.attempts, outcome.retry_after_s)))
    else:
        values.update(status=DEAD)
    return values, disable


def record(session: Session, item: Claimed, outcome: Outcome, now: datetime) -> str:
    """Store what happened; a gone token disables its device. Returns the new status.

    One UPDATE from what the claim returned, without reading the row again: a fan-out records
    each answer in its own commit, and the read was a quarter of its database time.
    """
    values, disable = _recorded(item, outcome, now)
    if disable is not None:
        session.execute(update(Device).where(Device.id == item.device.id).values(
            disabled_at=now, disabled_reason=disable))
    # Core, not the ORM's bulk UPDATE: no identity map to synchronise.
    table = Delivery.__table__
    session.connection().execute(update(table).where(table.c.id == item.delivery_id)
                                 .values(**values))
    return str(values["status"])


def started(session: Session, claimed: Claimed, now: datetime) -> bool:
    """Stamp a claimed delivery as being sent now: `release_stuck` measures from this. False when
    the claim is no longer ours, and the caller must not send it.

    A row waiting in a batch still carries its claim time, so a batch that takes longer than
    `stuck_after` (a slow push service, 100 rows at up to the push timeout each) has its tail
    put back by another worker's sweep while this worker is alive and still coming to it. Then
    either the row is pending again or someone else claimed it (its attempt number moved on),
    and sending it here would send it twice.
    """
    return session.connection().execute(_started(claimed, now)).rowcount == 1


def _started(claimed: Claimed, now: datetime) -> Update:
    c = Delivery.__table__.c
    return (update(Delivery.__table__)
            .where(c.id == claimed.delivery_id, c.status == SENDING,
                   c.attempts == claimed.attempts)
            .values(next_attempt_at=now))


class Recorder:
    """Records each answer of a fan-out in its own commit, with the next delivery's `started`.

    Committed one by one so that a worker killed mid fan-out sends again at most the message
    that was in flight. On PostgreSQL that is one statement a message on a connection of its own
    in autocommit, with `synchronous_commit` off (a lost record costs a repeat, never a loss, and
    only if the database server itself crashes): the record, a gone device disabled and the next
    stamp as data-modifying CTEs, atomic as one statement is. That replaced BEGIN, two UPDATEs,
    SET LOCAL and COMMIT, five round trips a message (bench/RESULTS.md, "Push fan-out").
    Elsewhere (SQLite) the same writes go through the session, committed each time.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.connection: Connection | None = None

    def __enter__(self) -> Recorder:
        engine = self.session.get_bind()
        if engine.dialect.name == "postgresql":
            self.connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self.connection.exec_driver_sql("SET synchronous_commit TO OFF")
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.connection is not None:
            try:
                self.connection.exec_driver_sql("RESET synchronous_commit")
            except DBAPIError:  # never back to the pool with the setting still off
                self.connection.invalidate()
            finally:
                self.connection.close()

    def __call__(self, item: Claimed, outcome: Outcome, following: Claimed | None,
                 now: datetime) -> tuple[str, bool]:
        """The answer's new status, and whether `following` is still ours to send."""
        if self.connection is None:
            status = record(self.session, item, outcome, now)
            ours = following is None or started(self.session, following, now)
            self.session.commit()
            return status, ours
        values, disable = _recorded(item, outcome, now)
        table, devices = Delivery.__table__, Device.__table__
        recorded = (update(table).where(table.c.id == item.delivery_id).values(**values)
                    .returning(table.c.id).cte("recorded"))
        writes = [recorded]
        if disable is not None:
            writes.append(update(devices).where(devices.c.id == item.device.id)
                          .values(disabled_at=now, disabled_reason=disable)
                          .returning(devices.c.id).cte("disabled"))
        counted = recorded
        if following is not None:
            counted = _started(following, now).returning(table.c.id).cte("stamped")
            writes.append(counted)
        stamped = self.connection.execute(
            select(func.count()).select_from(counted).add_cte(*writes)).scalar_one()
        return str(values["status"]), following is None or stamped == 1

    def passed(self, following: Claimed | None, now: datetime) -> bool:
        """Nothing sent for a delivery no longer ours (a sweep put it back: another worker sends
        it); only the next one is stamped. Whether that one is still ours."""
        if following is None:
            return True
        if self.connection is None:
            ours = started(self.session, following, now)
            self.session.commit()
            return ours
        return self.connection.execute(_started(following, now)).rowcount == 1


def release_stuck(session: Session, now: datetime, stuck_after: timedelta = STUCK_AFTER) -> int:
    """Put back deliveries whose worker died between claiming and recording.

    One that has had all its attempts is dead instead: a message whose sending kills the worker
    every time (or outlasts its time limit) must not be claimed again forever.
    """
    stuck = (Delivery.status == SENDING) & (Delivery.next_attempt_at <= now - stuck_after)
    session.execute(update(Delivery).where(stuck, Delivery.attempts >= MAX_ATTEMPTS)
                    .values(status=DEAD, last_error="the worker sending it stopped"))
    return session.execute(
        update(Delivery).where(stuck).values(status=PENDING, next_attempt_at=now)
    ).rowcount
