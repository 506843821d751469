"""Where pushes go: a Web Push subscription, an FCM, APNs or Expo token."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, UTCDateTime, utcnow

KINDS = ("webpush", "fcm", "apns", "expo")


class Device(Base):
    __tablename__ = "devices"
    # A token or subscription belongs to whoever registered it last: one row per address.
    __table_args__ = (UniqueConstraint("kind", "address"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    athlete_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    # The sign-in it was registered under: signing out removes it.
    session_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("auth_sessions.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    # The token (FCM, APNs, Expo) or the Web Push endpoint URL.
    address: Mapped[str] = mapped_column(Text)
    p256dh: Mapped[str | None] = mapped_column(String(200))  # Web Push only
    auth: Mapped[str | None] = mapped_column(String(100))  # Web Push only
    label: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(String(80))

    @property
    def hint(self) -> str:
        """Enough to recognise it, not enough to use it."""
        if self.kind == "webpush":
            return self.address.split("//", 1)[-1].split("/", 1)[0]
        return "…" + self.address[-6:]
