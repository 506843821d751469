"""RFC 9457 problem details for every error the API answers with.

One shape everywhere: `type`, `title`, `status`, `detail`, and for validation `errors`, a map of
field name to messages. Server errors say nothing of their cause; it goes to the log.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from flask import Response
from marshmallow import Schema, fields
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from service.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    Unauthenticated,
)

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:backstride:problem:"
DATABASE_RETRY_AFTER_S = 5
log = logging.getLogger(__name__)

DOMAIN_STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    Invalid: 422,
    Unauthenticated: 401,
    Forbidden: 403,
}


# A validation problem's `errors`: each field's messages, or for a nested object or a list the
# same map one level down (`{"quiet_hours": {"start": ["Use a 24-hour time like 21:30."]}}`).
FIELD_ERRORS = "FieldErrors"
_FIELD_ERRORS_VALUE = {"oneOf": [{"type": "array", "items": {"type": "string"}},
                                 {"$ref": f"#/components/schemas/{FIELD_ERRORS}"}]}
FIELD_ERRORS_SCHEMA = {
    "type": "object", "additionalProperties": _FIELD_ERRORS_VALUE,
    "description": "Messages by field name; a nested object or list item has the same map "
                   "one level down (list items by their index).",
}


class ProblemSchema(Schema):
    """RFC 9457 problem details (documentation only: problems are built by `problem()`)."""

    type = fields.String(required=True,
                         metadata={"description": "A URI naming the kind of problem."})
    title = fields.String(required=True, metadata={"description": "The status phrase."})
    status = fields.Integer(required=True, metadata={"description": "The HTTP status."})
    detail = fields.String(required=True,
                           metadata={"description": "What went wrong, for a person."})
    errors = fields.Dict(keys=fields.String(), metadata={
        "description": "Validation problems only: messages by field name.",
        "additionalProperties": _FIELD_ERRORS_VALUE})


def problem_body(status: int, detail: str | None = None, *, slug: str | None = None,
                 errors: dict[str, Any] | None = None, **extensions: Any) -> dict[str, Any]:
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + slug if slug else "about:blank",
        "title": phrase,
        "status": status,
        "detail": detail or phrase,
    }
    if errors:
        body["errors"] = errors
    body.update(extensions)
    return body


def problem(status: int, detail: str | None = None, *, slug: str | None = None,
            errors: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
            **extensions: Any) -> Response:
    body = problem_body(status, detail, slug=slug, errors=errors, **extensions)
    response = Response(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    headers = dict(data.get("headers") or {})
    if error.response is not None:  # e.g. 405's Allow, 429's Retry-After set by the raiser
        headers.update({k: v for k, v in error.response.headers.items()
                        if k in ("Allow", "Retry-After", "WWW-Authenticate")})
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    if status >= 500:
        original = getattr(error, "original_exception", None)
        if original is not None:
            log.error("unhandled error", exc_info=original)
        return problem(status, "Something went wrong on our side; it has been logged.",
                       headers=headers)
    messages = data.get("messages")
    if status == 422 and messages:
        errors = _flatten_locations(messages)
        detail = "Invalid input: " + ", ".join(sorted(errors)) + "."
        return problem(422, detail, slug="validation", errors=errors, headers=headers)
    detail = data.get("message") or _detail_of(error)
    return problem(status, detail, headers=headers)


def domain_problem_body(error: DomainError) -> dict[str, Any]:
    """The problem a refusal becomes, also used for one item of a batch."""
    errors = {error.field: [error.detail]} if error.field else None
    return problem_body(_domain_status(error), error.detail, slug=error.slug, errors=errors)


def from_domain_error(error: DomainError) -> Response:
    body = domain_problem_body(error)
    response = Response(json.dumps(body), status=body["status"], mimetype=MEDIA_TYPE)
    if body["status"] == 401:
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


def _domain_status(error: DomainError) -> int:
    return next(code for kind, code in DOMAIN_STATUS.items() if isinstance(error, kind))


def from_integrity_error(error: IntegrityError) -> Response:
    log.info("integrity error answered as 409: %s", error.orig)
    return problem(409, "This conflicts with data that already exists.", slug="conflict")


def from_database_error(error: DBAPIError) -> Response:
    """A database that cannot be reached is a 503 the client may retry, not a 500."""
    if isinstance(error, IntegrityError):
        return from_integrity_error(error)
    if isinstance(error, DataError):  # e.g. a NUL byte, which PostgreSQL text cannot hold
        log.info("data error answered as 422: %s", error.orig)
        return problem(422, "A value could not be stored as given (control characters?).",
                       slug="validation")
    if not error.connection_invalidated and not isinstance(error, OperationalError):
        return from_http_exception(InternalServerError(original_exception=error))
    log.warning("database unavailable: %s", error.orig)
    return problem(503, "The database is unavailable; retry shortly.", slug="database-unavailable",
                   headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)})


def from_stale_data(_error: Exception) -> Response:
    """Two writes raced on one row; the loser changed nothing and should read it again."""
    return problem(409, "It changed while you were saving; read it again and retry.",
                   slug="conflict")


def _detail_of(error: HTTPException) -> str:
    description = error.description or ""
    # Werkzeug's stock descriptions talk about "the browser"; keep ours short and client-neutral.
    if description.startswith(("The requested URL was not found", "The browser (or proxy)")):
        return HTTPStatus(error.code or 500).phrase
    return description or HTTPStatus(error.code or 500).phrase


def _flatten_locations(messages: dict[str, Any]) -> dict[str, Any]:
    """webargs groups messages by location (json, query, headers); clients want field names."""
    flat: dict[str, Any] = {}
    for location, fields_ in messages.items():
        if isinstance(fields_, dict):
            for name, value in fields_.items():
                plain = location in ("json", "query", "path", "form", "files")
                key = name if plain else f"{location}.{name}"
                flat[key] = value
        else:
            flat[location] = fields_
    return flat
