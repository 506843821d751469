"""What the plan routes answer, shared by the athlete's `/v1/plan` and the coach's writes.

Views stay thin: each resolves whose plan it is (the caller's, or an athlete who granted the
coach `plan`) and hands it here; every write answers with the whole plan's preflight from the
athlete's today, so the app (or the coach's tool) shows what the plan now asks of the body.
"""

from __future__ import annotations

import uuid
from dataclasses import fields as dataclass_fields
from datetime import date, timedelta
from typing import Any

from marshmallow import ValidationError

from service.api.context import db, now, state
from service.api.problems import domain_problem_body, problem_body
from service.domain.calendar import local_date
from service.domain.plans import messages, records, spreadsheet
from service.domain.plans import rules as plans
from service.models import Account, PlannedRun

from .schemas import PlannedRunBatchItemSchema

_batch_item = PlannedRunBatchItemSchema()
PLAN_LISTED_DAYS = 28  # GET /v1/plan without `from`: the last four weeks and all ahead


def threshold() -> float:
    return state().settings.weekly_jump_threshold


def today_of(athlete: Account) -> date:
    return local_date(now(), athlete.timezone)


def preflight(athlete: Account) -> dict[str, Any]:
    """The plan from the athlete's today, judged: each flagged run with its numbers and source."""
    today = today_of(athlete)
    check = records.check(db(), athlete, today, threshold())
    return {"judged_from": today, "judged": len(check.judged),
            "flags": [messages.flag(judged, threshold()) for judged in check.flags],
            "unjudged": [{"planned_run_id": j.run.id, "date": j.run.day,
                          "distance_m": j.run.distance_m} for j in check.unjudged]}


def run_answer(row: PlannedRun, **extra: Any) -> dict[str, Any]:
    return {"id": row.id, "local_date": row.local_date, "distance_m": row.distance_m,
            "kind": row.kind, "notes": row.notes, "coach_id": row.coach_id,
            "version": row.version, "created_at": row.created_at, "updated_at": row.updated_at,
            **extra}


def write_one(athlete: Account, item: dict[str, Any], coach: Account | None) -> records.Outcome:
    (outcome,) = records.upsert(db(), athlete, [item], today_of(athlete), now(),
                                coach=coach).outcomes
    if outcome.error is not None:
        raise outcome.error
    return outcome


def write_batch(athlete: Account, body: dict[str, Any], coach: Account | None) -> dict[str, Any]:
    """Each item upserted as by PUT; a bad one does not hold back the others."""
    results: list[dict[str, Any] | None] = [None] * len(body["items"])
    valid: list[tuple[int, dict[str, Any]]] = []
    for index, raw in enumerate(body["items"]):
        try:
            valid.append((index, _batch_item.load(raw)))
        except ValidationError as error:
            results[index] = _refused(index, raw, error)
    written = records.upsert(db(), athlete, [item for _, item in valid], today_of(athlete),
                             now(), coach=coach, replace=body["replace"])
    for (index, _), outcome in zip(valid, written.outcomes, strict=True):
        results[index] = _result(index, outcome)
    return {"results": results, "removed": written.removed, "preflight": preflight(athlete)}


def write_file(athlete: Account, data: bytes, replace: bool,
               coach: Account | None) -> dict[str, Any]:
    """A spreadsheet's CSV as one batch; any row with a problem refuses the file (422)."""
    sheet = spreadsheet.read(data, today_of(athlete))
    items, places = [], {}
    for row in sheet.rows:
        place = places.get(row.day, 0)
        places[row.day] = place + 1
        items.append({"id": file_row_id(athlete, row.day, place), "date": row.day,
                      "distance_m": row.distance_m, "kind": row.kind, "notes": row.notes})
    written = records.upsert(db(), athlete, items, today_of(athlete), now(), coach=coach,
                             replace=replace)
    for row, outcome in zip(sheet.rows, written.outcomes, strict=True):
        if outcome.error is not None:  # the sheet's own checks cover these; a stale id may not
            raise spreadsheet.Unreadable(
                f"Row {row.row}: {outcome.error.detail}",
                {"rows": {str(row.row): {outcome.error.field or "file": [outcome.error.detail]}}})
    return {"results": [{"row": row.row, "id": outcome.id, "result": outcome.result}
                        for row, outcome in zip(sheet.rows, written.outcomes, strict=True)],
            "rest_days": sheet.rest_days, "ignored_columns": sheet.ignored_columns,
            "removed": written.removed, "preflight": preflight(athlete)}


def file_row_id(athlete: Account, day: date, place: int) -> uuid.UUID:
    """The same file again names the same rows: the athlete, the day, its place that day."""
    return uuid.uuid5(athlete.id, f"plan-file:{day.isoformat()}:{place}")


def plan(athlete: Account, args: dict[str, Any]) -> dict[str, Any]:
    today = today_of(athlete)
    first = args.get("start") or today - timedelta(days=PLAN_LISTED_DAYS)
    rows = records.listing(db(), athlete, first, args.get("end"))
    last_matched = min(args.get("end") or today, today)
    adherence = records.adherence(db(), [athlete.id], first, last_matched,
                                  {athlete.id: today})[athlete.id]
    upcoming = records.planned(db(), [athlete.id], today).get(athlete.id, [])
    return {"items": [run_answer(row) for row in rows], "days": adherence.days,
            "counts": adherence.counts, "goal": plans.goal_of(plans.upcoming([], upcoming, today)),
            "preflight": preflight(athlete)}


def load_with_plan(report: Any, athlete: Account, include: bool = True) -> dict[str, Any]:
    """The load report with done against planned of its 14 days, and the next planned run."""
    answer = {f.name: getattr(report, f.name) for f in dataclass_fields(report)}
    answer["plan"] = None
    if include:
        as_of = report.as_of
        first = as_of - timedelta(days=records.ADHERENCE_DAYS - 1)
        seen = records.adherence(db(), [athlete.id], first, as_of,
                                 {athlete.id: today_of(athlete)})[athlete.id]
        answer["plan"] = {"days": seen.days, "counts": seen.counts, "next_run": seen.next_run}
    return answer


def safer(athlete: Account) -> dict[str, Any]:
    proposal = records.safer(db(), athlete, today_of(athlete), threshold())
    notes = {row.id: row.notes for row in records.listing(db(), athlete, today_of(athlete), None)}
    return {"goal": proposal.goal, "reached": proposal.reached,
            "already_safe": proposal.already_safe, "reachable_m": proposal.reachable_m,
            "summary": messages.safer_summary(proposal, athlete.units),
            "items": [{"id": run.id, "date": run.day, "distance_m": run.distance_m,
                       "kind": run.kind, "notes": notes.get(run.id)} for run in proposal.proposal],
            "changes": [{"planned_run_id": c.run.id, "date": c.run.day,
                         "planned_m": c.run.distance_m, "proposed_m": c.distance_m,
                         "change": c.change, "because": c.because} for c in proposal.changes]}


def _refused(index: int, raw: Any, error: ValidationError) -> dict[str, Any]:
    messages_ = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
    ident = raw.get("id") if isinstance(raw, dict) else None
    try:
        ident = uuid.UUID(str(ident)) if ident is not None else None
    except ValueError:
        ident = None
    detail = "Invalid input: " + ", ".join(sorted(messages_)) + "."
    return {"index": index, "id": ident, "result": "error", "version": None,
            "problem": problem_body(422, detail, slug="validation", errors=messages_)}


def _result(index: int, outcome: records.Outcome) -> dict[str, Any]:
    if outcome.error is not None:
        return {"index": index, "id": outcome.id, "result": "error", "version": None,
                "problem": domain_problem_body(outcome.error)}
    return {"index": index, "id": outcome.id, "result": outcome.result,
            "version": outcome.run.version, "problem": None}
