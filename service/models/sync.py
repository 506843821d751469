"""Bookkeeping for offline sync and retried requests."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, UTCDateTime, utcnow


class SyncCounter(Base):
    """The last change sequence handed out for an athlete.

    Incrementing it takes a row lock held until commit, so sequences are assigned in commit order:
    a phone that has seen N can never later miss a change numbered below N. Timestamps cannot
    promise that (transactions commit out of order; clocks drift).
    """

    __tablename__ = "sync_counters"

    athlete_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class IdempotencyRecord(Base):
    """The first response to a request sent with an Idempotency-Key, replayed for 24 hours.

    Stored in the same transaction as the effect, so a replay can never see an effect without its
    record or a record without its effect.
    """

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "route", "key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # The athlete's id, or "anonymous" for registration.
    scope: Mapped[str] = mapped_column(String(64))
    route: Mapped[str] = mapped_column(String(120))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
