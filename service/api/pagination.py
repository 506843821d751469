"""Keyset (cursor) pagination, newest first.

Offsets skip or repeat rows when new ones arrive between pages; a cursor that names the last row
seen does not. The cursor is opaque to clients: base64url of the last row's sort key.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Generic, TypeVar

from marshmallow import Schema, fields, validate
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from service.domain.errors import Invalid

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class PageArgsSchema(Schema):
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(1, MAX_LIMIT),
                           metadata={"description": f"Items per page, 1 to {MAX_LIMIT}."})
    cursor = fields.String(load_default=None, validate=validate.Length(max=200),
                           metadata={"description": "`next_cursor` of the previous page."})


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@cache
def page_schema(item_schema: type[Schema]) -> type[Schema]:
    """The `{items, next_cursor}` envelope for one item schema, named after it (made once, so
    two routes that page the same items share one component)."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    return type(name, (Schema,), {
        "items": fields.List(fields.Nested(item_schema), required=True),
        "next_cursor": fields.String(
            allow_none=True, required=True,
            metadata={"description": "Pass as `cursor` for the next page; null on the last."},
        ),
    })


def paginate(session: Session, statement: Select[Any], *,
             order: tuple[InstrumentedAttribute, InstrumentedAttribute], cursor: str | None,
             limit: int) -> Page[Any]:
    """One page of `statement` ordered by (a time, an id) descending, after `cursor` if given."""
    created, ident = order
    if cursor:
        after_created, after_id = _decode(cursor)
        statement = statement.where(or_(
            created < after_created, and_(created == after_created, ident < after_id),
        ))
    rows = list(session.scalars(statement.order_by(created.desc(), ident.desc()).limit(limit + 1)))
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = _encode(getattr(last, created.key), getattr(last, ident.key))
    return Page(items, next_cursor)


def _encode(created: datetime, ident: uuid.UUID) -> str:
    raw = json.dumps([created.isoformat(), str(ident)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, ident = json.loads(raw)
        if not isinstance(created, str) or not isinstance(ident, str):
            raise ValueError("not ours")
        moment = datetime.fromisoformat(created)
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment, uuid.UUID(ident)
    except (ValueError, TypeError, OverflowError, binascii.Error, json.JSONDecodeError):
        raise Invalid("This cursor is not one we gave out.", field="cursor") from None
