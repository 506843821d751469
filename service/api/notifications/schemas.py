from marshmallow import Schema, fields, validate

from service.api.fields import UTCInstant


class NotificationSchema(Schema):
    id = fields.UUID(required=True)
    kind = fields.String(required=True, metadata={"example": "run_spike"})
    title = fields.String(required=True)
    body = fields.String(required=True)
    data = fields.Dict(required=True, metadata={
        "description": "The rule, its numbers, threshold and source."})
    created_at = UTCInstant(required=True)
    deliver_after = UTCInstant(required=True)
    read_at = UTCInstant(allow_none=True, required=True)


class InboxArgsSchema(Schema):
    unread = fields.Boolean(metadata={"description": "true: only unread; false: only read."})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))
