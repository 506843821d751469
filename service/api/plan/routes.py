"""The athlete's plan: planned runs one by one, a whole plan at once or from a spreadsheet, each
write judged before the runs happen; a safer version on request."""

from __future__ import annotations

import uuid
from functools import partial

from flask.views import MethodView

from service.api.conditional import check_if_match, etag_header, etag_of, existing, if_match_sent
from service.api.context import commit, db, now
from service.api.extension import Blueprint
from service.api.problems import problem
from service.api.security import current_account
from service.domain.accounts import scopes
from service.domain.errors import Invalid
from service.domain.plans import records, spreadsheet

from . import answers
from .schemas import (
    PlanArgsSchema,
    PlanBatchAnswerSchema,
    PlanBatchSchema,
    PlanFileAnswerSchema,
    PlanFileArgsSchema,
    PlanFileSchema,
    PlannedRunInputSchema,
    PlannedRunSchema,
    PlannedRunWrittenSchema,
    PlanSchema,
    SaferSchema,
)

blp = Blueprint("plan", __name__, url_prefix="/v1/plan",
                description="Your planned runs, checked before you run them.")


@blp.route("")
class Plan(MethodView):
    @blp.operation("getPlan")
    @blp.read_only()
    @blp.auth_required(scopes.PLAN_READ)
    @blp.arguments(PlanArgsSchema, location="query")
    @blp.response(200, PlanSchema)
    def get(self, args):
        """Read your plan

        Your planned runs from `from` (28 days ago if left out) to `to`, each planned day up to
        today against what you ran, the plan's goal and its preflight check from today.
        """
        return answers.plan(current_account(), args)


@blp.route("/batch")
class PlanBatch(MethodView):
    @blp.operation("writePlanBatch")
    @blp.auth_required(scopes.PLAN_WRITE)
    @blp.idempotent()
    @blp.arguments(PlanBatchSchema)
    @blp.response(200, PlanBatchAnswerSchema)
    def post(self, body):
        """Write many planned runs: a whole plan

        Up to 500 in one request (a 16-week plan fits), each upserted by its id as by PUT; a bad
        one does not hold back the others. With `replace`, your other planned runs from the
        batch's first day to its last are removed. The answer carries each flagged run.
        """
        answer = answers.write_batch(current_account(), body, None)
        commit()
        return answer


@blp.route("/file")
class PlanFile(MethodView):
    @blp.operation("uploadPlanFile")
    @blp.auth_required(scopes.PLAN_WRITE)
    @blp.arguments(PlanFileArgsSchema, location="query")
    @blp.arguments(PlanFileSchema, location="files")
    @blp.response(200, PlanFileAnswerSchema)
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, args, files):
        """Write your plan from a spreadsheet (CSV)

        Export the sheet as CSV (`multipart/form-data`, field `file`): a header row naming
        `date` (YYYY-MM-DD) and one of `distance_km`, `distance_mi` or `distance_m`, and if you
        like `kind` and `notes`. A row with a problem refuses the file, each problem named by its
        row (the header is row 1) and column. The same file again changes nothing.
        """
        try:
            answer = answers.write_file(current_account(), files["file"].read(),
                                        args["replace"], None)
        except spreadsheet.Unreadable as error:
            return problem(422, error.detail, slug="validation", errors=error.errors)
        commit()
        return answer


@blp.route("/safer")
class SaferPlan(MethodView):
    @blp.operation("getSaferPlan")
    @blp.read_only()
    @blp.auth_required(scopes.PLAN_READ)
    @blp.response(200, SaferSchema)
    def get(self):
        """Propose a safer version of your plan

        The same goal (your last race, else your longest planned run) on the same day, with no
        run more than 10 % longer than the longest of the 30 days before it and no 7 days over
        the weekly threshold; or, honestly, that it cannot be reached safely by then and how far
        it can. Nothing is changed until you send the proposal to the batch with `replace`.
        """
        return answers.safer(current_account())


def tagged(row, status: int = 200, **extra):
    return answers.run_answer(row, **extra), status, etag_header(row.version)


@blp.route("/<uuid:run_id>")
class PlannedRunById(MethodView):
    @blp.operation("getPlannedRun")
    @blp.read_only()
    @blp.auth_required(scopes.PLAN_READ)
    @blp.if_none_match()
    @blp.response(200, PlannedRunSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, run_id: uuid.UUID):
        """Read a planned run

        One of yours as last written, with its ETag and who wrote it.
        """
        return tagged(records.get_owned(db(), current_account(), run_id))

    @blp.operation("writePlannedRun")
    @blp.auth_required(scopes.PLAN_WRITE)
    @blp.if_match()
    @blp.arguments(PlannedRunInputSchema)
    @blp.response(200, PlannedRunWrittenSchema, description="Updated, or unchanged.")
    @blp.alt_response(201, schema=PlannedRunWrittenSchema, description="Created.")
    @blp.alt_response(404, response="NOT_FOUND")
    def put(self, item, run_id: uuid.UUID):
        """Write a planned run

        Idempotent: the id is made by the client, and the same body again changes nothing. The
        answer carries the preflight check of your whole plan as it stands after this write.
        """
        return put_run(current_account(), item, run_id, None)

    @blp.operation("deletePlannedRun")
    @blp.auth_required(scopes.PLAN_WRITE)
    @blp.if_match()
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, run_id: uuid.UUID):
        """Delete a planned run

        With If-Match, only the version you read. The plan's preflight changes with it: read
        `GET /v1/plan` for it.
        """
        delete_run(current_account(), run_id)


def put_run(athlete, item, run_id: uuid.UUID, coach):
    """PUT of one planned run, for the athlete and for a coach they granted `plan`."""
    if item.setdefault("id", run_id) != run_id:
        raise Invalid("The id in the body differs from the one in the path.", field="id")
    if if_match_sent():  # then only over what was read: never a creation
        current = existing(partial(records.get_owned, db(), athlete, run_id))
        check_if_match(etag_of(current.version))
    outcome = answers.write_one(athlete, item, coach)
    answer = tagged(outcome.run, 201 if outcome.result == records.CREATED else 200,
                    preflight=answers.preflight(athlete))
    commit()
    return answer


def delete_run(athlete, run_id: uuid.UUID, coach=None) -> None:
    if if_match_sent():
        check_if_match(etag_of(records.get_owned(db(), athlete, run_id).version))
    records.remove(db(), athlete, run_id, now(), coach=coach)
    commit()
