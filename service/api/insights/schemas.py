from marshmallow import Schema, fields


class GroupSchema(Schema):
    label = fields.String(required=True)
    count = fields.Integer(required=True, metadata={"description": "Runs or days in the group."})
    with_pain = fields.Integer(required=True, metadata={
        "description": "How many of them had pain reported after them (or on them, for days)."})
    rate = fields.Float(allow_none=True, required=True, metadata={
        "description": "with_pain / count; null below the minimum group size."})


class ComparisonSchema(Schema):
    id = fields.String(required=True, metadata={
        "enum": ["surface", "shoe_wear", "run_spike", "stretching"]})
    question = fields.String(required=True)
    unit = fields.String(required=True, metadata={"enum": ["runs", "days"]})
    groups = fields.List(fields.Nested(GroupSchema), required=True)
    enough_data = fields.Boolean(required=True, metadata={
        "description": "At least two groups reach the minimum size."})
    summary = fields.String(required=True, metadata={
        "description": "In words; \"Not enough data yet\" below the minimum. Never a cause."})


class InsightsSchema(Schema):
    since = fields.Date(required=True)
    until = fields.Date(required=True)
    minimum_per_group = fields.Integer(required=True)
    comparisons = fields.List(fields.Nested(ComparisonSchema), required=True)
