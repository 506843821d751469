"""Purging expired sign-ins and tokens removes what can no longer authenticate, and only that."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from service.clock import utcnow
from service.db import make_engine, make_session_factory
from service.domain.accounts import housekeeping, passwords, tokens
from service.domain.accounts import registration as accounts
from service.models import (
    Account,
    AuthSession,
    IdempotencyRecord,
    PersonalAccessToken,
    RefreshToken,
)

POLICY = tokens.TokenPolicy("k" * 40, access_ttl_s=900, refresh_ttl_s=30 * 86400,
                            personal_token_max_days=366)


def seed_expired_and_live(session, now):
    """Two runners: one signed in 40 days ago and never since, one signed in today."""
    hasher = passwords.make_hasher("cheapest")
    old = accounts.register(session, hasher, email="old@example.org",
                            password="tarmac-and-trails-2026")
    new = accounts.register(session, hasher, email="new@example.org",
                            password="tarmac-and-trails-2026")
    tokens.sign_in(session, POLICY, old, now - timedelta(days=40))
    tokens.sign_in(session, POLICY, new, now)
    tokens.create_personal_token(session, POLICY, old, name="expired", scopes=["profile:read"],
                                 expires_in_days=1, now=now - timedelta(days=2))
    revoked = tokens.create_personal_token(session, POLICY, new, name="revoked",
                                           scopes=["profile:read"], expires_in_days=30, now=now)
    tokens.revoke_personal_token(session, new, revoked.row.id, now)
    tokens.create_personal_token(session, POLICY, new, name="live", scopes=["profile:read"],
                                 expires_in_days=30, now=now)
    for age_hours, key in ((25, "yesterday's retry"), (1, "this morning's retry")):
        created = now - timedelta(hours=age_hours)
        session.add(IdempotencyRecord(scope=str(new.id), route="POST /v1/shoes", key=key,
                                      fingerprint="f" * 64, status_code=201, response_body="{}",
                                      created_at=created, expires_at=created + timedelta(hours=24)))
    session.commit()
    return new


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_purge_removes_only_what_expired_or_was_revoked(database):
    engine = make_engine(database.url)
    now = utcnow()
    with make_session_factory(engine)() as session:
        new = seed_expired_and_live(session, now)

        result = housekeeping.purge(session, now)
        session.commit()

        assert (result.sessions, result.refresh_tokens, result.personal_tokens) == (1, 1, 2)
        assert result.idempotency_records == 1
        assert session.scalars(select(IdempotencyRecord.key)).all() == ["this morning's retry"]
        assert session.scalar(select(AuthSession.account_id)) == new.id
        assert count(session, RefreshToken) == 1
        assert session.scalars(select(PersonalAccessToken.name)).all() == ["live"]
        assert count(session, Account) == 2, "accounts are never purged"
        again = housekeeping.purge(session, now)
        assert again == housekeeping.PurgeResult(0, 0, 0, 0), "purging twice removes nothing more"
    engine.dispose()
