from marshmallow import Schema, fields, validate

from service.api.fields import validate_timezone
from service.domain.accounts import passwords
from service.domain.accounts import rules as profile


class RegisterSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, load_only=True,
                             validate=validate.Length(max=passwords.MAX_LENGTH),
                             metadata={"description": "At least 10 characters, not a common one."})
    display_name = fields.String(validate=validate.Length(1, 80))
    timezone = fields.String(validate=validate_timezone, metadata={"example": "Europe/London"})
    units = fields.String(validate=validate.OneOf(profile.UNITS))


class CredentialsSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(1, 254))
    password = fields.String(required=True, load_only=True,
                             validate=validate.Length(1, passwords.MAX_LENGTH))


class RefreshTokenSchema(Schema):
    refresh_token = fields.String(required=True, validate=validate.Length(1, 200))


class TokenPairSchema(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds."})
    refresh_token = fields.String(required=True,
                                  metadata={"description": "Single use: each refresh returns "
                                            "a new one, and reusing an old one signs out."})
    refresh_expires_in = fields.Integer(required=True, metadata={"description": "Seconds."})


class PasswordResetRequestSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(1, 254))


class PasswordResetSchema(Schema):
    token = fields.String(required=True, load_only=True, validate=validate.Length(1, 500),
                          metadata={"description": "From the link in the reset email."})
    new_password = fields.String(required=True, load_only=True,
                                 validate=validate.Length(max=passwords.MAX_LENGTH),
                                 metadata={"description": "At least 10 characters, not a "
                                                          "common one."})


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, load_only=True,
                                     validate=validate.Length(1, passwords.MAX_LENGTH))
    new_password = fields.String(required=True, load_only=True,
                                 validate=validate.Length(max=passwords.MAX_LENGTH),
                                 metadata={"description": "At least 10 characters, not a "
                                                          "common one."})
