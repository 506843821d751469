"""Everything Backstride holds about an athlete, as one JSON document or a zip of CSV files.

Health data belongs to the person it describes. `SECTIONS` names every table that holds rows
about the athlete and how to find them; `NOT_EXPORTED` names, with the reason, each table left
out. A test walks the ORM metadata and fails when a table is in neither, so a new table cannot be
forgotten. Secrets are never exported: password and token hashes, push tokens and keys.

Both formats read in one transaction (REPEATABLE READ on PostgreSQL, a read transaction on
SQLite's WAL), so the sections agree with each other, and stream rows as they are read.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import IO, Any

from sqlalchemy import Connection, Engine, Table, or_, select

from service.clock import rfc3339
from service.models import (
    AccessLogEntry,
    Account,
    AuthSession,
    CoachInvite,
    CoachLink,
    Delivery,
    Device,
    Import,
    ImportedFile,
    NightlyLog,
    NightlyState,
    Notification,
    OAuthClient,
    OAuthGrant,
    PersonalAccessToken,
    Shoe,
    SyncCounter,
)
from service.models import Checkin as CheckinModel
from service.models.webhooks import WebhookEndpoint

FORMAT = "backstride-export"
VERSION = 1
BATCH = 500


@dataclass(frozen=True)
class Section:
    """One table's rows about the athlete, less the columns that are secrets."""

    name: str
    table: Table
    rows_of: Callable[[uuid.UUID], Any]  # the WHERE clause for this athlete
    omit: tuple[str, ...] = ()
    extra: Callable[[Any], dict[str, Any]] | None = None

    @property
    def columns(self) -> list[str]:
        names = [column.name for column in self.table.columns if column.name not in self.omit]
        return names + list(self.extra_names)

    @property
    def extra_names(self) -> tuple[str, ...]:
        return ("hint",) if self.extra is not None else ()


def _device_hint(row: Any) -> dict[str, Any]:
    """What the device list shows: enough to recognise it, not enough to push to it."""
    return {"hint": Device(kind=row.kind, address=row.address).hint}


def _t(model: Any) -> Table:
    return model.__table__


SECTIONS: tuple[Section, ...] = (
    Section("profile", _t(Account), lambda a: _t(Account).c.id == a, omit=("password_hash",)),
    Section("shoes", _t(Shoe), lambda a: _t(Shoe).c.athlete_id == a),
    Section("checkins", _t(CheckinModel), lambda a: _t(CheckinModel).c.athlete_id == a),
    Section("notifications", _t(Notification), lambda a: _t(Notification).c.athlete_id == a),
    Section("push_deliveries", _t(Delivery), lambda a: _t(Delivery).c.notification_id.in_(
        select(_t(Notification).c.id).where(_t(Notification).c.athlete_id == a))),
    Section("devices", _t(Device), lambda a: _t(Device).c.athlete_id == a,
            omit=("address", "p256dh", "auth"), extra=_device_hint),
    Section("coach_links", _t(CoachLink), lambda a: or_(_t(CoachLink).c.athlete_id == a,
                                                         _t(CoachLink).c.coach_id == a)),
    Section("coach_invites", _t(CoachInvite), lambda a: or_(_t(CoachInvite).c.coach_id == a,
                                                             _t(CoachInvite).c.used_by == a),
            omit=("code_hash",)),
    Section("access_log", _t(AccessLogEntry), lambda a: or_(
        _t(AccessLogEntry).c.athlete_id == a, _t(AccessLogEntry).c.coach_id == a)),
    Section("sign_ins", _t(AuthSession), lambda a: _t(AuthSession).c.account_id == a),
    Section("personal_tokens", _t(PersonalAccessToken),
            lambda a: _t(PersonalAccessToken).c.account_id == a, omit=("token_hash",)),
    Section("apps_registered", _t(OAuthClient), lambda a: _t(OAuthClient).c.owner_id == a,
            omit=("secret_hash",)),
    Section("apps_authorised", _t(OAuthGrant), lambda a: _t(OAuthGrant).c.account_id == a),
    Section("imports", _t(Import), lambda a: _t(Import).c.athlete_id == a),
    Section("imported_files", _t(ImportedFile), lambda a: _t(ImportedFile).c.athlete_id == a),
    Section("nightly_state", _t(NightlyState), lambda a: _t(NightlyState).c.athlete_id == a),
    Section("nightly_log", _t(NightlyLog), lambda a: _t(NightlyLog).c.athlete_id == a),
    Section("sync_counters", _t(SyncCounter), lambda a: _t(SyncCounter).c.athlete_id == a),
    Section("webhook_endpoints", _t(WebhookEndpoint),
            lambda a: _t(WebhookEndpoint).c.owner_id == a,
            omit=("secret", "previous_secret")),
)

NOT_EXPORTED: dict[str, str] = {
    "refresh_tokens": "Hashes of sign-in secrets. The sign-ins themselves are in sign_ins.",
    "idempotency_records": "Copies of answers already exported, kept 24 hours to answer a "
                           "retried request.",
    "import_uploads": "An uploaded file, kept only until it is read; its runs are in checkins.",
    "oauth_codes": "Hashes of single-use codes that live two minutes; what they granted is in "
                   "apps_authorised.",
    "oauth_tokens": "Hashes of apps' tokens. The grants they belong to are in apps_authorised.",
    "webhook_events": "Notices that something changed (ids and a link, no values), kept 30 days "
                      "to be sent to webhook endpoints; what changed is in its own section.",
    "webhook_deliveries": "Which endpoint each webhook notice went to and when; the endpoints "
                          "are in webhook_endpoints.",
    "webhook_attempts": "Each request made to a webhook endpoint and its answer code; the "
                        "endpoints are in webhook_endpoints.",
    "webhook_shoe_statuses": "A copy of each pair's status, kept to tell when it changes; the "
                             "status is computed from shoes and checkins.",
}


def json_chunks(engine: Engine, athlete_id: uuid.UUID, now: datetime) -> Iterator[str]:
    """The export as one JSON object, a row at a time (for a streamed response)."""
    head = {"format": FORMAT, "version": VERSION, "exported_at": rfc3339(now),
            "athlete_id": str(athlete_id), "not_exported": NOT_EXPORTED}
    yield json.dumps(head)[:-1] + ', "sections": {'
    with _snapshot(engine) as connection:
        for number, section in enumerate(SECTIONS):
            yield ("," if number else "") + json.dumps(section.name) + ": ["
            for index, row in enumerate(_rows(connection, section, athlete_id)):
                yield ("," if index else "") + json.dumps(row, default=_plain)
            yield "]"
    yield "}}"


def csv_zip(engine: Engine, athlete_id: uuid.UUID, now: datetime) -> IO[bytes]:
    """The export as a zip of one CSV per section (and a README), rewound, ready to send.

    Built in a temporary file (in memory up to 16 MB): a zip's directory comes last, so it cannot
    be streamed as its rows are read the way the JSON is.
    """
    buffer = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 (returned)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, \
            _snapshot(engine) as connection:
        archive.writestr("README.txt", _readme(athlete_id, now))
        for section in SECTIONS:
            with archive.open(f"{section.name}.csv", "w") as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                writer = csv.writer(text)
                writer.writerow(section.columns)
                for row in _rows(connection, section, athlete_id):
                    writer.writerow([_cell(row[name]) for name in section.columns])
                text.flush()
                text.detach()
    buffer.seek(0)
    return buffer


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection in one read transaction, so every section is read as of the same moment."""
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as connection, connection.begin() as tx:
        yield connection
        tx.rollback()  # read only: nothing to keep


def _rows(connection: Connection, section: Section,
          athlete_id: uuid.UUID) -> Iterator[dict[str, Any]]:
    table = section.table
    statement = (select(table).where(section.rows_of(athlete_id))
                 .order_by(*table.primary_key.columns))
    for row in connection.execution_options(yield_per=BATCH).execute(statement):
        values = row._asdict()
        if section.extra is not None:
            values.update(section.extra(row))
        yield {name: values[name] for name in section.columns}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot export {type(value).__name__}")


def _cell(value: Any) -> Any:
    """A CSV cell; text that a spreadsheet would run as a formula is quoted with a ' (OWASP)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, default=_plain)
    if isinstance(value, str):
        return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
    if isinstance(value, datetime | date | time | uuid.UUID):
        return _plain(value)
    return value


def _readme(athlete_id: uuid.UUID, now: datetime) -> str:
    lines = [f"Backstride export of athlete {athlete_id}, made {now.isoformat()}.",
             "One CSV file per section; times are UTC (ISO 8601), distances in metres, "
             "durations in seconds.", "", "Not exported:"]
    lines += [f"- {table}: {reason}" for table, reason in NOT_EXPORTED.items()]
    return "\n".join(lines) + "\n"
