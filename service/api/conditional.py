"""ETags from row versions, and the checks that go with them.

A write with `If-Match` that no longer matches is refused with 412, so two phones editing the same
record cannot silently overwrite each other; a write without it is accepted (the offline app
cannot always know the current tag), unless a view requires it (428). A conditional PUT on a
record that does not exist is refused with 412, `*` included (RFC 9110 §13.1.1: `*` is false when
there is no current representation), so it never creates. A PATCH or DELETE of a missing record
stays 404 with or without If-Match: a server ignores preconditions when the request would fail
without them (RFC 9110 §13.2.1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import request
from werkzeug.exceptions import PreconditionFailed, PreconditionRequired

from service.api.compression import without_coding
from service.domain.errors import NotFound

T = TypeVar("T")

# The spec's components (service.api.extension): optional, unlike flask-smorest's If-Match.
IF_MATCH_DOC: dict[str, Any] = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The ETag you read; a stale one gets 412, and so does any (`*` too) on a "
                   "PUT to a record that does not exist. Without it the write is accepted.",
    "schema": {"type": "string"},
}
IF_NONE_MATCH_DOC: dict[str, Any] = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "The ETag you read; 304 with no body if it is still current.",
    "schema": {"type": "string"},
}
ETAG_DOC: dict[str, Any] = {
    "description": "The record's entity tag: send it back in If-None-Match to re-read cheaply, "
                   "in If-Match to write only over what you read.",
    "schema": {"type": "string"},
}


def etag_of(version: int) -> str:
    """The (unquoted) entity tag of a row at a version; tags are per URL, so a number will do."""
    return f"v{version}"


def etag_header(version: int) -> dict[str, str]:
    """The response header that carries a row's (strong, quoted) ETag at a version."""
    return {"ETag": f'"{etag_of(version)}"'}


def if_match_sent() -> bool:
    return bool(request.if_match) or request.if_match.star_tag


def existing(find: Callable[[], T]) -> T:
    """What `find()` finds; if it raises NotFound while If-Match was sent, 412 instead.

    No tag, not even `*`, matches a record that does not exist (RFC 9110 §13.1.1).
    """
    try:
        return find()
    except NotFound:
        if if_match_sent():
            raise PreconditionFailed("There is no such record for If-Match to match.") from None
        raise


def check_if_match(current_tag: str, *, required: bool = False) -> None:
    if_match = request.if_match
    if not if_match and not if_match.star_tag:
        if required:
            raise PreconditionRequired("Send If-Match with the ETag you last read.")
        return
    # A tag from a compressed answer carries its coding ("v3:br"): the same version. Werkzeug
    # reads the empty tag `""` as None; it is a valid tag that matches nothing of ours.
    sent = {without_coding(tag) for tag in if_match.as_set() if tag is not None}
    if not if_match.star_tag and current_tag not in sent:
        raise PreconditionFailed("The resource changed since you read it; read it again.")
