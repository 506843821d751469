from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service.api.fields import Instant
from service.api.problems import ProblemSchema
from service.clock import utcnow
from service.domain import checkins as rules


class CheckinInputSchema(Schema):
    """A check-in as the phone sends it: `kind` decides which other fields apply."""

    id = fields.UUID(metadata={"description": "Made by the phone. In a PUT body it must match "
                               "the path, and may be left out."})
    kind = fields.String(required=True, validate=validate.OneOf(rules.KINDS))
    notes = fields.String(allow_none=True, validate=validate.Length(max=2000))
    started_at = Instant(metadata={"description": "run: start, with an offset."})
    recorded_at = Instant(metadata={"description": "pain, exercise: when."})
    duration_s = fields.Integer(allow_none=True,
                                validate=validate.Range(1, rules.MAX_DURATION_S))
    distance_m = fields.Integer(validate=validate.Range(1, rules.MAX_DISTANCE_M))
    surface = fields.String(allow_none=True, validate=validate.OneOf(rules.SURFACES))
    shoe_id = fields.UUID(allow_none=True,
                          metadata={"description": "run: the pair; your default pair if left out."})
    effort = fields.Integer(allow_none=True, validate=validate.Range(1, 10),
                            metadata={"description": "run: rate of perceived exertion, 1 to 10."})
    location = fields.String(validate=validate.OneOf(rules.PAIN_LOCATIONS))
    side = fields.String(allow_none=True, validate=validate.OneOf(rules.SIDES))
    severity = fields.Integer(validate=validate.Range(0, 10))
    timing = fields.String(allow_none=True, validate=validate.OneOf(rules.PAIN_TIMINGS))
    radiates = fields.String(allow_none=True, validate=validate.OneOf(rules.RADIATES))
    morning_stiffness_min = fields.Integer(allow_none=True, validate=validate.Range(0, 1440))
    focus = fields.String(validate=validate.OneOf(rules.FOCUSES))
    routine_ids = fields.List(fields.String(validate=validate.Length(1, 64)), allow_none=True,
                              validate=validate.Length(max=20))

    @validates_schema
    def _whole(self, data, **_kwargs):
        if "kind" in data:
            errors = rules.problems(data, utcnow())
            if errors:
                raise ValidationError(errors)


class CheckinBatchItemSchema(CheckinInputSchema):
    id = fields.UUID(required=True, metadata={"description": "Made by the phone."})


class CheckinSchema(Schema):
    id = fields.UUID(required=True)
    kind = fields.String(required=True, metadata={"enum": list(rules.KINDS)})
    started_at = fields.AwareDateTime(allow_none=True, required=True)
    recorded_at = fields.AwareDateTime(allow_none=True, required=True)
    local_date = fields.Date(required=True,
                             metadata={"description": "The day it belongs to, in your zone."})
    notes = fields.String(allow_none=True, required=True)
    duration_s = fields.Integer(allow_none=True, required=True)
    distance_m = fields.Integer(allow_none=True, required=True)
    surface = fields.String(allow_none=True, required=True)
    shoe_id = fields.UUID(allow_none=True, required=True)
    effort = fields.Integer(allow_none=True, required=True)
    location = fields.String(allow_none=True, required=True)
    side = fields.String(allow_none=True, required=True)
    severity = fields.Integer(allow_none=True, required=True)
    timing = fields.String(allow_none=True, required=True)
    radiates = fields.String(allow_none=True, required=True)
    morning_stiffness_min = fields.Integer(allow_none=True, required=True)
    focus = fields.String(allow_none=True, required=True)
    routine_ids = fields.List(fields.String(), allow_none=True, required=True)
    version = fields.Integer(required=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)
    deleted = fields.Boolean(required=True,
                             metadata={"description": "A tombstone in the `since` feed."})
    deleted_at = fields.AwareDateTime(allow_none=True, required=True)


class UnvalidatedList(fields.List):
    """Documented as a list of its items, but loaded raw so each item is validated on its own."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise ValidationError("Not a valid list.")
        return value


class BatchSchema(Schema):
    items = UnvalidatedList(fields.Nested(CheckinBatchItemSchema), required=True,
                            validate=validate.Length(1, rules.MAX_BATCH),
                            metadata={"description": f"1 to {rules.MAX_BATCH} check-ins."})


class BatchResultSchema(Schema):
    index = fields.Integer(required=True, metadata={"description": "Position in the request."})
    id = fields.UUID(allow_none=True, required=True)
    result = fields.String(required=True, metadata={
        "enum": ["created", "updated", "unchanged", "error"]})
    version = fields.Integer(allow_none=True, required=True)
    problem = fields.Nested(ProblemSchema, allow_none=True, required=True)


class BatchResponseSchema(Schema):
    results = fields.List(fields.Nested(BatchResultSchema), required=True)


class CheckinQuerySchema(Schema):
    kind = fields.String(validate=validate.OneOf(rules.KINDS))
    start = Instant(data_key="from",
                    metadata={"description": "Only those at or after this time."})
    end = Instant(data_key="to", metadata={"description": "Only those before it."})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200),
                           metadata={"description": "`next_cursor` of the previous page."})
    since = fields.String(validate=validate.Regexp(r"^\d{1,18}$"), metadata={
        "description": "Sync: every change after this cursor, deletions included, oldest "
                       "first. Start with 0, then pass `next_cursor` back."})


class CheckinPageSchema(Schema):
    items = fields.List(fields.Nested(CheckinSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True, metadata={
        "description": "History: the next page's cursor, null on the last. Sync: the cursor "
                       "to send as `since` next time (never null)."})
    has_more = fields.Boolean(required=True,
                              metadata={"description": "More is waiting right now."})
