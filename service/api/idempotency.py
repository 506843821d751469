"""Idempotency-Key on creating POSTs, as Stripe does it.

A phone that lost the answer to a POST sends it again with the same key and gets the first
response back instead of a second account, pair of shoes or batch. Records are scoped to
(athlete, route, key), hold a fingerprint of the body, and are written in the same transaction as
the effect; a replay within 24 hours returns the stored response, the same key with another body is
a 422, and a request that failed validation stores nothing.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Response, g, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from service.api.context import db, now, run_after_commit
from service.api.problems import problem
from service.models import IdempotencyRecord

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255

HEADER_DOC = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH},
    "description": "A unique value per logical request (a UUID); a retry with the same key "
                   "within 24 hours returns the first response.",
}


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Replay the first response to a repeated key; place it below the auth decorator."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not 0 < len(key) <= MAX_KEY_LENGTH:
            return problem(422, f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters.",
                           slug="validation", errors={HEADER: ["Invalid length."]})
        scope = str(g.principal.account.id) if "principal" in g else "anonymous"
        route = f"{request.method} {request.url_rule.rule if request.url_rule else request.path}"
        fingerprint = _fingerprint()
        stored = _find(scope, route, key)
        if stored is not None:
            return _replay(stored, fingerprint)

        g.idempotency_pending = True
        try:
            response = view(*args, **kwargs)
        finally:
            g.idempotency_pending = False
        if not g.pop("commit_deferred", False):
            return response  # refused before any effect: nothing to remember
        session = db()
        session.add(IdempotencyRecord(
            scope=scope, route=route, key=key, fingerprint=fingerprint,
            status_code=response.status_code, response_body=response.get_data(as_text=True),
            location=response.headers.get("Location"), created_at=now(), expires_at=now() + TTL,
        ))
        try:
            session.commit()
        except IntegrityError:
            # The same key committed first in a concurrent request: ours is discarded whole.
            session.rollback()
            stored = _find(scope, route, key)
            if stored is None:
                raise
            return _replay(stored, fingerprint)
        run_after_commit()
        return response

    return wrapper


def _find(scope: str, route: str, key: str) -> IdempotencyRecord | None:
    """The live record for this key; an expired one not yet purged is cleared out of the way."""
    record = db().scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.scope == scope, IdempotencyRecord.route == route,
        IdempotencyRecord.key == key,
    ))
    if record is not None and record.expires_at <= now():
        db().delete(record)
        db().flush()
        return None
    return record


def _replay(stored: IdempotencyRecord, fingerprint: str) -> Response:
    if stored.fingerprint != fingerprint:
        return problem(422, f"This {HEADER} was used with a different body; use a new key.",
                       slug="idempotency-key-reused",
                       errors={HEADER: ["Already used with a different body."]})
    response = Response(stored.response_body, status=stored.status_code,
                        mimetype="application/json")
    if stored.location:
        response.headers["Location"] = stored.location
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _fingerprint() -> str:
    """The body's digest, insensitive to key order and white space when it is JSON."""
    body = request.get_json(silent=True)
    raw = json.dumps(body, sort_keys=True).encode() if body is not None else request.get_data()
    return hashlib.sha256(raw).hexdigest()
