"""Webhooks: the endpoints accounts register, the events written with the changes that caused
them (the outbox), one delivery per (event, endpoint), and the log of every attempt.

An event is written in the same transaction as the change it tells of, and only when some
endpoint wants it, so nothing is written for athletes no one listens to and nothing a listener
wants is lost. A delivery is due at `next_attempt_at`, which beat's sweep reads: retries wait in
the database, never as countdowns in the broker.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, UTCDateTime, utcnow

# Delivery statuses.
PENDING, SENDING, DELIVERED, FAILED, CANCELLED = (
    "pending", "sending", "delivered", "failed", "cancelled")


class WebhookEndpoint(Base):
    """An https URL that wants some event types, with the secret its requests are signed by.

    Without `app_id` it gets its owner's own events. With one it gets the events of every athlete
    who granted that app (OAuth 2) the scopes covering them, while the grant lasts; its owner is
    the app's owner.
    """

    __tablename__ = "webhook_endpoints"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                                index=True)
    app_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(200))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    # The signing secret (`whsec_...`), sealed with a key derived from BACKSTRIDE_SECRET_KEY;
    # during a rotation the one before it too, until `previous_secret_expires_at`.
    secret: Mapped[str] = mapped_column(Text)
    previous_secret: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Since the first failed attempt after the last success; five days of it disables.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(String(40))


class WebhookEvent(Base):
    """One thing that happened to one athlete, as every endpoint that wants it is sent it."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_athlete_created", "athlete_id", "created_at"),)

    # The webhook-id header: the same on every attempt and redelivery of this event.
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    athlete_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(40))
    # The whole body sent: type, timestamp and a thin `data` (ids and a link, no values).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The scopes an app must hold for this athlete to be sent it.
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    event_id: Mapped[str] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"))
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When it is due (pending), or when its current attempt began (sending).
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookAttempt(Base):
    """One request to an endpoint and what came of it: the endpoint's delivery log."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_endpoint_at", "endpoint_id", "at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(40))
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16))  # delivered, failed, gone
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(200))
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)


class ShoeStatusSeen(Base):
    """The status last seen of a pair whose athlete someone listens to (shoe.status_changed)."""

    __tablename__ = "webhook_shoe_statuses"

    shoe_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shoes.id", ondelete="CASCADE"),
                                               primary_key=True)
    athlete_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                                  index=True)
    status: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
