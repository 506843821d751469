from marshmallow import Schema, fields

from service.api.fields import Day, UTCInstant
from service.api.plan.schemas import LoadPlanSchema


class LoadArgsSchema(Schema):
    as_of = Day(metadata={"description": "A local day; today if left out."})


class WeekSchema(Schema):
    week_start = fields.Date(required=True, metadata={"description": "Monday, local."})
    distance_m = fields.Integer(required=True)


class LatestRunSchema(Schema):
    run_id = fields.UUID(required=True)
    started_at = UTCInstant(required=True)
    distance_m = fields.Integer(required=True)
    baseline_m = fields.Integer(allow_none=True, required=True, metadata={
        "description": "Longest run of the 30 days before it (half the longest of 90 if none)."})
    spike = fields.String(allow_none=True, required=True, metadata={
        "enum": ["ok", "small", "moderate", "large", None],
        "description": "ok: up to 10 % longer; small: to 30 %; moderate: to 100 %; large: more."})
    percent_longer = fields.Integer(allow_none=True, required=True)


class WeeklyChangeSchema(Schema):
    last_7_days_m = fields.Integer(required=True)
    previous_7_days_m = fields.Integer(required=True)
    change = fields.Float(allow_none=True, required=True,
                          metadata={"description": "last / previous - 1; null when previous is 0."})
    caution = fields.Boolean(required=True)
    reason = fields.String(required=True)


class AcwrSchema(Schema):
    state = fields.String(required=True, metadata={
        "enum": ["warming_up", "rebuilding", "ok"],
        "description": "Informational only: never alerted on."})
    coupled = fields.Float(allow_none=True, required=True)
    uncoupled = fields.Float(allow_none=True, required=True)
    ewma = fields.Float(allow_none=True, required=True)


class ReturnModeSchema(Schema):
    active = fields.Boolean(required=True)
    since = fields.Date(allow_none=True, required=True)
    until = fields.Date(allow_none=True, required=True)


class AdvicePausedSchema(Schema):
    tier = fields.String(required=True, metadata={
        "enum": ["emergency", "urgent", "review", "inflammatory_screen"]})
    triggers = fields.List(fields.String(), required=True)
    checkin_id = fields.UUID(required=True, metadata={"description": "The pain check-in."})
    recorded_at = UTCInstant(required=True)
    reason = fields.String(required=True)


class LoadSchema(Schema):
    as_of = fields.Date(required=True)
    units = fields.String(required=True)
    weeks = fields.List(fields.Nested(WeekSchema), required=True)
    latest_run = fields.Nested(LatestRunSchema, allow_none=True, required=True)
    weekly_change = fields.Nested(WeeklyChangeSchema, required=True)
    longest_advisable_run_m = fields.Integer(allow_none=True, required=True, metadata={
        "description": "10 % over the longest run of the last 30 days; null while "
                       "`advice_paused`, and always for a coach not granted `pain` (whether it "
                       "is null would tell them of a triage tier)."})
    acwr = fields.Nested(AcwrSchema, required=True)
    return_mode = fields.Nested(ReturnModeSchema, required=True)
    advice_paused = fields.Nested(AdvicePausedSchema, allow_none=True, required=True, metadata={
        "description": "Set while your latest pain check-in has a triage tier: advice to run "
                       "more stops until a newer check-in clears it."})
    plan = fields.Nested(LoadPlanSchema, allow_none=True, required=True, metadata={
        "description": "Done against planned (`/v1/plan`); null for a coach not granted `plan`."})
