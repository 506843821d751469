from marshmallow import Schema, fields, validate

from service.api.fields import UTCInstant
from service.domain.webhooks import endpoints, events
from service.models.webhooks import CANCELLED, DELIVERED, FAILED, PENDING, SENDING

EVENT_TYPES = {"enum": list(events.ALL_TYPES)}
DELIVERY_STATUSES = [PENDING, SENDING, DELIVERED, FAILED, CANCELLED]


class EndpointCreateSchema(Schema):
    url = fields.String(required=True, validate=validate.Length(1, endpoints.MAX_URL_LENGTH),
                        metadata={"description": "An https URL on a public address.",
                                  "example": "https://hooks.example.org/backstride"})
    event_types = fields.List(fields.String(validate=validate.OneOf(events.ALL_TYPES),
                                            metadata=EVENT_TYPES),
                              required=True, validate=validate.Length(1, len(events.ALL_TYPES)),
                              metadata={"description": "The events to send (the spec's "
                                                       "`webhooks` describes each)."})
    description = fields.String(allow_none=True, validate=validate.Length(max=200))
    app_id = fields.UUID(allow_none=True, load_default=None, metadata={
        "description": "One of your apps (`/v1/developer/apps`): the endpoint then gets the "
                       "events of every athlete who authorised it, each only while the scopes "
                       "they granted cover it (pain events need `pain:read` too). Without it, "
                       "your own events."})


class EndpointChangeSchema(Schema):
    url = fields.String(validate=validate.Length(1, endpoints.MAX_URL_LENGTH))
    event_types = fields.List(fields.String(validate=validate.OneOf(events.ALL_TYPES),
                                            metadata=EVENT_TYPES),
                              validate=validate.Length(1, len(events.ALL_TYPES)))
    description = fields.String(allow_none=True, validate=validate.Length(max=200))
    enabled = fields.Boolean(metadata={
        "description": "false turns it off; true turns a disabled endpoint back on (replay "
                       "what it missed)."})


class EndpointSchema(Schema):
    id = fields.UUID(required=True)
    url = fields.String(required=True)
    description = fields.String(allow_none=True, required=True)
    event_types = fields.List(fields.String(metadata=EVENT_TYPES), required=True)
    app_id = fields.UUID(allow_none=True, required=True, metadata={
        "description": "The app whose athletes' events it gets; null for your own."})
    created_at = UTCInstant(required=True)
    disabled_at = UTCInstant(allow_none=True, required=True)
    disabled_reason = fields.String(allow_none=True, required=True, metadata={
        "enum": [endpoints.GONE_REASON, endpoints.FAILING_REASON, endpoints.OWNER_REASON, None],
        "description": "gone: it answered 410; failing: five days of failures; owner: you."})
    failing_since = UTCInstant(allow_none=True, required=True, metadata={
        "description": "Since when every attempt has failed; null while it works."})
    previous_secret_expires_at = UTCInstant(allow_none=True, required=True, metadata={
        "description": "After a rotation: until when the old secret signs too."})


class EndpointListSchema(Schema):
    items = fields.List(fields.Nested(EndpointSchema), required=True)


class EndpointWithSecretSchema(EndpointSchema):
    secret = fields.String(required=True, metadata={
        "description": "The signing secret (`whsec_...`). Shown this once: store it now.",
        "example": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})


class DeliverySchema(Schema):
    id = fields.UUID(required=True)
    event_id = fields.String(required=True, metadata={"description": "The webhook-id."})
    event_type = fields.String(required=True, metadata=EVENT_TYPES)
    status = fields.String(required=True, metadata={"enum": DELIVERY_STATUSES})
    attempts = fields.Integer(required=True)
    last_status_code = fields.Integer(allow_none=True, required=True, metadata={
        "description": "What the endpoint answered last; null if it could not be reached."})
    last_error = fields.String(allow_none=True, required=True)
    last_attempt_at = UTCInstant(allow_none=True, required=True)
    next_attempt_at = UTCInstant(allow_none=True, required=True, metadata={
        "description": "When it is tried next (pending only)."})
    delivered_at = UTCInstant(allow_none=True, required=True)
    created_at = UTCInstant(required=True)


class AttemptSchema(Schema):
    id = fields.UUID(required=True)
    event_id = fields.String(required=True)
    attempt = fields.Integer(required=True, metadata={"description": "1 for the first try."})
    at = UTCInstant(required=True)
    status = fields.String(required=True, metadata={"enum": ["delivered", "failed", "gone"]})
    status_code = fields.Integer(allow_none=True, required=True)
    error = fields.String(allow_none=True, required=True)
    duration_ms = fields.Integer(required=True)


class ReplaySchema(Schema):
    since = UTCInstant(required=True)
    until = UTCInstant(required=True)
    everything = fields.Boolean(load_default=False, metadata={
        "description": "Also what was delivered already (default: only what failed or was "
                       "cancelled)."})


class ReplayedSchema(Schema):
    replayed = fields.Integer(required=True, metadata={"description": "Deliveries sent again."})


class RedeliveredSchema(Schema):
    delivery = fields.Nested(DeliverySchema, required=True)
