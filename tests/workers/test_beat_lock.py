"""The beat lock on its own: one holder, handed over when the holder's connection or file goes."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_URL, scratch_postgres_database
from workers.beat import ADVISORY_LOCK_KEY, FileLock, PostgresAdvisoryLock


def test_one_file_lock_at_a_time_and_the_next_one_after_release(tmp_path):
    first, second = FileLock(tmp_path / "beat.lock"), FileLock(tmp_path / "beat.lock")
    assert first.hold()
    assert not second.hold()
    assert first.hold(), "the holder keeps it on every tick"
    first.release()
    assert second.hold()
    second.release()


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL")
def test_a_beat_whose_connection_is_cut_stops_and_the_standby_takes_over():
    with scratch_postgres_database() as url:
        first, second = PostgresAdvisoryLock(url), PostgresAdvisoryLock(url)
        try:
            assert first.hold()
            assert not second.hold()

            admin = create_engine(url, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:  # what a network cut or server restart does
                # With a timeout it waits until the backend has gone (and its lock with it);
                # without one it only signals, and a busy machine let the standby ask first.
                cut = connection.scalar(text(
                    "SELECT pg_terminate_backend(pid, 10000) FROM pg_locks"
                    " WHERE locktype = 'advisory' AND granted"
                    " AND (classid::bigint << 32 | objid::bigint) = :key"),
                    {"key": ADVISORY_LOCK_KEY})
            admin.dispose()
            assert cut

            assert second.hold(), "the standby takes the lock the cut session held"
            assert not first.hold(), "the cut beat must notice and stand by"
        finally:
            first.release()
            second.release()
