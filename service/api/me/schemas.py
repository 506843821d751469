from marshmallow import Schema, fields, validate

from service.api.fields import ClockTime, UTCInstant, validate_birth_year, validate_timezone
from service.domain.accounts import rules as profile
from service.domain.accounts import scopes


class QuietHoursSchema(Schema):
    start = ClockTime(required=True, metadata={"description": "Local time quiet hours begin."})
    end = ClockTime(required=True, metadata={"description": "Local time they end (may wrap)."})


class ProfileSchema(Schema):
    id = fields.UUID(dump_only=True, required=True)
    email = fields.String(dump_only=True, required=True)
    display_name = fields.String(allow_none=True, required=True)
    timezone = fields.String(required=True, metadata={
        "description": "IANA time zone; days and weeks are local."})
    units = fields.String(required=True, metadata={"enum": list(profile.UNITS)})
    birth_year = fields.Integer(allow_none=True, required=True)
    quiet_hours = fields.Nested(QuietHoursSchema, required=True)
    created_at = UTCInstant(dump_only=True, required=True)
    updated_at = UTCInstant(dump_only=True, required=True)


class ProfilePatchSchema(Schema):
    display_name = fields.String(allow_none=True, validate=validate.Length(1, 80))
    timezone = fields.String(validate=validate_timezone, metadata={"example": "Europe/London"})
    units = fields.String(validate=validate.OneOf(profile.UNITS))
    birth_year = fields.Integer(allow_none=True, validate=validate_birth_year)
    quiet_hours = fields.Nested(QuietHoursSchema)


class PersonalTokenCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 80),
                         metadata={"example": "coach roster script"})
    scopes = fields.List(fields.String(validate=validate.OneOf(scopes.PERSONAL_TOKEN_SCOPES)),
                         required=True, validate=validate.Length(1, len(scopes.DESCRIPTIONS)))
    expires_in_days = fields.Integer(load_default=90, validate=validate.Range(1, 366))


class PersonalTokenSchema(Schema):
    id = fields.UUID(dump_only=True, required=True)
    name = fields.String(required=True)
    scopes = fields.List(fields.String(), required=True)
    token_hint = fields.String(required=True, metadata={
        "description": "The token's last four characters."})
    created_at = UTCInstant(required=True)
    expires_at = UTCInstant(required=True)
    last_used_at = UTCInstant(allow_none=True, required=True)


class PersonalTokenCreatedSchema(PersonalTokenSchema):
    token = fields.String(required=True,
                          metadata={"description": "The secret, shown this once only."})


class ErasureSchema(Schema):
    password = fields.String(required=True, validate=validate.Length(1, 1024),
                             metadata={"description": "Your password, to confirm it is you."})


class ExportArgsSchema(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")),
                           metadata={"description": "`json`: one document; `csv`: a zip of "
                                                    "one CSV file per section."})


class ExportSchema(Schema):
    """Everything Backstride holds about you (the JSON format)."""

    format = fields.String(required=True, metadata={"example": "backstride-export"})
    version = fields.Integer(required=True)
    exported_at = UTCInstant(required=True)
    athlete_id = fields.UUID(required=True)
    not_exported = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                               metadata={"description": "Tables left out, and why (secrets, "
                                                        "short-lived copies)."})
    sections = fields.Dict(
        keys=fields.String(), values=fields.List(fields.Dict()), required=True,
        metadata={"description": "Rows by section: profile, shoes, checkins, notifications, "
                                 "push_deliveries, devices, coach_links, coach_invites, "
                                 "access_log, sign_ins, personal_tokens, imports, "
                                 "imported_files, nightly_state, nightly_log, sync_counters."})
