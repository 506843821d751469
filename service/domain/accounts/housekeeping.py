"""Deleting what has outlived its use: expired sign-ins and tokens, old idempotency records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from service.models import AuthSession, IdempotencyRecord, PersonalAccessToken, RefreshToken


@dataclass(frozen=True)
class PurgeResult:
    sessions: int
    refresh_tokens: int
    personal_tokens: int
    idempotency_records: int


def purge(session: Session, now: datetime) -> PurgeResult:
    """Delete expired sessions and tokens, revoked personal tokens, and stale idempotency records.

    Revoked sessions are kept until they expire, so a leaked refresh token presented late still
    meets its revoked family instead of an unknown token.
    """
    refresh_tokens = session.execute(
        delete(RefreshToken).where(RefreshToken.expires_at <= now)
    ).rowcount
    sessions = session.execute(delete(AuthSession).where(AuthSession.expires_at <= now)).rowcount
    personal = session.execute(delete(PersonalAccessToken).where(or_(
        PersonalAccessToken.expires_at <= now, PersonalAccessToken.revoked_at.is_not(None),
    ))).rowcount
    records = session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= now)
    ).rowcount
    return PurgeResult(sessions, refresh_tokens, personal, records)
