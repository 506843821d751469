"""The one place that asks the system for the time, so rules and jobs can be given any instant."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
