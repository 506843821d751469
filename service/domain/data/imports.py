"""Bringing a runner's history in: an upload becomes run check-ins, file by file.

The API stores the upload and an `imports` row (`create`); a worker reads it (`process`). Every
step is safe to repeat, and every import ends:

- a check-in's id is an HMAC of the athlete, the file's SHA-256 and the activity's place in the
  file, keyed by the server's secret: a re-run (or the same file in two imports at once) upserts
  the same rows, and no one else can work the ids out and take them first;
- a file already imported by the athlete (same SHA-256) is skipped whole;
- a run that starts within 60 s of one already stored, with a distance within 2 % of it, is a
  duplicate (the same run from the phone, or from another file) and is skipped; each run is
  compared with the stored runs of its own minute and the two beside it, not with all of them;
- each file is written with its result and the progress in one transaction (`checkpoint`), so a
  worker killed halfway leaves whole files behind, and the next run goes on from the first file
  without a result; a file whose import fails in an unforeseen way costs that file alone;
- activities are bounded per file and per import (`Limits`), and an import claimed more than
  `Limits.attempts` times ends as failed with its reason instead of being sent again forever.

Every activity of a file is either taken (a run check-in, and by which rule) or skipped with its
reason, in words a runner understands (`_FileResult.taken`, `.skipped`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from service.clock import rfc3339, utcnow
from service.db.bulk import insert_ignoring_conflicts
from service.domain.accounts import quotas
from service.domain.calendar import local_date
from service.domain.checkins import rules as checkins
from service.domain.checkins import writes as checkin_writes
from service.domain.data import activity_files
from service.domain.errors import Gone, Invalid, NotFound
from service.domain.training import nightly
from service.domain.webhooks import events, outbox
from service.models import Account, Checkin, Import, ImportedFile, ImportUpload, NightlyState
from service.models.imports import DONE, FAILED, QUEUED, RUNNING

log = logging.getLogger(__name__)

# What the HMAC that names an imported check-in signs, before athlete:sha256:index.
CHECKIN_ID_LABEL = "backstride import check-in"
DUPLICATE_START = timedelta(seconds=60)
DUPLICATE_DISTANCE_PERCENT = 2
# A running import not touched for this long lost its worker; the sweep hands it to another.
STALE_AFTER = timedelta(minutes=10)
# A queued import older than this has probably lost its hint; the sweep sends it again.
HINT_GRACE = timedelta(minutes=1)
IMPORTED, DUPLICATE, FILE_FAILED = "imported", "duplicate", "failed"
# Why an activity was skipped, beyond the reader's (activity_files): the same run already
# stored, a run the check-in rules refuse, a run the athlete deleted.
SKIP_DUPLICATE, SKIP_INVALID, SKIP_DELETED = "duplicate", "invalid", "deleted"
SKIP_REASONS = (activity_files.NOT_A_RUN, activity_files.PACE, activity_files.FRAGMENT,
                SKIP_DUPLICATE, activity_files.UNTIMED, activity_files.OUT_OF_RANGE,
                activity_files.DAMAGED, SKIP_INVALID, SKIP_DELETED)
NOT_RUNNING = (activity_files.NOT_A_RUN, activity_files.PACE, activity_files.FRAGMENT)
# Skips a mended file could undo: a file with nothing but these stored is a failed file.
FIXABLE = (activity_files.UNTIMED, activity_files.OUT_OF_RANGE, activity_files.DAMAGED,
           SKIP_INVALID)


@dataclass(frozen=True)
class Limits:
    """How much one import may read, and how often it is tried (settings set them)."""

    activities_per_file: int = 1000
    activities_per_import: int = 5000
    attempts: int = 3


@dataclass(frozen=True)
class Quota:
    """How much one athlete may import: imports queued or running at once, bytes a day."""

    in_flight: int
    bytes_per_day: int


def create(session: Session, athlete: Account, filename: str, content: bytes, max_bytes: int,
           now: datetime, quota: Quota | None = None) -> Import:
    """Store an upload for a worker to read; refuses what cannot be an activity file at all,
    and more than the athlete's quota (a rolling 24 hours for the bytes)."""
    if not content:
        raise Invalid("The file is empty.", field="file")
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:240]
    name = activity_files.identify(base, content)
    if len(content) > max_bytes:
        raise Invalid(f"The file is larger than {max_bytes} bytes.", field="file")
    if not activity_files.is_archive(name) and activity_files.format_of(name) is None:
        raise Invalid("Send a GPX, TCX or FIT file (optionally gzipped), or a zip of them; "
                      "this one is none of those by its name or its content.", field="file")
    if quota is not None:
        _check_quota(session, athlete, len(content), quota, now)
    job = Import(athlete_id=athlete.id, status=QUEUED, filename=name, size_bytes=len(content),
                 sha256=hashlib.sha256(content).hexdigest(), files=[], created_at=now,
                 updated_at=now)
    session.add(job)
    session.flush()
    session.add(ImportUpload(import_id=job.id, content=content))
    return job


def _check_quota(session: Session, athlete: Account, size: int, quota: Quota, now: datetime
                 ) -> None:
    quotas.hold(session, athlete)
    mine = Import.athlete_id == athlete.id
    in_flight = session.scalar(select(func.count()).select_from(Import).where(
        mine, Import.status.in_((QUEUED, RUNNING)))) or 0
    quotas.check(in_flight, 1, quota.in_flight,
                 f"{in_flight} of your imports are still being read, the most at once "
                 f"({quota.in_flight}); send this one when one of them has finished.")
    today = session.scalar(select(func.coalesce(func.sum(Import.size_bytes), 0)).where(
        mine, Import.created_at > now - timedelta(days=1))) or 0
    quotas.check(today, size, quota.bytes_per_day,
                 f"You have imported {today} bytes in the last 24 hours; this file would pass "
                 f"the {quota.bytes_per_day} a day one account may import. Send it tomorrow.",
                 field="file")


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


def checkin_id(key: bytes, athlete_id: uuid.UUID, sha256: str, index: int) -> uuid.UUID:
    """The id of an imported activity's check-in: the same for the same file every time, and
    unknowable without the server's key (a version 8 UUID, RFC 9562, from HMAC-SHA256)."""
    message = f"{CHECKIN_ID_LABEL}:{athlete_id}:{sha256}:{index}".encode()
    value = int.from_bytes(hmac.new(key, message, hashlib.sha256).digest()[:16], "big")
    value = (value & ~(0xF << 76)) | (8 << 76)  # version 8
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # the RFC variant
    return uuid.UUID(int=value)


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
    taken: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def skip(self, index: int, reason: str, detail: str, started_at: datetime | None = None,
             activity: activity_files.Activity | None = None) -> None:
        entry: dict[str, Any] = {"index": index, "reason": reason, "detail": detail,
                                 "started_at": None if started_at is None else rfc3339(started_at),
                                 "duration_s": None, "distance_m": None, "sport": None}
        if activity is not None:
            entry.update(started_at=rfc3339(activity.started_at), duration_s=activity.duration_s,
                         distance_m=activity.distance_m, sport=activity.sport)
        self.skipped.append(entry)
        self.non_running_skipped += reason in NOT_RUNNING
        self.duplicates_skipped += reason == SKIP_DUPLICATE
        if reason in (SKIP_INVALID, SKIP_DELETED):
            self.rejected.append({"index": index, "started_at": entry["started_at"],
                                  "detail": detail})


def process(session: Session, import_id: uuid.UUID, *, checkpoint: Callable[[], None],
            max_file_bytes: int, weekly_threshold: float, id_key: bytes,
            limits: Limits = Limits(), clock: Callable[[], datetime] = utcnow) -> Import | None:
    """Read an upload into check-ins; None when there is nothing (more) to do.

    `checkpoint` ends a unit of work (the worker commits): after the claim, after each file and
    at the end. Safe to run twice, or twice at once: see the module's docstring. `id_key` (the
    server's secret) keys the check-in ids.
    """
    job = _claim(session, import_id, clock())
    if job is None:
        return None
    if job.attempts > limits.attempts:
        return _finish(session, job, FAILED, clock(), _gave_up(job, limits.attempts), checkpoint)
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
    read_so_far = sum(entry.get("activities", 0) for entry in job.files)
    for index, member in enumerate(members):
        if index < job.files_done:
            continue  # done by an earlier run of this import
        job = _relock(session, import_id)
        if job is None or job.files_done != index or job.status != RUNNING:
            return job  # another worker took over (it found us stale): leave it to it
        reader = _Reader(session, athlete, job, id_key, limits,
                         limits.activities_per_import - read_so_far, clock())
        result = reader.member(member)
        read_so_far += result.activities
        created += len(result.checkin_ids)
        _record(job, result, clock())
        checkpoint()
    if created:
        reanalyse(session, athlete, clock(), weekly_threshold)
    return _finish(session, job, DONE, clock(), None, checkpoint)


def _gave_up(job: Import, attempts: int) -> str:
    where = ""
    if job.files_total:
        where = f" It stopped at file {min(job.files_done + 1, job.files_total)} of " \
                f"{job.files_total}; the runs of the files before it are kept."
    return (f"This import was started {attempts} times and could not finish.{where} Import the "
            "files it did not reach again (what is stored already is skipped), or leave out the "
            "file it stopped at.")


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
    job.attempts = (job.attempts or 0) + 1
    return job


def _relock(session: Session, import_id: uuid.UUID) -> Import | None:
    """The import row, read afresh and locked until the unit of work ends."""
    return session.scalar(select(Import).where(Import.id == import_id).with_for_update()
                          .execution_options(populate_existing=True))


def _finish(session: Session, job: Import, status: str, now: datetime, error: str | None,
            checkpoint: Callable[[], None]) -> Import:
    job.status, job.error, job.finished_at, job.updated_at = status, error, now, now
    outbox.emit(session, [events.import_finished(job.athlete_id, job.id, status)], now)
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


class _Reader:
    """One file of an import: read it, judge each activity, store the runs."""

    def __init__(self, session: Session, athlete: Account, job: Import, id_key: bytes,
                 limits: Limits, allowance: int, now: datetime) -> None:
        self.session, self.athlete, self.job, self.id_key = session, athlete, job, id_key
        self.limits, self.allowance, self.now = limits, allowance, now

    def member(self, member: activity_files.Member) -> _FileResult:
        """The file's result; an unforeseen failure costs this file, not the import (what it
        wrote is rolled back to a savepoint), while a lost database goes up to be retried."""
        try:
            with self.session.begin_nested():
                return self._member(member)
        except (OperationalError, InterfaceError):
            raise
        except Exception:
            log.exception("activity file %r of import %s could not be imported", member.name,
                          self.job.id)
            return _FileResult(member.name, format=activity_files.format_of(member.name),
                               status=FILE_FAILED, error="This file could not be imported: "
                               "something went wrong on our side, and we have logged it. The "
                               "other files were imported.")

    def _member(self, member: activity_files.Member) -> _FileResult:
        result = _FileResult(member.name, format=activity_files.format_of(member.name))
        if member.content is None:
            result.status, result.error = FILE_FAILED, member.error
            return result
        result.sha256 = hashlib.sha256(member.content).hexdigest()
        earlier = self.session.scalar(select(ImportedFile.import_id).where(
            ImportedFile.athlete_id == self.athlete.id, ImportedFile.sha256 == result.sha256))
        if earlier is not None and earlier != self.job.id:
            result.status = DUPLICATE
            return result
        reading = self._read(member, result)
        if reading is None:
            return result
        result.activities = len(reading.activities) + len(reading.skipped)
        for part in reading.skipped:
            result.skip(part.index, part.reason, part.detail, started_at=part.started_at)
        runs = []
        for activity in reading.activities:
            verdict = activity.verdict
            if verdict.taken:
                runs.append((activity, verdict))
            else:
                result.skip(activity.index, verdict.reason, verdict.detail, activity=activity)
        self._write_runs(result, runs)
        result.skipped.sort(key=lambda entry: entry["index"])
        stored = result.checkin_ids or any(entry["reason"] in (SKIP_DUPLICATE, SKIP_DELETED)
                                           for entry in result.skipped)
        if not stored and any(entry["reason"] in FIXABLE for entry in result.skipped):
            # Nothing of it was stored: a failure, and not remembered, so a mended file can
            # come again.
            result.status = FILE_FAILED
            result.error = ("No run in this file could be imported; `skipped` says why for "
                            "each activity.")
            return result
        insert_ignoring_conflicts(self.session, ImportedFile.__table__, [{
            "athlete_id": self.athlete.id, "sha256": result.sha256, "import_id": self.job.id,
            "imported_at": self.now}], ["athlete_id", "sha256"])
        return result

    def _read(self, member: activity_files.Member,
              result: _FileResult) -> activity_files.Reading | None:
        assert member.content is not None
        if self.allowance <= 0:
            result.status = FILE_FAILED
            result.error = (f"This import has read {self.limits.activities_per_import} "
                            "activities, the most one import reads; import this file again on "
                            "its own.")
            return None
        bound = min(self.limits.activities_per_file, self.allowance)
        try:
            return activity_files.read(member.name, member.content, bound)
        except activity_files.TooManyActivities as error:
            result.status, result.error = FILE_FAILED, error.detail
            if bound < self.limits.activities_per_file:
                result.error = (f"This file holds more activities than this import may still "
                                f"read ({bound} of {self.limits.activities_per_import}); import "
                                "it again on its own.")
        except activity_files.Unreadable as error:
            result.status, result.error = FILE_FAILED, error.detail
        except Exception:  # a parser's bug on strange input must cost one file, not the import
            log.exception("activity file %r could not be parsed", member.name)
            result.status, result.error = FILE_FAILED, "This file could not be read."
        return None

    def _write_runs(self, result: _FileResult,
                    runs: list[tuple[activity_files.Activity, activity_files.Verdict]]) -> None:
        """Store the file's runs, in batches of at most MAX_BATCH (the id lookups with them)."""
        stored = _Nearby(_stored_runs(self.session, self.athlete.id,
                                      [run for run, _ in runs]))
        items, chosen = [], {}
        for run, verdict in runs:
            if stored.holds(run.started_at, run.distance_m):
                result.skip(run.index, SKIP_DUPLICATE, "The same run is stored already (it "
                            "starts within 60 s of it, and is within 2 % of its distance).",
                            activity=run)
                continue
            ident = checkin_id(self.id_key, self.athlete.id, result.sha256 or "", run.index)
            item = {"id": ident, "kind": "run", "started_at": run.started_at,
                    "duration_s": run.duration_s, "moving_s": run.moving_s,
                    "distance_m": run.distance_m, "surface": run.surface, "sport": run.sport}
            refusal = _refusal(item, self.now)
            if refusal:
                result.skip(run.index, SKIP_INVALID, refusal, activity=run)
                continue
            items.append(item)
            chosen[ident] = (run, verdict)
            stored.add(run.started_at, run.distance_m)  # the same run twice in one file
        for batch in _batches(items, checkins.MAX_BATCH):
            outcomes = checkin_writes.upsert(self.session, self.athlete, batch, self.now,
                                             import_id=self.job.id)
            for outcome in outcomes:
                run, verdict = chosen[outcome.id]
                if outcome.result == checkin_writes.CREATED:
                    result.checkin_ids.append(str(outcome.id))
                    result.taken.append(_taken(run, verdict, outcome.id))
                elif isinstance(outcome.error, Gone):
                    result.skip(run.index, SKIP_DELETED, "You deleted this run; it is not "
                                "imported again.", activity=run)
                elif outcome.error is not None:
                    result.skip(run.index, SKIP_INVALID, outcome.error.detail, activity=run)
                else:  # already stored under this id: an earlier import of the same file
                    result.skip(run.index, SKIP_DUPLICATE, "Imported from this file before.",
                                activity=run)


def _taken(run: activity_files.Activity, verdict: activity_files.Verdict,
           ident: uuid.UUID) -> dict[str, Any]:
    return {"index": run.index, "checkin_id": str(ident), "started_at": rfc3339(run.started_at),
            "duration_s": run.duration_s, "moving_s": run.moving_s, "distance_m": run.distance_m,
            "sport": run.sport, "surface": run.surface, "taken_by": verdict.reason,
            "detail": verdict.detail}


def _batches(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


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


class _Nearby:
    """Stored runs by the minute they start in: a run can only be the same as one of its own
    minute or the minutes beside it, so each check looks at a handful, not at all of them."""

    def __init__(self, runs: list[tuple[datetime, int]]) -> None:
        self.by_minute: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
        for at, metres in runs:
            self.add(at, metres)

    def add(self, at: datetime, metres: int) -> None:
        self.by_minute[_minute(at)].append((at, metres))

    def holds(self, at: datetime, metres: int) -> bool:
        minute = _minute(at)
        return any(_same_run(at, metres, stored_at, stored_metres)
                   for near in (minute - 1, minute, minute + 1)
                   for stored_at, stored_metres in self.by_minute.get(near, ()))


def _minute(at: datetime) -> int:
    return int(at.timestamp() // DUPLICATE_START.total_seconds())


def _same_run(start: datetime, distance_m: int, stored_start: datetime,
              stored_distance_m: int) -> bool:
    """Within 60 s of each other, and the distance within 2 % of the stored run's (C)."""
    return (abs(start - stored_start) <= DUPLICATE_START
            and abs(distance_m - stored_distance_m) * 100
            <= DUPLICATE_DISTANCE_PERCENT * stored_distance_m)


def _refusal(item: dict[str, Any], now: datetime) -> str | None:
    """Why this run cannot be a check-in (the limits the API's schema applies to the phone)."""
    if item["distance_m"] <= 0:
        return ("It records no distance (a treadmill run without a foot pod?); a run check-in "
                "needs one.")
    if item["distance_m"] > checkins.MAX_DISTANCE_M:
        return f"Its distance ({item['distance_m']} m) is not one a run can have."
    if not 1 <= item["duration_s"] <= checkins.MAX_DURATION_S:
        return f"Its duration ({item['duration_s']} s) is not one a run can have."
    problems = checkins.problems(item, now)
    return " ".join(message for messages in problems.values() for message in messages) or None
