from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service.api.fields import UTCInstant
from service.models.device import KINDS


class WebPushKeysSchema(Schema):
    p256dh = fields.String(required=True, validate=validate.Length(40, 200))
    auth = fields.String(required=True, validate=validate.Length(16, 100))


class WebPushSubscriptionSchema(Schema):
    """As the browser's PushSubscription.toJSON() gives it."""

    endpoint = fields.String(required=True, validate=validate.Length(10, 2000))
    expirationTime = fields.Float(allow_none=True, load_default=None, metadata={
        "description": "When the subscription expires, in milliseconds since 1970 (a "
                       "DOMHighResTimeStamp), or null: as the browser gives it."})
    keys = fields.Nested(WebPushKeysSchema, required=True)


class DeviceRegistrationSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    token = fields.String(validate=validate.Length(1, 4096),
                          metadata={"description": "FCM registration, APNs device or Expo token."})
    subscription = fields.Nested(WebPushSubscriptionSchema,
                                 metadata={"description": "Web Push only."})
    label = fields.String(allow_none=True, validate=validate.Length(1, 80),
                          metadata={"example": "Sam's phone"})

    @validates_schema
    def _one_address(self, data, **_kwargs):
        if data.get("kind") == "webpush":
            if "subscription" not in data:
                raise ValidationError("Required for Web Push.", "subscription")
            if "token" in data:
                raise ValidationError("Web Push uses a subscription, not a token.", "token")
        elif "kind" in data:
            if "token" not in data:
                raise ValidationError(f"Required for {data['kind']}.", "token")
            if "subscription" in data:
                raise ValidationError("Only Web Push uses a subscription.", "subscription")


class DeviceSchema(Schema):
    id = fields.UUID(required=True)
    kind = fields.String(required=True, metadata={"enum": list(KINDS)})
    hint = fields.String(required=True,
                         metadata={"description": "The push service, or a token's last digits."})
    label = fields.String(allow_none=True, required=True)
    created_at = UTCInstant(required=True)
    disabled_at = UTCInstant(allow_none=True, required=True)
    disabled_reason = fields.String(allow_none=True, required=True)


class DeviceListSchema(Schema):
    items = fields.List(fields.Nested(DeviceSchema), required=True)
