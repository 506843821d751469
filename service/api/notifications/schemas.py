from marshmallow import Schema, fields, validate


class NotificationSchema(Schema):
    id = fields.UUID(required=True)
    kind = fields.String(required=True, metadata={"example": "run_spike"})
    title = fields.String(required=True)
    body = fields.String(required=True)
    data = fields.Dict(required=True, metadata={
        "description": "The rule, its numbers, threshold and source."})
    created_at = fields.AwareDateTime(required=True)
    deliver_after = fields.AwareDateTime(required=True)
    read_at = fields.AwareDateTime(allow_none=True, required=True)


class InboxArgsSchema(Schema):
    unread = fields.Boolean(metadata={"description": "true: only unread; false: only read."})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))
