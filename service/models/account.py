"""An account: a runner, and possibly also a coach of other runners."""

from __future__ import annotations

import uuid
from datetime import datetime, time

from sqlalchemy import CheckConstraint, Integer, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, UTCDateTime, utcnow

DEFAULT_QUIET_START = time(21, 30)
DEFAULT_QUIET_END = time(7, 0)


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("units IN ('km', 'mi')", name="units"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(80))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    units: Mapped[str] = mapped_column(String(2), default="km")
    birth_year: Mapped[int | None] = mapped_column(Integer)
    quiet_hours_start: Mapped[time] = mapped_column(Time, default=DEFAULT_QUIET_START)
    quiet_hours_end: Mapped[time] = mapped_column(Time, default=DEFAULT_QUIET_END)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Bumped by SQLAlchemy on every UPDATE: the profile's ETag and a guard against lost updates.
    version: Mapped[int] = mapped_column(Integer, default=1)

    @property
    def quiet_hours(self) -> dict[str, time]:
        return {"start": self.quiet_hours_start, "end": self.quiet_hours_end}

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a plain dict)
