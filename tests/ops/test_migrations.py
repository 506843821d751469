"""Migrations build exactly the schema the models describe, on both databases, both ways."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from service.db import make_engine, migrate
from service.models import Base


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
