"""Push targets: the phones and browsers that get your notifications."""

from __future__ import annotations

import uuid

from flask.views import MethodView

from service.api.context import commit, db, state
from service.api.extension import Blueprint
from service.api.security import current_account, current_principal
from service.domain.accounts import scopes
from service.domain.notify import devices

from .schemas import DeviceListSchema, DeviceRegistrationSchema, DeviceSchema

blp = Blueprint("devices", __name__, url_prefix="/v1/devices",
                description="Where your notifications are pushed.")


@blp.route("")
class Devices(MethodView):
    @blp.operation("listDevices")
    @blp.read_only()
    @blp.auth_required(scopes.SESSION_ONLY)
    @blp.response(200, DeviceListSchema)
    def get(self):
        """List your push targets

        The phones and browsers your notifications go to, and any that stopped and why.
        """
        return {"items": db().scalars(devices.listing(current_account())).all()}

    @blp.operation("registerDevice")
    @blp.auth_required(scopes.SESSION_ONLY)
    @blp.arguments(DeviceRegistrationSchema)
    @blp.response(200, DeviceSchema, description="Already yours: updated.")
    @blp.alt_response(201, schema=DeviceSchema, description="Registered.")
    @blp.alt_response(409, response="CONFLICT")  # the quota of devices
    def post(self, body):
        """Register a push target

        A token or subscription belongs to whoever registered it last, and stops getting
        pushes when that sign-in signs out.
        """
        subscription = body.get("subscription")
        device, created = devices.register(
            db(), current_account(), current_principal().session_id, kind=body["kind"],
            address=subscription["endpoint"] if subscription else body["token"],
            p256dh=subscription["keys"]["p256dh"] if subscription else None,
            auth=subscription["keys"]["auth"] if subscription else None,
            label=body.get("label"), allowed_hosts=state().settings.webpush_hosts,
            max_devices=state().settings.quota_push_devices,
        )
        commit()
        return device, 201 if created else 200


@blp.route("/<uuid:device_id>")
class DeviceById(MethodView):
    @blp.operation("removeDevice")
    @blp.auth_required(scopes.SESSION_ONLY)
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, device_id: uuid.UUID):
        """Stop pushing to a target

        That phone or browser gets no more notifications from Backstride.
        """
        devices.remove(db(), current_account(), device_id)
        commit()
