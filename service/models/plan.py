"""Planned runs: what an athlete (or a coach they allowed) means to run, day by day."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, UTCDateTime, utcnow


class PlannedRun(Base):
    __tablename__ = "planned_runs"
    __table_args__ = (
        CheckConstraint("distance_m > 0", name="distance"),
        # The plan is read by athlete and day: a day's runs, the days ahead, the last 14.
        Index("ix_planned_runs_athlete_day", "athlete_id", "local_date"),
    )

    # Made by the client (the app, a script, a coach's tool), so a retried write names the row.
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    athlete_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # The athlete's local day; a planned run has no time of day.
    local_date: Mapped[date] = mapped_column(Date)
    distance_m: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str | None] = mapped_column(String(16))  # easy, long, tempo, intervals, race
    notes: Mapped[str | None] = mapped_column(String(2000))
    # The coach who wrote it last; None when the athlete did.
    coach_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"))
    # SHA-256 of the normalised body: the same write again is "unchanged" and writes nothing.
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
