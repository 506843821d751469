from marshmallow import Schema, fields, validate

from service.api.fields import UTCInstant
from service.domain.accounts import apps, scopes


class AppCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 80), metadata={
        "description": "What athletes see on the consent page.", "example": "Trail Log"})
    redirect_uris = fields.List(
        fields.String(validate=validate.Length(1, 2000)), required=True,
        validate=validate.Length(1, apps.MAX_REDIRECT_URIS), metadata={
            "description": "Where the consent page may send the athlete back, matched exactly: "
                           "https URIs, a loopback `http://127.0.0.1/path` (any port is "
                           "accepted at request time, RFC 8252 section 7.3) or a private-use "
                           "scheme such as `com.example.app:/callback`.",
            "example": ["http://127.0.0.1/callback"]})
    confidential = fields.Boolean(load_default=False, metadata={
        "description": "True for a server that can keep a secret (it gets a client_secret); "
                       "false for a native or browser app (public). Both must use PKCE."})


class AppSchema(Schema):
    id = fields.UUID(required=True)
    client_id = fields.String(required=True)
    name = fields.String(required=True)
    redirect_uris = fields.List(fields.String(), required=True)
    confidential = fields.Boolean(required=True)
    secret_hint = fields.String(allow_none=True, required=True, metadata={
        "description": "The client secret's last four characters (confidential apps)."})
    created_at = UTCInstant(required=True)


class AppCreatedSchema(AppSchema):
    client_secret = fields.String(allow_none=True, required=True, metadata={
        "description": "The secret of a confidential app, shown this once only; null for a "
                       "public app."})


class AppListSchema(Schema):
    items = fields.List(fields.Nested(AppSchema), required=True)


class AuthorisedAppSchema(Schema):
    id = fields.UUID(required=True, metadata={"description": "The app's id."})
    name = fields.String(required=True)
    client_id = fields.String(required=True)
    scopes = fields.List(fields.String(validate=validate.OneOf(scopes.APP_SCOPES)),
                         required=True, metadata={"description": "What you let it do."})
    authorised_at = UTCInstant(required=True)
    last_used_at = UTCInstant(allow_none=True, required=True)


class AuthorisedAppListSchema(Schema):
    items = fields.List(fields.Nested(AuthorisedAppSchema), required=True)
