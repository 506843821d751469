"""Where the nightly analysis stands for each athlete."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, UTCDateTime, utcnow


class NightlyState(Base):
    """The last local day analysed; locked by the chunk that analyses the next one."""

    __tablename__ = "nightly_state"

    athlete_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    analysed_through: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NightlyLog(Base):
    """One row per athlete and local day analysed: what ops read to see a night went through."""

    __tablename__ = "nightly_log"
    __table_args__ = (Index("ix_nightly_log_athlete_day", "athlete_id", "local_day"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    athlete_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    local_day: Mapped[date] = mapped_column(Date)
    analysed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(40))  # "nightly.analyse_chunk", "cli"
