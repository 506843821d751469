from marshmallow import Schema, fields, validate

from service.api.fields import Day, Instant, UTCInstant, WholeNumber
from service.domain.shoes import rules as shoes
from service.models.shoe import DEFAULT_MAX_AGE_DAYS, DEFAULT_MAX_DISTANCE_M

_NAME = validate.Length(1, 80)


class ShoeChangeSchema(Schema):
    """What the athlete may set on a pair; every field optional when changing one."""

    name = fields.String(validate=_NAME, metadata={"example": "Blue daily trainers"})
    brand = fields.String(allow_none=True, validate=_NAME)
    model = fields.String(allow_none=True, validate=_NAME)
    first_used_on = Day(metadata={"description": "Local date of the first run in them."})
    initial_distance_m = WholeNumber(
        validate=validate.Range(0, shoes.MAX_INITIAL_DISTANCE_M),
        metadata={"description": "Distance already on them when added (pre-owned pairs)."})
    max_distance_m = WholeNumber(
        validate=validate.Range(*shoes.MAX_DISTANCE_RANGE_M),
        metadata={"description": f"Wear limit; {DEFAULT_MAX_DISTANCE_M} m unless set."})
    max_age_days = WholeNumber(
        validate=validate.Range(*shoes.MAX_AGE_RANGE_DAYS),
        metadata={"description": f"Age limit; {DEFAULT_MAX_AGE_DAYS} days unless set."})
    is_default = fields.Boolean(metadata={"description": "New runs without a shoe go on it."})


class ShoeCreateSchema(ShoeChangeSchema):
    name = fields.String(required=True, validate=_NAME, metadata={"example": "Blue trainers"})


class RetireSchema(Schema):
    retired_at = Instant(metadata={"description": "When they were retired; now if left out."})


class ShoeSchema(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    brand = fields.String(allow_none=True, required=True)
    model = fields.String(allow_none=True, required=True)
    first_used_on = fields.Date(required=True)
    initial_distance_m = fields.Integer(required=True)
    max_distance_m = fields.Integer(required=True)
    max_age_days = fields.Integer(required=True)
    is_default = fields.Boolean(required=True)
    retired_at = UTCInstant(allow_none=True, required=True)
    created_at = UTCInstant(required=True)
    updated_at = UTCInstant(required=True)
    distance_m = fields.Integer(required=True,
                                metadata={"description": "Initial distance plus every run."})
    age_days = fields.Integer(required=True,
                              metadata={"description": "Days since first use, local calendar."})
    wear_ratio = fields.Float(required=True,
                              metadata={"description": "distance_m / max_distance_m."})
    rate_m_per_day = fields.Float(required=True, metadata={
        "description": "Recent use: this pair's last 28 days, or for a pair under 14 days old, "
                       "your daily distance times its share."})
    replace_by = fields.Date(required=True, metadata={
        "description": "The earlier of the distance forecast and the age limit."})
    status = fields.String(required=True, metadata={"enum": list(shoes.STATUSES)})
    inspected_on = fields.Date(allow_none=True, required=True)


class ShoeListArgsSchema(Schema):
    include_retired = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))
