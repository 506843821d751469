"""Imports of activity files: the upload until a worker has read it, and what became of it.

The uploaded bytes live in the database (not in the broker, not on one machine's disk) so any
worker can read them; they are deleted once the import is finished, because the runs it created
are the data and the file is only a copy of them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, UTCDateTime, utcnow

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class Import(Base):
    """One upload (a file or a zip of several) and its progress, for the phone to poll."""

    __tablename__ = "imports"
    __table_args__ = (
        Index("ix_imports_athlete_created", "athlete_id", "created_at"),
        Index("ix_imports_status_updated", "status", "updated_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    athlete_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    filename: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    files_total: Mapped[int | None] = mapped_column(Integer)
    files_done: Mapped[int] = mapped_column(Integer, default=0)
    runs_created: Mapped[int] = mapped_column(Integer, default=0)
    duplicates_skipped: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_files: Mapped[int] = mapped_column(Integer, default=0)
    non_running_skipped: Mapped[int] = mapped_column(Integer, default=0)
    files_failed: Mapped[int] = mapped_column(Integer, default=0)
    # Workers that have claimed it: past the limit it ends as failed, never re-sent forever.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # What became of each file, in order: name, status, check-ins created, skips, error.
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Set when the upload as a whole could not be read (not a zip, a zip bomb).
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Touched at every file: a running import not touched for a while was orphaned by its worker.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def progress(self) -> dict[str, int | None]:
        return {"files_total": self.files_total, "files_done": self.files_done}


class ImportUpload(Base):
    """The uploaded bytes, kept until the import is finished."""

    __tablename__ = "import_uploads"

    import_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"),
                                                 primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ImportedFile(Base):
    """A file an athlete has imported, by its SHA-256: the same file again is skipped."""

    __tablename__ = "imported_files"

    athlete_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                                  primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    import_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"),
                                                 index=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
