"""What a use case can refuse, in words the API turns into problem documents.

The domain raises these; only the API knows they become HTTP statuses, so workers and the CLI can
use the same functions and report the same reasons.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal; `slug` names the problem type, `detail` is for the person."""

    slug = "error"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFound(DomainError):
    slug = "not-found"


class Gone(DomainError):
    """It existed and was deleted; the phone should drop its copy."""

    slug = "gone"


class Conflict(DomainError):
    slug = "conflict"


class Invalid(DomainError):
    """Input that passed the schema but breaks a rule; names the field like a schema error would."""

    slug = "validation"


class Unauthenticated(DomainError):
    slug = "unauthenticated"


class Forbidden(DomainError):
    slug = "forbidden"


class QuotaExceeded(Conflict):
    """An account has as much of something as one account may (service.domain.accounts.quotas)."""

    slug = "quota-exceeded"
