"""ETags from row versions, and the checks that go with them.

A write with `If-Match` that no longer matches is refused with 412, so two phones editing the same
record cannot silently overwrite each other; a write without it is accepted (the offline app
cannot always know the current tag), unless a view requires it (428).
"""

from __future__ import annotations

from flask import request
from werkzeug.exceptions import PreconditionFailed, PreconditionRequired

from service.api.compression import without_coding


def etag_of(version: int) -> str:
    """The (unquoted) entity tag of a row at a version; tags are per URL, so a number will do."""
    return f"v{version}"


def etag_header(version: int) -> dict[str, str]:
    """The response header that carries a row's (strong, quoted) ETag at a version."""
    return {"ETag": f'"{etag_of(version)}"'}


def check_if_match(current_tag: str, *, required: bool = False) -> None:
    if_match = request.if_match
    if not if_match and not if_match.star_tag:
        if required:
            raise PreconditionRequired("Send If-Match with the ETag you last read.")
        return
    # A tag from a compressed answer carries its coding ("v3:br"): the same version.
    sent = {without_coding(tag) for tag in if_match.as_set()}
    if not if_match.star_tag and current_tag not in sent:
        raise PreconditionFailed("The resource changed since you read it; read it again.")
