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
    coach_id = fields.UUID(allow_none=True, required=True, metadata={
        "description": "The coach who read; null for an app's read, or a deleted account."})
    coach_name = fields.String(allow_none=True, required=True, metadata={
        "description": "Display name or email; null if that account was deleted."})
    app_id = fields.UUID(allow_none=True, required=True, metadata={
        "description": "The app you authorised that read (GET /v1/me/apps); null for a coach."})
    app_name = fields.String(allow_none=True, required=True, metadata={
        "description": "The app's name; null for a coach, or an app deleted with its owner."})
    resource = fields.String(required=True, metadata={
        "description": "What was read: a coach reads the roster and what you granted; an app "
                       "any of your resources its scopes reach.",
        "enum": ["roster", "checkins", "load", "shoes", "notifications", "profile",
                 "insights", "routines", "imports", "coaches", "access-log", "coaching"]})
    at = UTCInstant(required=True)
