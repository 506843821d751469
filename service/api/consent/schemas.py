from marshmallow import Schema, fields, validate

from service.api.fields import UTCInstant
from service.domain.accounts import scopes

GRANTS = fields.List(
    fields.String(validate=validate.OneOf(list(scopes.COACH_GRANTS))), required=True,
    validate=validate.Length(max=len(scopes.COACH_GRANTS)),
    metadata={"description": "What the coach may see: " + "; ".join(
        f"`{name}`: {text}" for name, text in scopes.COACH_GRANTS.items())})


class AcceptInviteSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(5, 20),
                         metadata={"description": "The code your coach gave you.",
                                   "example": "7KQ2M-XW9PD"})
    scopes = GRANTS


class GrantsSchema(Schema):
    scopes = GRANTS


class CoachSchema(Schema):
    coach_id = fields.UUID(required=True)
    display_name = fields.String(allow_none=True, required=True)
    email = fields.String(required=True)
    scopes = fields.List(fields.String(), required=True)
    linked_at = UTCInstant(required=True)
    updated_at = UTCInstant(required=True)


class CoachListSchema(Schema):
    items = fields.List(fields.Nested(CoachSchema), required=True)


class AccessLogEntrySchema(Schema):
    id = fields.UUID(required=True)
    coach_id = fields.UUID(allow_none=True, required=True)
    coach_name = fields.String(allow_none=True, required=True, metadata={
        "description": "Display name or email; null if that account was deleted."})
    resource = fields.String(required=True, metadata={
        "enum": ["roster", "checkins", "load", "shoes", "notifications", "plan"]})
    action = fields.String(required=True, metadata={
        "enum": ["read", "write"],
        "description": "read, or write: a coach you granted `plan` wrote or deleted planned "
                       "runs."})
    at = UTCInstant(required=True)
