"""Migrations build exactly the schema the models describe, on both databases, both ways."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from service.db import make_engine, migrate
from service.models import Account, Base, PersonalAccessToken


def schema_differences(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    return diff


def test_migrations_match_the_models(test_database):
    assert schema_differences(test_database.url) == [], "write a migration for the model change"


def test_migrations_downgrade_to_nothing_and_back(test_database):
    migrate.downgrade(test_database.url, "base")
    engine = make_engine(test_database.url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    migrate.upgrade(test_database.url)
    assert schema_differences(test_database.url) == []


def test_coach_tokens_made_before_0016_keep_their_pain_reads(test_database):
    """`pain:read` joins every personal token holding `coach:read`, and only those."""
    migrate.downgrade(test_database.url, "0015")
    engine = make_engine(test_database.url)
    scopes_before = {"coach": ["coach:read", "coach:write"], "plain": ["profile:read"],
                     "both": ["coach:read", "pain:read"]}
    with Session(engine) as session:
        kim = Account(email="kim@example.org", password_hash="x", timezone="UTC", units="km")
        session.add(kim)
        session.flush()
        for name, scopes in scopes_before.items():
            session.add(PersonalAccessToken(
                account_id=kim.id, name=name, token_hash=name * 8, token_hint=name,
                scopes=scopes, expires_at=datetime.now(UTC) + timedelta(days=1)))
        session.commit()
    migrate.upgrade(test_database.url)
    with Session(engine) as session:
        after = {t.name: t.scopes for t in session.scalars(select(PersonalAccessToken))}
    engine.dispose()
    assert after == {"coach": ["coach:read", "coach:write", "pain:read"],
                     "plain": ["profile:read"], "both": ["coach:read", "pain:read"]}
