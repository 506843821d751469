import uuid
from datetime import date, time
from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import Column
from sqlalchemy import types as sa_types

from service.api.fields import (
    ClockTime,
    UTCInstant,
    WholeNumber,
    validate_birth_year,
    validate_timezone,
)
from service.domain.accounts import rules as profile
from service.domain.accounts import scopes
from service.domain.data import export
from service.models.base import UTCDateTime


class QuietHoursSchema(Schema):
    """Messages written in quiet hours wait for their end; equal start and end mean none."""

    start = ClockTime(required=True, metadata={"description": "Local time quiet hours begin.",
                                               "example": "21:30"})
    end = ClockTime(required=True, metadata={
        "description": "Local time they end (may wrap past midnight); equal to start, no quiet "
                       "hours.", "example": "07:00"})


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
    birth_year = WholeNumber(allow_none=True, validate=validate_birth_year)
    quiet_hours = fields.Nested(QuietHoursSchema)


class PersonalTokenCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 80),
                         metadata={"example": "coach roster script"})
    scopes = fields.List(fields.String(validate=validate.OneOf(scopes.PERSONAL_TOKEN_SCOPES)),
                         required=True, validate=validate.Length(1, len(scopes.DESCRIPTIONS)))
    expires_in_days = WholeNumber(load_default=90, validate=validate.Range(1, 366))


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


def _cell(column: Column[Any]) -> fields.Field:
    """The field a column's value is exported as (service.domain.data.export._plain)."""
    options: dict[str, Any] = {"required": True, "allow_none": bool(column.nullable)}
    if isinstance(column.type, UTCDateTime):
        return UTCInstant(**options)
    if isinstance(column.type, sa_types.JSON):
        return fields.Raw(**options, metadata={"description": "As stored (JSON)."})
    python_type = column.type.python_type
    field_of = {bool: fields.Boolean, int: fields.Integer, float: fields.Float, str: fields.String,
                uuid.UUID: fields.UUID, date: fields.Date, time: fields.Time}
    return field_of[python_type](**options)


def _row_schema(section: export.Section) -> type[Schema]:
    cells: dict[str, fields.Field] = {column.name: _cell(column)
                                      for column in section.table.columns
                                      if column.name not in section.omit}
    cells.update({name: fields.String(required=True) for name in section.extra_names})
    title = "".join(part.title() for part in section.name.split("_"))
    return Schema.from_dict(cells, name=f"Export{title}RowSchema")


ExportSectionsSchema = Schema.from_dict(
    {section.name: fields.List(fields.Nested(_row_schema(section)), required=True)
     for section in export.SECTIONS}, name="ExportSectionsSchema")


class ExportSchema(Schema):
    """Everything Backstride holds about you (the JSON format)."""

    format = fields.String(required=True, metadata={"example": "backstride-export"})
    version = fields.Integer(required=True)
    exported_at = UTCInstant(required=True)
    athlete_id = fields.UUID(required=True)
    not_exported = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                               metadata={"description": "Tables left out, and why (secrets, "
                                                        "short-lived copies)."})
    sections = fields.Nested(ExportSectionsSchema, required=True, metadata={
        "description": "Each table's rows about you, by section; a row holds the table's "
                       "columns (less secrets) as stored."})
