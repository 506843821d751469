"""Check-ins from the phone: runs, pain reports and exercise sessions, in one table.

One table keeps the nightly job set-based (one scan per chunk of athletes) and the sync feed a
single ordered query. Columns of other kinds stay NULL; check constraints keep each kind whole.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, UTCDateTime, utcnow

KINDS = ("run", "pain", "exercise")


class Checkin(Base):
    __tablename__ = "checkins"
    __table_args__ = (
        CheckConstraint("kind IN ('run', 'pain', 'exercise')", name="kind"),
        CheckConstraint(
            "kind != 'run' OR (distance_m IS NOT NULL AND duration_s IS NOT NULL)", name="run"
        ),
        CheckConstraint(
            "kind != 'pain' OR (location IS NOT NULL AND severity IS NOT NULL)", name="pain"
        ),
        CheckConstraint("kind != 'exercise' OR focus IS NOT NULL", name="exercise"),
        Index("uq_checkins_athlete_change_seq", "athlete_id", "change_seq", unique=True),
        # The nightly job and the load report read runs by local day and by time; the included
        # columns let PostgreSQL answer from the index alone. (Not partial indexes: a prepared
        # statement's generic plan cannot use one when `kind` is a bound parameter.)
        Index("ix_checkins_athlete_kind_occurred", "athlete_id", "kind", "occurred_at",
              postgresql_include=["deleted_at", "distance_m"]),
        Index("ix_checkins_athlete_day", "athlete_id", "local_date",
              postgresql_include=["kind", "deleted_at", "distance_m"]),
    )

    # Made by the phone, so a retried upload names the same row.
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    athlete_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    # started_at of a run, recorded_at of pain and exercise; UTC.
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The athlete's calendar day of occurred_at, fixed when written: days and weeks are local.
    local_date: Mapped[date] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(String(2000))

    # run: elapsed seconds, start to finish, pauses included (exercise: how long it took).
    duration_s: Mapped[int | None] = mapped_column(Integer)
    # run: moving (timer) seconds, pauses left out, when the recording says it (FIT, TCX).
    moving_s: Mapped[int | None] = mapped_column(Integer)
    distance_m: Mapped[int | None] = mapped_column(Integer)
    surface: Mapped[str | None] = mapped_column(String(16))
    shoe_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("shoes.id"), index=True)
    effort: Mapped[int | None] = mapped_column(SmallInteger)
    # run: the sport as the recording device named it ("running", "trail_running"), when known.
    sport: Mapped[str | None] = mapped_column(String(40))
    # The file import that created it; imported runs are history, so they get no stretch reminder.
    import_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("imports.id", ondelete="SET NULL"))
    # How it first arrived: "app" (the athlete's own signed-in app), "token" (a personal token),
    # "import" (a file); None for check-ins from before. A stretch reminder for a run the app
    # has just synced goes out at once, even inside quiet hours (stretch.reminders).
    arrived_via: Mapped[str | None] = mapped_column(String(8))

    location: Mapped[str | None] = mapped_column(String(16))
    side: Mapped[str | None] = mapped_column(String(8))
    severity: Mapped[int | None] = mapped_column(SmallInteger)
    timing: Mapped[str | None] = mapped_column(String(16))
    radiates: Mapped[str | None] = mapped_column(String(16))
    morning_stiffness_min: Mapped[int | None] = mapped_column(Integer)
    # The red-flag and inflammatory-screen questions the athlete answered (a missing key was not
    # answered, which is not a "no"), and the triage made from them when the check-in was written.
    answers: Mapped[dict[str, bool | int] | None] = mapped_column(JSON)
    triage_tier: Mapped[str | None] = mapped_column(String(24))
    triage_triggers: Mapped[list[str] | None] = mapped_column(JSON)

    focus: Mapped[str | None] = mapped_column(String(16))
    routine_ids: Mapped[list[str] | None] = mapped_column(JSON)

    # SHA-256 of the normalised body: the same upload again is "unchanged" and writes nothing.
    fingerprint: Mapped[str] = mapped_column(String(64))
    # Per-athlete change sequence, assigned in the writing transaction: the sync cursor.
    change_seq: Mapped[int] = mapped_column(BigInteger)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    @property
    def started_at(self) -> datetime | None:
        return self.occurred_at if self.kind == "run" else None

    @property
    def recorded_at(self) -> datetime | None:
        return None if self.kind == "run" else self.occurred_at

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None
