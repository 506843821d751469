"""The one place that asks the system for the time, so rules and jobs can be given any instant."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def rfc3339(moment: datetime) -> str:
    """An instant as clients read it: in UTC, ending in Z ("2026-11-01T07:30:00Z").

    Python writes UTC as "+00:00", which RFC 3339 allows but many validators (zod's default
    `datetime()`, for one) refuse; "Z" is read by all of them.
    """
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
