from marshmallow import Schema, fields, validate

from service.api.fields import Day, Instant, UTCInstant
from service.api.plan.schemas import CountsSchema
from service.domain.pain import rules as triage


class InviteSchema(Schema):
    code = fields.String(required=True, metadata={
        "description": "Give it to the athlete; it works once, for 7 days.",
        "example": "7KQ2M-XW9PD"})
    expires_at = UTCInstant(required=True)


class ShoeAttentionSchema(Schema):
    shoe_id = fields.UUID(required=True)
    name = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["plan", "replace"]})


class RosterEntrySchema(Schema):
    athlete_id = fields.UUID(required=True)
    display_name = fields.String(allow_none=True, required=True)
    email = fields.String(required=True)
    scopes = fields.List(fields.String(), required=True, metadata={
        "description": "What this athlete lets you see; fields outside it are null."})
    linked_at = UTCInstant(required=True)
    last_run_at = UTCInstant(allow_none=True, required=True,
                                       metadata={"description": "With `runs` or `load`."})
    last_7_days_m = fields.Integer(allow_none=True, required=True,
                                   metadata={"description": "With `load`."})
    previous_7_days_m = fields.Integer(allow_none=True, required=True,
                                       metadata={"description": "With `load`."})
    latest_spike = fields.String(allow_none=True, required=True, metadata={
        "enum": ["ok", "small", "moderate", "large", None],
        "description": "With `load`: the latest run of the last 14 days against the longest of "
                       "the 30 days before it."})
    shoes_needing_attention = fields.List(fields.Nested(ShoeAttentionSchema), allow_none=True,
                                          required=True, metadata={"description": "With `shoes`."})
    triage_tier = fields.String(allow_none=True, required=True, metadata={
        "enum": [*triage.TIERS, None], "description": "With `pain`: the open triage tier."})
    unread_warnings = fields.Integer(allow_none=True, required=True,
                                     metadata={"description": "With `notifications`."})
    plan_last_14_days = fields.Nested(CountsSchema, allow_none=True, required=True, metadata={
        "description": "With `plan`: how the planned days of the last 14 were done (within "
                       "20 % of the plan is done)."})
    risk = fields.Integer(required=True, metadata={
        "description": "For sorting only: higher needs attention sooner."})
    attention = fields.List(fields.String(), required=True, metadata={
        "description": "Why: pain_<tier>, run_spike_<class>, weekly_jump, shoe_plan, "
                       "shoe_replace, unread_warnings."})


class RosterArgsSchema(Schema):
    sort = fields.String(load_default="risk", validate=validate.OneOf(["risk", "name"]))


class RosterSchema(Schema):
    items = fields.List(fields.Nested(RosterEntrySchema), required=True)


class CoachCheckinQuerySchema(Schema):
    kind = fields.String(validate=validate.OneOf(["run", "pain", "exercise"]))
    start = Instant(data_key="from")
    end = Instant(data_key="to")
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


class CoachLoadArgsSchema(Schema):
    as_of = Day(metadata={"description": "A day in the athlete's zone; their today if left out."})
