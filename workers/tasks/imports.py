"""Imports of activity files: read an upload into run check-ins, file by file."""

from __future__ import annotations

import logging
import uuid

from service.clock import utcnow
from service.config import Settings
from service.domain.data import imports
from workers.app import app, job
from workers.database import session_scope

log = logging.getLogger(__name__)
settings = app.settings


def limits(settings: Settings) -> imports.Limits:
    return imports.Limits(activities_per_file=settings.import_max_activities_per_file,
                          activities_per_import=settings.import_max_activities,
                          attempts=settings.import_max_attempts)


@job("imports.process", time_limit=3600, soft_time_limit=3300)
def process(import_id: str) -> dict[str, int] | None:
    """Read one upload. Safe to run twice: a second copy finds it taken or done, and a re-run
    after a crash goes on from the first file without a result, creating nothing twice. Each
    run that claims it counts; past BACKSTRIDE_IMPORT_MAX_ATTEMPTS it ends as failed."""
    with session_scope() as session:
        upload = imports.process(session, uuid.UUID(import_id), checkpoint=session.commit,
                                 max_file_bytes=settings.import_max_bytes,
                                 weekly_threshold=settings.weekly_jump_threshold,
                                 id_key=settings.secret_key.encode(), limits=limits(settings))
        if upload is None:
            return None
        log.info("import %s %s: %d runs created, %d duplicates, %d non-running, %d files failed",
                 upload.id, upload.status, upload.runs_created, upload.duplicates_skipped,
                 upload.non_running_skipped, upload.files_failed)
        return {"runs_created": upload.runs_created, "files_failed": upload.files_failed}


@job("imports.sweep", time_limit=120)
def sweep() -> int:
    """Every minute: send again the imports whose hint was lost or whose worker died."""
    with session_scope() as session:
        due = imports.due(session, utcnow())
    for import_id in due:
        process.delay(str(import_id))
    if due:
        log.info("imports sweep: %d imports sent again", len(due))
    return len(due)
