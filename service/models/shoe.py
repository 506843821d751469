"""A pair of running shoes."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, UTCDateTime, utcnow

DEFAULT_MAX_DISTANCE_M = 800_000
DEFAULT_MAX_AGE_DAYS = 365


class Shoe(Base):
    __tablename__ = "shoes"
    __table_args__ = (
        # At most one default pair per athlete: the one new runs without a shoe_id go on.
        Index("uq_shoes_default_per_athlete", "athlete_id", unique=True,
              postgresql_where=text("is_default"), sqlite_where=text("is_default")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    athlete_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(80))
    brand: Mapped[str | None] = mapped_column(String(80))
    model: Mapped[str | None] = mapped_column(String(80))
    first_used_on: Mapped[date] = mapped_column(Date)
    initial_distance_m: Mapped[int] = mapped_column(Integer, default=0)
    max_distance_m: Mapped[int] = mapped_column(Integer, default=DEFAULT_MAX_DISTANCE_M)
    max_age_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_MAX_AGE_DAYS)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "Looked at them, still fine": the inspect nudge waits for 20 % more distance or 60 days.
    inspected_on: Mapped[date | None] = mapped_column(Date)
    inspected_distance_m: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
