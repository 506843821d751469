"""One beat at a time: Celery's file scheduler that sends only while it holds the beat lock.

Celery does not stop a second beat (celery #2856), and celery-redbeat keeps both its lock and its
schedule in Redis, which keeps nothing on disk here: after a Redis restart its entries are gone
until beat is restarted (redbeat #224, #291), and its lock has been held twice (#127, #163). So the
lock lives where the truth does. On PostgreSQL it is a session-level advisory lock on a connection
of its own: the server releases it the moment that connection ends, so a beat that is killed, or
cut off, hands over without anyone cleaning up. On the embedded SQLite default it is an exclusive
`flock` on a file beside the data, which the kernel releases the same way.

A beat without the lock stands by and asks again every few seconds. The holder checks, at every
tick before it sends, that its lock connection still answers; a beat whose connection broke
stops sending until it has the lock again. Around a hand-over two beats may each send once,
which the tasks' own idempotence (dedupe keys, `nightly_log`) makes harmless.
"""

from __future__ import annotations

import fcntl
import logging
import time
from pathlib import Path
from typing import IO, Any, Protocol

from celery.beat import PersistentScheduler
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# Any 64-bit number no other advisory lock in this database uses; "bstride1" in ASCII.
ADVISORY_LOCK_KEY = 0x6273747269646531
STANDBY_RETRY_S = 5.0


class BeatLock(Protocol):
    def hold(self) -> bool:
        """Take the lock if free, or confirm it is still ours; never blocks."""

    def release(self) -> None: ...


class PostgresAdvisoryLock:
    def __init__(self, database_url: str) -> None:
        # Its own engine without a pool: the lock belongs to exactly one server session.
        # Keepalives on both ends: this side notices a server that vanished, and the server
        # ends the session (and with it the lock) of a beat whose host or network died within
        # about 25 s, instead of its default two hours.
        keepalive = "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 " \
                    "-c tcp_keepalives_count=3 -c tcp_user_timeout=15000"
        self._engine = create_engine(
            database_url, poolclass=NullPool, isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": 5, "keepalives": 1, "keepalives_idle": 10,
                          "keepalives_interval": 5, "keepalives_count": 3,
                          "tcp_user_timeout": 15_000, "options": keepalive})
        self._connection: Connection | None = None

    def hold(self) -> bool:
        try:
            if self._connection is not None:
                # Still connected means still ours: the server ends the lock with the session.
                self._connection.execute(text("SELECT 1"))
                return True
            connection = self._engine.connect()
            taken = connection.scalar(text("SELECT pg_try_advisory_lock(:key)"),
                                      {"key": ADVISORY_LOCK_KEY})
            if taken:
                self._connection = connection
                return True
            connection.close()
            return False
        except SQLAlchemyError as error:
            log.warning("beat lock: database unreachable (%s); not scheduling",
                        type(error).__name__)
            self._drop()
            return False

    def release(self) -> None:
        self._drop()
        self._engine.dispose()

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.invalidate()
            finally:
                self._connection = None


class FileLock:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._file: IO[str] | None = None

    def hold(self) -> bool:
        if self._file is not None:
            return True
        handle = self._path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the descriptor releases the flock
            self._file = None


def lock_for(database_url: str, data_dir: Path) -> BeatLock:
    if database_url.startswith("postgresql"):
        return PostgresAdvisoryLock(database_url)
    data_dir.mkdir(parents=True, exist_ok=True)
    return FileLock(data_dir / "beat.lock")


class SingleBeatScheduler(PersistentScheduler):
    """The scheduler `backstride beat` runs (`beat_scheduler` in workers.app).

    A beat waits for the lock before it opens its schedule file, so a standby started with the
    same settings never touches the file the active beat is writing.
    """

    def __init__(self, app: Any, *args: Any, lazy: bool = False, **kwargs: Any) -> None:
        settings = app.settings
        self._lock = lock_for(settings.database_url, settings.data_dir)
        self._standing_by: bool | None = None
        # Celery also makes a lazy instance, only to print the banner: it must not take the lock.
        while not lazy and not self._holds():
            time.sleep(STANDBY_RETRY_S)
        super().__init__(app, *args, lazy=lazy, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self._holds():
            return STANDBY_RETRY_S
        return super().tick(*args, **kwargs)

    def _holds(self) -> bool:
        held = self._lock.hold()
        if not held and self._standing_by is not True:
            log.warning("beat lock held by another beat: standing by, scheduling nothing")
        elif held and self._standing_by is not False:
            log.info("beat lock acquired: this beat schedules")
        self._standing_by = not held
        return held

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._lock.release()
