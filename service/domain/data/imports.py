"""Bringing a runner's history in: an upload becomes run check-ins, file by file.

The API stores the upload and an `imports` row (`create`); a worker reads it (`process`). Every
step is safe to repeat:

- a check-in's id is derived from the athlete, the file's SHA-256 and the activity's place in the
  file, so a re-run (or the same file in two imports at once) upserts the same rows;
- a file already imported by the athlete (same SHA-256) is skipped whole;
- a run that starts within 60 s of one already stored, with a distance within 2 % of it, is a
  duplicate (the same run from the phone, or from another file) and is skipped;
- each file is written with its result and the progress in one transaction (`checkpoint`), so a
  worker killed halfway leaves whole files behind, and the next run goes on from the first file
  without a result.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.clock import rfc3339, utcnow
from service.db.bulk import insert_ignoring_conflicts
from service.domain.calendar import local_date
from service.domain.checkins import rules as checkins
from service.domain.checkins import writes as checkin_writes
from service.domain.data import activity_files
from service.domain.errors import Gone, Invalid, NotFound
from service.domain.training import nightly
from service.models import Account, Checkin, Import, ImportedFile, ImportUpload, NightlyState
from service.models.imports import DONE, FAILED, QUEUED, RUNNING

log = logging.getLogger(__name__)

# Names the check-ins of imported activities: uuid5(athlete:sha256:index) under this namespace.
CHECKIN_NAMESPACE = uuid.UUID("5b0f4c1e-6d0a-4f59-9a53-0e4b7a1d2c3f")
DUPLICATE_START = timedelta(seconds=60)
DUPLICATE_DISTANCE_PERCENT = 2
# A running import not touched for this long lost its worker; the sweep hands it to another.
STALE_AFTER = timedelta(minutes=10)
# A queued import older than this has probably lost its hint; the sweep sends it again.
HINT_GRACE = timedelta(minutes=1)
IMPORTED, DUPLICATE, FILE_FAILED = "imported", "duplicate", "failed"


def create(session: Session, athlete: Account, filename: str, content: bytes, max_bytes: int,
           now: datetime) -> Import:
    """Store an upload for a worker to read; refuses what cannot be an activity file at all."""
    if not content:
        raise Invalid("The file is empty.", field="file")
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:240]
    name = activity_files.identify(base, content)
    if len(content) > max_bytes:
        raise Invalid(f"The file is larger than {max_bytes} bytes.", field="file")
    if not activity_files.is_archive(name) and activity_files.format_of(name) is None:
        raise Invalid("Send a GPX, TCX or FIT file (optionally gzipped), or a zip of them; "
                      "this one is none of those by its name or its content.", field="file")
    job = Import(athlete_id=athlete.id, status=QUEUED, filename=name, size_bytes=len(content),
                 sha256=hashlib.sha256(content).hexdigest(), files=[], created_at=now,
                 updated_at=now)
    session.add(job)
    session.flush()
    session.add(ImportUpload(import_id=job.id, content=content))
    return job


def get_owned(session: Session, athlete: Account, import_id: uuid.UUID) -> Import:
    job = session.scalar(select(Import).where(Import.id == import_id,
                                              Import.athlete_id == athlete.id))
    if job is None:
        raise NotFound("No such import.")
    return job


def listing(athlete: Account):
    return select(Import).where(Import.athlete_id == athlete.id)


def due(session: Session, now: datetime) -> list[uuid.UUID]:
    """Imports whose hint was probably lost, and running ones whose worker has gone."""
    return list(session.scalars(
        select(Import.id).where(or_(
            (Import.status == QUEUED) & (Import.created_at <= now - HINT_GRACE),
            (Import.status == RUNNING) & (Import.updated_at <= now - STALE_AFTER),
        )).order_by(Import.created_at).limit(100)))


def checkin_id(athlete_id: uuid.UUID, sha256: str, index: int) -> uuid.UUID:
    return uuid.uuid5(CHECKIN_NAMESPACE, f"{athlete_id}:{sha256}:{index}")


@dataclass
class _FileResult:
    name: str
    format: str | None = None
    sha256: str | None = None
    status: str = IMPORTED
    activities: int = 0
    checkin_ids: list[str] = field(default_factory=list)
    duplicates_skipped: int = 0
    non_running_skipped: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def process(session: Session, import_id: uuid.UUID, *, checkpoint: Callable[[], None],
            max_file_bytes: int, clock: Callable[[], datetime] = utcnow,
            weekly_threshold: float) -> Import | None:
    """Read an upload into check-ins; None when there is nothing (more) to do.

    `checkpoint` ends a unit of work (the worker commits): after the claim, after each file and
    at the end. Safe to run twice, or twice at once: see the module's docstring.
    """
    job = _claim(session, import_id, clock())
    if job is None:
        return None
    checkpoint()
    upload = session.get(ImportUpload, import_id)
    athlete = session.get(Account, job.athlete_id)
    if upload is None or athlete is None:  # deleted under us (the account was erased)
        return None
    try:
        count, members = activity_files.open_upload(job.filename, upload.content, max_file_bytes)
    except activity_files.Unreadable as error:
        job.files = [_FileResult(job.filename, status=FILE_FAILED, error=error.detail).as_json()]
        job.files_total, job.files_done, job.files_failed = 1, 1, 1
        return _finish(session, job, FAILED, clock(), error.detail, checkpoint)
    job.files_total = count
    created = 0
    for index, member in enumerate(members):
        if index < job.files_done:
            continue  # done by an earlier run of this import
        job = _relock(session, import_id)
        if job is None or job.files_done != index or job.status != RUNNING:
            return job  # another worker took over (it found us stale): leave it to it
        result = _import_member(session, athlete, job, member, clock())
        created += len(result.checkin_ids)
        _record(job, result, clock())
        checkpoint()
    if created:
        reanalyse(session, athlete, clock(), weekly_threshold)
    return _finish(session, job, DONE, clock(), None, checkpoint)


def reanalyse(session: Session, athlete: Account, now: datetime,
              weekly_threshold: float) -> None:
    """Run the nightly analysis for the athlete's last whole local day, with the new history.

    That checks the runs of the last 7 local days (the day and the late-sync window) for spikes
    against baselines that now include the imported runs, the weekly change, and the shoes, with
    the usual dedupe keys. Older imported runs are history: baselines, never warnings.
    """
    day = local_date(now, athlete.timezone) - timedelta(days=1)
    through = session.scalar(select(NightlyState.analysed_through)
                             .where(NightlyState.athlete_id == athlete.id))
    nightly.analyse(session, [athlete.id], day, now, weekly_threshold=weekly_threshold,
                    source="imports.process", force=through is not None and through >= day)


def _claim(session: Session, import_id: uuid.UUID, now: datetime) -> Import | None:
    job = _relock(session, import_id)
    if job is None or job.status in (DONE, FAILED):
        return None
    if job.status == RUNNING and job.updated_at > now - STALE_AFTER:
        return None  # a live worker has it
    job.status, job.updated_at = RUNNING, now
    job.started_at = job.started_at or now
    return job


def _relock(session: Session, import_id: uuid.UUID) -> Import | None:
    """The import row, read afresh and locked until the unit of work ends."""
    return session.scalar(select(Import).where(Import.id == import_id).with_for_update()
                          .execution_options(populate_existing=True))


def _finish(session: Session, job: Import, status: str, now: datetime, error: str | None,
            checkpoint: Callable[[], None]) -> Import:
    job.status, job.error, job.finished_at, job.updated_at = status, error, now, now
    upload = session.get(ImportUpload, job.id)
    if upload is not None:
        session.delete(upload)  # the runs are the data; the file was only a copy of them
    checkpoint()
    return job


def _record(job: Import, result: _FileResult, now: datetime) -> None:
    job.files = [*job.files, result.as_json()]  # a new list: the JSON column sees the change
    job.files_done += 1
    job.runs_created += len(result.checkin_ids)
    job.duplicates_skipped += result.duplicates_skipped
    job.non_running_skipped += result.non_running_skipped
    job.duplicate_files += result.status == DUPLICATE
    job.files_failed += result.status == FILE_FAILED
    job.updated_at = now


def _import_member(session: Session, athlete: Account, job: Import,
                   member: activity_files.Member, now: datetime) -> _FileResult:
    result = _FileResult(member.name, format=activity_files.format_of(member.name))
    if member.content is None:
        result.status, result.error = FILE_FAILED, member.error
        return result
    result.sha256 = hashlib.sha256(member.content).hexdigest()
    earlier = session.scalar(select(ImportedFile.import_id).where(
        ImportedFile.athlete_id == athlete.id, ImportedFile.sha256 == result.sha256))
    if earlier is not None and earlier != job.id:
        result.status = DUPLICATE
        return result
    try:
        activities = activity_files.read(member.name, member.content)
    except activity_files.Unreadable as error:
        result.status, result.error = FILE_FAILED, error.detail
        return result
    except Exception:  # a parser's bug on strange input must cost one file, not the import
        log.exception("activity file %r could not be parsed", member.name)
        result.status, result.error = FILE_FAILED, "This file could not be read."
        return result
    result.activities = len(activities)
    runs = [activity for activity in activities if activity.is_run]
    result.non_running_skipped = len(activities) - len(runs)
    refused = _write_runs(session, athlete, job, result, runs, now)
    if refused and len(result.rejected) == refused and not result.checkin_ids \
            and not result.duplicates_skipped:
        # Nothing of it was stored: a failure, and not remembered, so a fixed file can come again.
        result.status = FILE_FAILED
        result.error = "No run in this file could be imported; `rejected` says why for each."
        return result
    insert_ignoring_conflicts(session, ImportedFile.__table__, [{
        "athlete_id": athlete.id, "sha256": result.sha256, "import_id": job.id,
        "imported_at": now}], ["athlete_id", "sha256"])
    return result


def _write_runs(session: Session, athlete: Account, job: Import, result: _FileResult,
                runs: list[activity_files.Activity], now: datetime) -> int:
    """Store the file's runs; returns how many were refused as invalid (a run the athlete had
    deleted is rejected too, by their choice, but is no fault of the file)."""
    refused = 0
    stored = _stored_runs(session, athlete.id, runs)
    items = []
    for run in runs:
        if any(_same_run(run.started_at, run.distance_m, at, metres) for at, metres in stored):
            result.duplicates_skipped += 1
            continue
        item = {"id": checkin_id(athlete.id, result.sha256, run.index), "kind": "run",
                "started_at": run.started_at, "duration_s": run.duration_s,
                "distance_m": run.distance_m, "surface": run.surface, "sport": run.sport}
        refusal = _refusal(item, now)
        if refusal:
            result.rejected.append(_rejected(run, refusal))
            refused += 1
            continue
        items.append(item)
        stored.append((run.started_at, run.distance_m))  # the same run twice in one file
    run_of = {checkin_id(athlete.id, result.sha256, run.index): run for run in runs}
    for outcome in checkin_writes.upsert(session, athlete, items, now, import_id=job.id):
        run = run_of[outcome.id]
        if outcome.result == checkin_writes.CREATED:
            result.checkin_ids.append(str(outcome.id))
        elif outcome.error is not None:
            deleted = isinstance(outcome.error, Gone)
            refused += not deleted
            detail = ("You deleted this run; it is not imported again."
                      if deleted else outcome.error.detail)
            result.rejected.append(_rejected(run, detail))
        else:  # already stored under this id: an earlier import of the same file
            result.duplicates_skipped += 1
    return refused


def _stored_runs(session: Session, athlete_id: uuid.UUID,
                 runs: list[activity_files.Activity]) -> list[tuple[datetime, int]]:
    """The athlete's runs near the file's runs: one query over the file's time span."""
    if not runs:
        return []
    c = Checkin.__table__.c
    return [(at, metres) for at, metres in session.connection().execute(
        select(c.occurred_at, c.distance_m).where(
            c.athlete_id == athlete_id, c.kind == "run", c.deleted_at.is_(None),
            c.occurred_at >= min(run.started_at for run in runs) - DUPLICATE_START,
            c.occurred_at <= max(run.started_at for run in runs) + DUPLICATE_START))]


def _same_run(start: datetime, distance_m: int, stored_start: datetime,
              stored_distance_m: int) -> bool:
    """Within 60 s of each other, and the distance within 2 % of the stored run's (C)."""
    return (abs(start - stored_start) <= DUPLICATE_START
            and abs(distance_m - stored_distance_m) * 100
            <= DUPLICATE_DISTANCE_PERCENT * stored_distance_m)


def _refusal(item: dict[str, Any], now: datetime) -> str | None:
    """Why this run cannot be a check-in (the limits the API's schema applies to the phone)."""
    if not 1 <= item["distance_m"] <= checkins.MAX_DISTANCE_M:
        return f"Its distance ({item['distance_m']} m) is not one a run can have."
    if not 1 <= item["duration_s"] <= checkins.MAX_DURATION_S:
        return f"Its duration ({item['duration_s']} s) is not one a run can have."
    problems = checkins.problems(item, now)
    return " ".join(message for messages in problems.values() for message in messages) or None


def _rejected(run: activity_files.Activity, detail: str) -> dict[str, Any]:
    return {"index": run.index, "started_at": rfc3339(run.started_at), "detail": detail}
