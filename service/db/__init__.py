"""The SQLAlchemy engine and session factory, the same code on PostgreSQL and SQLite."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 10_000
WRITES = "backstride_writes"


def make_engine(url: str, **options: Any) -> Engine:
    """An engine whose SQLite connections behave like a server's.

    WAL lets the API read while a worker writes; busy_timeout makes a writer wait for the lock
    instead of failing at once; SQLite only enforces foreign keys when asked to, per connection.
    """
    if url.startswith("sqlite"):
        timeout_s = SQLITE_BUSY_TIMEOUT_MS / 1000
        engine = create_engine(url, connect_args={"timeout": timeout_s}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling is off (see _sqlite_pragmas); we emit BEGIN. A
        # transaction that will write asks for IMMEDIATE: it waits for the write lock up front
        # (busy_timeout) instead of failing with SQLITE_BUSY when it upgrades from reading.
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # No pool_pre_ping: it costs a round trip per request. A connection that died with the
    # server fails its request with a 503 (Retry-After) and SQLAlchemy discards the whole pool,
    # so the next request reconnects.
    # Sessions in UTC: timestamps come back already in UTC, with nothing left to convert.
    options.setdefault("connect_args", {"options": "-c timezone=UTC"})
    return create_engine(url, **options)


def _sqlite_begin(connection: Any) -> None:
    immediate = connection.get_execution_options().get(WRITES, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def commit_without_waiting_for_disk(session: Session) -> None:
    """Commit, on PostgreSQL without waiting for the WAL flush (this transaction only).

    For facts whose loss costs a repeat, never a loss: the last few hundred milliseconds of them
    can vanish only if the database server itself crashes, while a killed worker loses nothing.
    Push delivery records use it so they can be committed one by one at little cost.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    session.commit()


class ReadOnlySessionError(RuntimeError):
    """A session made with `writes=False` was asked to write."""


def make_session_factory(engine: Engine, *, writes: bool = True) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit, so a view can return what it saved.

    `writes=False` is for read-only work (views marked read-only): on SQLite it does not take the
    write lock, and on PostgreSQL it runs in autocommit, sparing the BEGIN and ROLLBACK round
    trips. Such a session refuses to flush changes or run an INSERT, UPDATE or DELETE construct:
    in autocommit each would stick on its own, outside any unit of work, and on SQLite a read
    transaction that turns into a write can fail with SQLITE_BUSY.
    """
    options: dict[str, Any] = {WRITES: writes}
    if not writes and engine.dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"
    factory = sessionmaker(engine.execution_options(**options), expire_on_commit=False)
    if not writes:
        event.listen(factory, "before_flush", _refuse_flush)
        event.listen(factory, "do_orm_execute", _refuse_dml)
    return factory


def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.deleted or any(session.is_modified(o) for o in session.dirty):
        raise ReadOnlySessionError("A read-only session was asked to write (flush).")


def _refuse_dml(execute_state: ORMExecuteState) -> None:
    if execute_state.is_insert or execute_state.is_update or execute_state.is_delete:
        raise ReadOnlySessionError("A read-only session was asked to write "
                                   f"({type(execute_state.statement).__name__}).")
