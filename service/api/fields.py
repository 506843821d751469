"""Marshmallow fields and validators shared by several resources."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from typing import Any

from marshmallow import ValidationError, fields, validate

from service.clock import rfc3339, utcnow
from service.domain.accounts import rules as profile

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class ClockTime(fields.Field):
    """A local wall-clock time written "HH:MM", as a phone's time picker gives it."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"type": "string", "pattern": _CLOCK.pattern, "example": "21:30"}
        metadata.update(kwargs.pop("metadata", {}))
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value: time | None, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else value.strftime("%H:%M")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> time:
        match = _CLOCK.match(value) if isinstance(value, str) else None
        if match is None:
            raise ValidationError("Use a 24-hour time like 21:30.")
        return time(int(match[1]), int(match[2]))


class WholeNumber(fields.Integer):
    """An integer as JSON writes one: 5000.5 metres is refused, not cut to 5000, and so are
    "5000" and 5000.0 (an integer field of a body is never a string or a float)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)


def validate_timezone(value: str) -> None:
    if not profile.is_valid_timezone(value):
        raise ValidationError("Use an IANA time zone name such as Europe/London.")


def validate_birth_year(value: int) -> None:
    allowed = profile.birth_year_range(utcnow().year)
    if value not in allowed:
        raise ValidationError(f"Use a year from {allowed.start} to {allowed.stop - 1}.")


# Dates outside these years are typing slips, and near year 1 or 9999 arithmetic overflows.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


class UTCInstant(fields.AwareDateTime):
    """An instant: read with any offset, written in UTC with "Z" (`service.clock.rfc3339`)."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any,
                   **kwargs: Any) -> str | None:
        return None if value is None else rfc3339(value)


class Instant(UTCInstant):
    """An RFC 3339 time with an offset, between 1970 and 2100."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Range(EARLIEST, LATEST), **kwargs)


class Day(fields.Date):
    """A calendar date between 1970 and 2100."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Range(EARLIEST.date(), LATEST.date()), **kwargs)

