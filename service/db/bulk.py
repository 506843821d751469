"""Inserting many rows at once, skipping those that already exist, on PostgreSQL and SQLite.

On PostgreSQL the rows travel as one array per column through `INSERT ... SELECT FROM unnest()`:
a multi-row VALUES statement for a thousand rows has tens of thousands of placeholders, which
psycopg parses afresh on every call (it caches only short statements), and that parsing cost more
than the insert. Arrays keep the statement short, constant and cached. SQLite gets an ordinary
`INSERT ... ON CONFLICT DO NOTHING`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Column, ColumnElement, Table, any_, bindparam
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

_PG_ARRAY_TYPES = {"Uuid": "uuid", "String": "text", "Text": "text", "UTCDateTime": "timestamptz",
                   "Date": "date", "Integer": "integer", "SmallInteger": "smallint",
                   "BigInteger": "bigint", "Boolean": "boolean", "JSON": "text"}


def insert_ignoring_conflicts(session: Session, table: Table, rows: Sequence[dict[str, Any]],
                              conflict: Sequence[str] | None,
                              returning: str | None = None) -> list[Any]:
    """Insert `rows` unless a row with the same `conflict` columns exists (None: plain insert).

    Columns are those of the first row; the others take their database defaults. Returns the
    `returning` column of the rows actually inserted, or an empty list without it.
    """
    if not rows:
        return []
    columns = [column for column in table.columns if column.key in rows[0]]
    if session.bind.dialect.name == "postgresql":
        return _postgresql(session, table, columns, rows, conflict, returning)
    statement = sqlite.insert(table)
    if conflict:
        statement = statement.on_conflict_do_nothing(index_elements=list(conflict))
    params = [{column.key: row.get(column.key) for column in columns} for row in rows]
    if returning is None:
        session.execute(statement, params)
        return []
    return list(session.scalars(statement.returning(table.c[returning]), params))


def _postgresql(session: Session, table: Table, columns: list[Column[Any]],
                rows: Sequence[dict[str, Any]], conflict: Sequence[str] | None,
                returning: str | None) -> list[Any]:
    names = ", ".join(c.key for c in columns)
    arrays = ", ".join(f"%({c.key})s::{_PG_ARRAY_TYPES[type(c.type).__name__]}[]"
                       for c in columns)
    selected = ", ".join(f"{c.key}::json" if type(c.type).__name__ == "JSON" else c.key
                         for c in columns)
    statement = (f"INSERT INTO {table.name} ({names}) SELECT {selected} FROM unnest({arrays}) "
                 f"AS t({names})")
    if conflict:
        statement += f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
    if returning:
        statement += f" RETURNING {returning}"
    json_columns = {c.key for c in columns if type(c.type).__name__ == "JSON"}
    params = {
        c.key: [json.dumps(row.get(c.key)) if c.key in json_columns and row.get(c.key) is not None
                else row.get(c.key) for row in rows]
        for c in columns
    }
    result = session.connection().exec_driver_sql(statement, params)
    return [row[0] for row in result] if returning else []


def among(session: Session, column: ColumnElement[Any], values: Collection[Any]
          ) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL `column = ANY(array)`, one parameter however many values.

    A chunk of the nightly job names a thousand athletes in each query; as an IN list that is a
    thousand placeholders for psycopg to parse on every call.
    """
    if session.bind.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))
