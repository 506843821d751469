"""Check-ins: runs, pain reports and exercise sessions, written offline-first."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

from flask.views import MethodView
from marshmallow import ValidationError

from service import queues
from service.api.conditional import check_if_match, etag_header, etag_of, existing, if_match_sent
from service.api.context import after_commit, commit, db, now, state
from service.api.extension import Blueprint
from service.api.pagination import paginate
from service.api.problems import domain_problem_body, problem_body
from service.api.security import current_account, current_principal
from service.domain.accounts import scopes
from service.domain.checkins import reads as checkin_reads
from service.domain.checkins import writes as checkin_writes
from service.domain.errors import Forbidden, Gone, Invalid, NotFound
from service.domain.pain import tiers as pain
from service.models import Checkin

from .schemas import (
    BatchResponseSchema,
    BatchSchema,
    CheckinBatchItemSchema,
    CheckinInputSchema,
    CheckinPageSchema,
    CheckinQuerySchema,
    CheckinSchema,
)

blp = Blueprint("checkins", __name__, url_prefix="/v1/checkins",
                description="Runs, pain reports and exercise sessions.")
_batch_item = CheckinBatchItemSchema()


def tagged(checkin: Checkin, status: int = 200):
    return checkin, status, etag_header(checkin.version)


PAIN = "pain"
NO_PAIN_SCOPE = "This token does not grant 'pain:read', which pain check-ins need."


def _hidden_kinds() -> tuple[str, ...]:
    """Pain check-ins are behind `pain:read` for any token (scopes.SENSITIVE)."""
    return () if current_principal().sees_pain else (PAIN,)


def _hidden_pain(athlete, checkin_id: uuid.UUID) -> bool:
    """Whether this is a live pain check-in that the caller may not see."""
    if not _hidden_kinds():
        return False
    try:
        return checkin_writes.get_owned(db(), athlete, checkin_id).kind in _hidden_kinds()
    except (NotFound, Gone):
        return False


def _owned_visible(athlete, checkin_id: uuid.UUID) -> Checkin:
    """One of the athlete's check-ins, or the same 404 as a missing one if it is pain the caller
    may not see."""
    checkin = checkin_writes.get_owned(db(), athlete, checkin_id)
    if checkin.kind in _hidden_kinds():
        raise NotFound("No such check-in.")
    return checkin


@blp.route("")
class Checkins(MethodView):
    @blp.operation("listCheckins")
    @blp.read_only()
    @blp.auth_required(scopes.CHECKINS_READ)
    @blp.arguments(CheckinQuerySchema, location="query")
    @blp.response(200, CheckinPageSchema)
    def get(self, args):
        """List check-ins, or sync changes

        Without `since`: your history, newest first, filtered by `kind`, `from` and `to`. With
        `since`: every change after that cursor in order, deleted ones as tombstones.
        """
        athlete, hidden = current_account(), _hidden_kinds()
        if args.get("kind") in hidden:
            raise NotFound("No such check-ins.")
        if "since" in args:
            changes = checkin_reads.changes_since(db(), athlete, int(args["since"]),
                                                  args["limit"], args.get("kind"), hidden)
            return {"items": changes.items, "next_cursor": str(changes.next_since),
                    "has_more": changes.has_more}
        statement = checkin_reads.history(athlete, kind=args.get("kind"),
                                          start=args.get("start"), end=args.get("end"),
                                          hide_kinds=hidden)
        page = paginate(db(), statement, order=(Checkin.occurred_at, Checkin.id),
                        cursor=args["cursor"], limit=args["limit"])
        return {"items": page.items, "next_cursor": page.next_cursor,
                "has_more": page.next_cursor is not None}


@blp.route("/<uuid:checkin_id>")
class CheckinById(MethodView):
    @blp.operation("getCheckin")
    @blp.read_only()
    @blp.auth_required(scopes.CHECKINS_READ)
    @blp.if_none_match()
    @blp.response(200, CheckinSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(410, response="GONE")
    def get(self, checkin_id: uuid.UUID):
        """Read a check-in

        One of yours as last recorded, with its ETag; a deleted one answers 410.
        """
        return tagged(_owned_visible(current_account(), checkin_id))

    @blp.operation("uploadCheckin")
    @blp.auth_required(scopes.CHECKINS_WRITE)
    @blp.if_match()
    @blp.arguments(CheckinInputSchema)
    @blp.response(200, CheckinSchema, description="Updated, or unchanged.")
    @blp.alt_response(201, schema=CheckinSchema, description="Created.")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(410, response="GONE")
    def put(self, item, checkin_id: uuid.UUID):
        """Record a check-in

        Idempotent: the same body again changes nothing and answers the same. The id is made by
        the phone, so a retry after a lost answer is always safe.
        """
        if item.setdefault("id", checkin_id) != checkin_id:
            raise Invalid("The id in the body differs from the one in the path.", field="id")
        athlete = current_account()
        if item.get("kind") in _hidden_kinds():
            raise Forbidden(NO_PAIN_SCOPE)
        if if_match_sent():  # then only over what was read: never a creation
            current = existing(partial(_owned_visible, athlete, checkin_id))
            check_if_match(etag_of(current.version))
        (outcome,) = checkin_writes.upsert(db(), athlete, [item], now())
        if outcome.error:
            raise outcome.error
        _push_at_once([outcome])
        commit()
        return tagged(outcome.checkin, 201 if outcome.result == checkin_writes.CREATED else 200)

    @blp.operation("deleteCheckin")
    @blp.auth_required(scopes.CHECKINS_WRITE)
    @blp.if_match()
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(410, response="GONE",
                      description="Deleted already, and the request carried If-Match.")
    def delete(self, checkin_id: uuid.UUID):
        """Delete a check-in

        Leaves a tombstone so your other devices learn of it when they sync. Deleting twice is
        harmless (204), unless If-Match asks about the deleted version (410).
        """
        athlete = current_account()
        if _hidden_pain(athlete, checkin_id):
            raise NotFound("No such check-in.")
        if if_match_sent():  # a missing one is 404 either way (RFC 9110 §13.2.1)
            check_if_match(etag_of(_owned_visible(athlete, checkin_id).version))
        checkin_writes.delete(db(), athlete, checkin_id, now())
        commit()


@blp.route("/batch")
class CheckinBatch(MethodView):
    @blp.operation("uploadCheckinBatch")
    @blp.auth_required(scopes.CHECKINS_WRITE)
    @blp.idempotent()
    @blp.arguments(BatchSchema)
    @blp.response(200, BatchResponseSchema)
    def post(self, body):
        """Record many check-ins

        Up to 500 in one request, each upserted as by PUT. Each gets its own result; a bad one
        does not hold back the others.
        """
        results: list[dict[str, Any] | None] = [None] * len(body["items"])
        valid: list[tuple[int, dict[str, Any]]] = []
        hidden = _hidden_kinds()
        for index, raw in enumerate(body["items"]):
            try:
                item = _batch_item.load(raw)
            except ValidationError as error:
                results[index] = _refused(index, raw, 422, _messages(error))
                continue
            if item.get("kind") in hidden:
                results[index] = _result(index, checkin_writes.Outcome(
                    item["id"], error=Forbidden(NO_PAIN_SCOPE)))
                continue
            valid.append((index, item))
        outcomes = checkin_writes.upsert(db(), current_account(), [i for _, i in valid], now())
        for (index, _), outcome in zip(valid, outcomes, strict=True):
            results[index] = _result(index, outcome)
        _push_at_once(outcomes)
        commit()
        return {"results": results}


def _push_at_once(outcomes: list[checkin_writes.Outcome]) -> None:
    """Emergency and urgent advice goes to the phone now, not at the next push sweep."""
    hints = state().hints
    for outcome in outcomes:
        if outcome.triage is not None and outcome.triage.immediate:
            notification_id = str(outcome.triage.notification_id)
            after_commit(partial(hints.send, queues.PUSH_DELIVER, notification_id))


def _messages(error: ValidationError) -> dict[str, Any]:
    messages = error.messages
    return messages if isinstance(messages, dict) else {"_schema": messages}


def _refused(index: int, raw: Any, status: int, errors: dict[str, Any]) -> dict[str, Any]:
    ident = raw.get("id") if isinstance(raw, dict) else None
    try:
        ident = uuid.UUID(str(ident)) if ident is not None else None
    except ValueError:
        ident = None
    detail = "Invalid input: " + ", ".join(sorted(errors)) + "."
    return {"index": index, "id": ident, "result": "error", "version": None, "triage": None,
            "problem": problem_body(status, detail, slug="validation", errors=errors)}


def _result(index: int, outcome: checkin_writes.Outcome) -> dict[str, Any]:
    if outcome.error is not None:
        return {"index": index, "id": outcome.id, "result": "error", "version": None,
                "triage": None, "problem": domain_problem_body(outcome.error)}
    return {"index": index, "id": outcome.id, "result": outcome.result,
            "version": outcome.checkin.version, "triage": pain.triage_answer(outcome.checkin),
            "problem": None}
