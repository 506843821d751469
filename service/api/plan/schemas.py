"""The plan: planned runs in and out, their preflight check, a safer version."""

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from service.api.checkins.schemas import UnvalidatedList
from service.api.fields import Day, UTCInstant
from service.api.problems import ProblemSchema
from service.domain.plans import records
from service.domain.plans import rules as plans
from service.domain.training.rules import Spike

KINDS = list(plans.KINDS)
STATUSES = [plans.DONE, plans.SHORTER, plans.LONGER, plans.MISSED, plans.PLANNED]


def _distance(**kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(plans.MIN_DISTANCE_M,
                                                               plans.MAX_DISTANCE_M), **kwargs)


class PlannedRunInputSchema(Schema):
    """A planned run: a day in your time zone and a distance, and if you like its kind."""

    id = fields.UUID(metadata={"description": "Made by the client. In a PUT body it must match "
                               "the path, and may be left out."})
    date = Day(required=True, metadata={
        "description": "The day, in your time zone; from a year ago to two years ahead."})
    distance_m = _distance(required=True, metadata={"description": "100 m to 500 km."})
    kind = fields.String(allow_none=True, validate=validate.OneOf(KINDS))
    notes = fields.String(allow_none=True, validate=validate.Length(max=2000))


class PlannedRunBatchItemSchema(PlannedRunInputSchema):
    id = fields.UUID(required=True, metadata={"description": "Made by the client."})


class PlannedRunSchema(Schema):
    id = fields.UUID(required=True)
    date = fields.Date(required=True, attribute="local_date")
    distance_m = fields.Integer(required=True)
    kind = fields.String(allow_none=True, required=True, metadata={"enum": [*KINDS, None]})
    notes = fields.String(allow_none=True, required=True)
    written_by = fields.Method("_written_by", required=True, metadata={
        "type": "string", "enum": ["athlete", "coach"],
        "description": "Who wrote it last: the athlete, or a coach they granted `plan`."})
    coach_id = fields.UUID(allow_none=True, required=True, metadata={
        "description": "The coach who wrote it last, if one did."})
    version = fields.Integer(required=True)
    created_at = UTCInstant(required=True)
    updated_at = UTCInstant(required=True)

    def _written_by(self, run) -> str:
        coach_id = run["coach_id"] if isinstance(run, dict) else run.coach_id
        return "coach" if coach_id is not None else "athlete"


class SpikeFindingSchema(Schema):
    class_ = fields.String(data_key="class", attribute="class", required=True,
                           metadata={"enum": [spike.label for spike in Spike]})
    flagged = fields.Boolean(required=True, metadata={"description": "Above `ok`."})
    baseline_m = fields.Integer(required=True, metadata={
        "description": "The longest run, done or planned, of the 30 days before its day; half "
                       "the longest of 90 days when none in 30 (`baseline_days`)."})
    baseline_days = fields.Integer(required=True, metadata={"enum": [30, 90]})
    percent_longer = fields.Integer(required=True)
    threshold_percent = fields.Integer(required=True)
    hazard_ratio = fields.Float(allow_none=True, required=True)
    longest_advisable_run_m = fields.Integer(required=True)
    source = fields.String(required=True)
    evidence = fields.String(required=True, metadata={"enum": ["E"]})


class WeeklyFindingSchema(Schema):
    flagged = fields.Boolean(required=True, metadata={"description": "Over the threshold."})
    through = fields.Date(required=True, metadata={
        "description": "The last of the 7 days: the run's day, or a rest day after it when that "
                       "is when the 7 days go over."})
    last_7_days_m = fields.Integer(required=True)
    previous_7_days_m = fields.Integer(required=True)
    percent_more = fields.Integer(allow_none=True, required=True)
    threshold_percent = fields.Integer(required=True)
    reason = fields.String(required=True)
    source = fields.String(required=True)
    evidence = fields.String(required=True, metadata={"enum": ["E (weak)"]})


class ReturnModeFindingSchema(Schema):
    active = fields.Boolean(required=True, metadata={
        "description": "Within 28 days of coming back from 14 or more without a run."})
    since = fields.Date(allow_none=True, required=True)
    until = fields.Date(allow_none=True, required=True)
    evidence = fields.String(required=True, metadata={"enum": ["C"]})


class FlagSchema(Schema):
    planned_run_id = fields.UUID(required=True)
    date = fields.Date(required=True)
    distance_m = fields.Integer(required=True)
    kind = fields.String(allow_none=True, required=True, metadata={"enum": [*KINDS, None]})
    rules = fields.List(fields.String(metadata={"enum": ["run_spike", "weekly_jump"]}),
                        required=True, metadata={"description": "The rules it breaks."})
    spike = fields.Nested(SpikeFindingSchema, allow_none=True, required=True, metadata={
        "description": "Null when no run in the 90 days before: nothing to compare with."})
    weekly = fields.Nested(WeeklyFindingSchema, required=True)
    return_mode = fields.Nested(ReturnModeFindingSchema, required=True)


class UnjudgedSchema(Schema):
    planned_run_id = fields.UUID(required=True)
    date = fields.Date(required=True)
    distance_m = fields.Integer(required=True)


class PreflightSchema(Schema):
    judged_from = fields.Date(required=True, metadata={
        "description": "Your today: runs from it on are judged (today's until a run is done)."})
    judged = fields.Integer(required=True, metadata={"description": "How many were judged."})
    flags = fields.List(fields.Nested(FlagSchema), required=True, metadata={
        "description": "Each planned run above `ok` against the 30 days before it, or whose 7 "
                       "days go over the weekly threshold, counting runs done and planned."})
    unjudged = fields.List(fields.Nested(UnjudgedSchema), required=True, metadata={
        "description": "No run in the 90 days before: the spike rule has nothing to go on. "
                       "Start with what you comfortably run."})


class PlannedRunWrittenSchema(PlannedRunSchema):
    preflight = fields.Nested(PreflightSchema, required=True, metadata={
        "description": "The whole plan from today, as it stands after this write."})


class PlanBatchSchema(Schema):
    items = UnvalidatedList(fields.Nested(PlannedRunBatchItemSchema), required=True,
                            validate=validate.Length(1, records.MAX_BATCH),
                            metadata={"description": f"1 to {records.MAX_BATCH} planned runs."})
    replace = fields.Boolean(load_default=False, metadata={
        "description": "Remove your other planned runs from the batch's first day to its last: "
                       "the batch is that stretch's plan (how a safer version is taken)."})


class PlanWriteResultSchema(Schema):
    index = fields.Integer(required=True, metadata={"description": "Position in the request."})
    id = fields.UUID(allow_none=True, required=True)
    result = fields.String(required=True, metadata={
        "enum": ["created", "updated", "unchanged", "error"]})
    version = fields.Integer(allow_none=True, required=True)
    problem = fields.Nested(ProblemSchema, allow_none=True, required=True)


class PlanBatchAnswerSchema(Schema):
    results = fields.List(fields.Nested(PlanWriteResultSchema), required=True)
    removed = fields.Integer(required=True, metadata={"description": "With `replace`."})
    preflight = fields.Nested(PreflightSchema, required=True)


class PlanFileSchema(Schema):
    file = Upload(required=True, metadata={
        "description": "CSV with a header row: `date` (YYYY-MM-DD), one of `distance_km`, "
                       "`distance_mi` or `distance_m`, and optionally `kind` and `notes`."})


class PlanFileArgsSchema(Schema):
    replace = fields.Boolean(load_default=False, metadata={
        "description": "Remove your other planned runs from the file's first day to its last."})


class PlanFileRowSchema(Schema):
    row = fields.Integer(required=True, metadata={"description": "As the spreadsheet numbers "
                                                  "it: the header is row 1."})
    id = fields.UUID(required=True, metadata={
        "description": "Made from the day and its place among that day's rows, so the same "
                       "file again changes nothing and an edited one updates in place."})
    result = fields.String(required=True, metadata={"enum": ["created", "updated",
                                                             "unchanged"]})


class PlanFileAnswerSchema(Schema):
    results = fields.List(fields.Nested(PlanFileRowSchema), required=True)
    rest_days = fields.Integer(required=True, metadata={
        "description": "Rows skipped as rest days (no distance, 0, or kind `rest`)."})
    ignored_columns = fields.List(fields.String(), required=True)
    removed = fields.Integer(required=True, metadata={"description": "With `replace`."})
    preflight = fields.Nested(PreflightSchema, required=True)


class PlanArgsSchema(Schema):
    start = Day(data_key="from", metadata={
        "description": "The first day listed; 28 days ago if left out."})
    end = Day(data_key="to", metadata={"description": "The last day listed; all ahead if left "
                                                      "out."})


class DayMatchSchema(Schema):
    date = fields.Date(required=True, attribute="day")
    planned_m = fields.Integer(required=True)
    done_m = fields.Integer(required=True)
    status = fields.String(required=True, metadata={
        "enum": STATUSES,
        "description": "done: within 20 % of the plan (as TrainingPeaks colours it); shorter, "
                       "longer, missed; planned: today not yet run, or ahead."})


class GoalSchema(Schema):
    planned_run_id = fields.UUID(required=True, attribute="run_id")
    date = fields.Date(required=True, attribute="day")
    distance_m = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={
        "enum": ["race", "peak_long_run"],
        "description": "The plan's last race, else its longest run (the latest of them)."})


class CountsSchema(Schema):
    done = fields.Integer(required=True)
    shorter = fields.Integer(required=True)
    longer = fields.Integer(required=True)
    missed = fields.Integer(required=True)


class PlanSchema(Schema):
    items = fields.List(fields.Nested(PlannedRunSchema), required=True)
    days = fields.List(fields.Nested(DayMatchSchema), required=True, metadata={
        "description": "Each planned day listed up to today, against what you ran."})
    counts = fields.Nested(CountsSchema, required=True, metadata={
        "description": "How many of those days were done, shorter, longer or missed."})
    goal = fields.Nested(GoalSchema, allow_none=True, required=True)
    preflight = fields.Nested(PreflightSchema, required=True)


class ProposedRunSchema(Schema):
    id = fields.UUID(required=True)
    date = fields.Date(required=True)
    distance_m = fields.Integer(required=True)
    kind = fields.String(allow_none=True, required=True, metadata={"enum": [*KINDS, None]})
    notes = fields.String(allow_none=True, required=True)


class ChangeSchema(Schema):
    planned_run_id = fields.UUID(required=True)
    date = fields.Date(required=True)
    planned_m = fields.Integer(required=True)
    proposed_m = fields.Integer(required=True, metadata={"description": "0: left out."})
    change = fields.String(required=True, metadata={
        "enum": [plans.RAISED, plans.SHORTENED, plans.LEFT_OUT]})
    because = fields.String(required=True, metadata={
        "enum": ["build_up", "run_spike", "weekly_jump"],
        "description": "build_up: raised so the long runs climb to the goal in steps of 10 %; "
                       "run_spike, weekly_jump: the rule that limited it."})


class SaferSchema(Schema):
    goal = fields.Nested(GoalSchema, allow_none=True, required=True)
    reached = fields.Boolean(required=True, metadata={
        "description": "The proposal reaches the goal on its day with no run above `ok` and "
                       "no 7 days over the weekly threshold."})
    already_safe = fields.Boolean(required=True, metadata={
        "description": "Nothing was flagged: the proposal is your plan."})
    reachable_m = fields.Integer(allow_none=True, required=True, metadata={
        "description": "The longest run the rules allow on the goal's day on this plan's days "
                       "(the goal's distance when reached)."})
    summary = fields.String(required=True)
    items = fields.List(fields.Nested(ProposedRunSchema), required=True, metadata={
        "description": "The plan from today as proposed, with your ids: send them to "
                       "`POST /v1/plan/batch` with `replace: true` to take it."})
    changes = fields.List(fields.Nested(ChangeSchema), required=True)


class NextPlannedRunSchema(Schema):
    id = fields.UUID(required=True)
    date = fields.Date(required=True, attribute="day")
    distance_m = fields.Integer(required=True)
    kind = fields.String(allow_none=True, required=True, metadata={"enum": [*KINDS, None]})


class LoadPlanSchema(Schema):
    """Done against planned in the load report: the 14 days to `as_of`, and what comes next."""

    days = fields.List(fields.Nested(DayMatchSchema), required=True, metadata={
        "description": "Each planned day of the 14 to `as_of`, against what was run."})
    counts = fields.Nested(CountsSchema, required=True)
    next_run = fields.Nested(NextPlannedRunSchema, allow_none=True, required=True, metadata={
        "description": "The first planned run after `as_of`."})
