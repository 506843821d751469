"""Webhook endpoints: where Backstride sends your events, signed, and what became of each.

Only a signed-in session manages them (a token cannot): an endpoint gets data out and holds a
secret. docs/webhooks.md tells a receiver how to verify what it is sent.
"""

from __future__ import annotations

import uuid

from flask import url_for
from flask.views import MethodView
from sqlalchemy import select

from service.api.context import commit, db, now, state
from service.api.extension import Blueprint, location
from service.api.pagination import PageArgsSchema, page_schema, paginate
from service.api.security import current_account
from service.domain.accounts import scopes
from service.domain.calendar import local_date
from service.domain.shoes import records as shoe_records
from service.domain.webhooks import deliveries, endpoints, events
from service.domain.webhooks.secrets import Sealer
from service.models.webhooks import (
    PENDING,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

from .schemas import (
    AttemptSchema,
    DeliverySchema,
    EndpointChangeSchema,
    EndpointCreateSchema,
    EndpointListSchema,
    EndpointSchema,
    EndpointWithSecretSchema,
    RedeliveredSchema,
    ReplayedSchema,
    ReplaySchema,
)

blp = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks",
                description="Your events, sent to your endpoints as they happen.")


def _sealer() -> Sealer:
    return Sealer(state().settings.secret_key)


def _loopback() -> bool:
    return state().settings.webhook_allow_loopback


def _endpoint(endpoint_id: uuid.UUID):
    return endpoints.get_owned(db(), current_account(), endpoint_id)


def _with_secret(issued: endpoints.Issued) -> dict:
    """The endpoint and, this once, its secret."""
    columns = WebhookEndpoint.__table__.columns
    return {**{c.key: getattr(issued.endpoint, c.key) for c in columns}, "secret": issued.secret}


def _delivery(delivery: WebhookDelivery, event_type: str) -> dict:
    return {**{c.key: getattr(delivery, c.key) for c in WebhookDelivery.__table__.columns},
            "event_type": event_type,
            "next_attempt_at": delivery.next_attempt_at if delivery.status == PENDING else None}


@blp.route("")
class Endpoints(MethodView):
    @blp.operation("listWebhookEndpoints")
    @blp.read_only()
    @blp.auth_required(scopes.SESSION_ONLY)
    @blp.response(200, EndpointListSchema)
    def get(self):
        """List your webhook endpoints

        Each with the events it wants, and whether it was turned off and why.
        """
        statement = endpoints.owned(current_account()).order_by(WebhookEndpoint.created_at)
        return {"items": db().scalars(statement).all()}

    @blp.operation("createWebhookEndpoint")
    @blp.auth_required(scopes.SESSION_ONLY)
    @blp.arguments(EndpointCreateSchema)
    @blp.response(201, EndpointWithSecretSchema, headers=location("the new endpoint"))
    @blp.alt_response(404, response="NOT_FOUND", description="`app_id` names no app of yours.")
    def post(self, body):
        """Add a webhook endpoint

        From now on, each event you chose is POSTed to the URL, signed with the secret in this
        answer (shown only here). At most 10 endpoints.
        """
        account = current_account()
        issued = endpoints.create(db(), _sealer(), account, url=body["url"],
                                  event_types=body["event_types"],
                                  description=body.get("description"),
                                  app_id=body["app_id"], now=now(),
                                  allow_loopback=_loopback())
        if events.SHOE_STATUS_CHANGED in issued.endpoint.event_types:  # where changes count from
            shoe_records.track_statuses(db(), [account.id],
                                        local_date(now(), account.timezone), now())
        commit()
        return _with_secret(issued), 201, {"Location": url_for("webhooks.EndpointById",
                                                 endpoint_id=issued.endpoint.id)}


@blp.route("/<uuid:endpoint_id>")
class EndpointById(MethodView):
    @blp.operation("getWebhookEndpoint")
    @blp.read_only()
    @blp.auth_required(scopes.SESSION_ONLY)
    @blp.response(200, EndpointSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, endpoint_id: uuid.UUID):
        """Read a webhook endpoint

        Its URL, events, and whether it is failing or turned off.
        """
        return _endpoint(endpoint_id)

    @blp.operation("updateWebhookEndpoint")
    @blp.auth_required(scopes.SESSION_ONLY)
    @blp.arguments(EndpointChangeSchema)
    @blp.response(200, EndpointSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, changes, endpoint_id: uuid.UUID):
        """Change a webhook endpoint

        Its URL, events or description; `enabled` turns it off, or back on after it was
        turned off.
        """
        endpoint = endpoints.change(db(), _endpoint(endpoint_id), changes, now(),
                                    allow_loopback=_loopback())
        commit()
        return endpoint

    @blp.operation("deleteWebhookEndpoint")
    @blp.auth_required(scopes.SESSION_ONLY)
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, endpoint_id: uuid.UUID):
        """Remove a webhook endpoint

        Nothing more is sent to it, and its delivery log goes with it.
        """
        endpoints.remove(db(), _endpoint(endpoint_id))
        commit()


@blp.route("/<uuid:endpoint_id>/rotate-secret")
class SecretRotation(MethodView):
    @blp.operation("rotateWebhookSecret")
    @blp.auth_required(scopes.SESSION_ONLY)
    @blp.response(200, EndpointWithSecretSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, endpoint_id: uuid.UUID):
        """Rotate a webhook endpoint's secret

        A new secret, shown only here, signs every request from now on; for 24 hours the old
        one signs them too (two signatures), so your receiver can switch without missing any.
        """
        issued = endpoints.rotate(_endpoint(endpoint_id), _sealer(), now())
        commit()
        return _with_secret(issued)


@blp.route("/<uuid:endpoint_id>/deliveries")
class Deliveries(MethodView):
    @blp.operation("listWebhookDeliveries")
    @blp.read_only()
    @blp.auth_required(scopes.SESSION_ONLY)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_schema(DeliverySchema))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, endpoint_id: uuid.UUID):
        """List what was sent to a webhook endpoint

        Each event's delivery, newest first: its status, the last answer's code and time, how
        many attempts, and when the next one is due.
        """
        endpoint = _endpoint(endpoint_id)
        page = paginate(db(), select(WebhookDelivery).where(
            WebhookDelivery.endpoint_id == endpoint.id),
            order=(WebhookDelivery.created_at, WebhookDelivery.id), cursor=args["cursor"],
            limit=args["limit"])
        types = dict(db().execute(select(WebhookEvent.id, WebhookEvent.type).where(
            WebhookEvent.id.in_({d.event_id for d in page.items}))).all())
        return {"items": [_delivery(d, types[d.event_id]) for d in page.items],
                "next_cursor": page.next_cursor}


@blp.route("/<uuid:endpoint_id>/attempts")
class Attempts(MethodView):
    @blp.operation("listWebhookAttempts")
    @blp.read_only()
    @blp.auth_required(scopes.SESSION_ONLY)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_schema(AttemptSchema))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, endpoint_id: uuid.UUID):
        """List every request made to a webhook endpoint

        Newest first: which event, which attempt, when, the status code or why there was none,
        and how long it took.
        """
        endpoint = _endpoint(endpoint_id)
        return paginate(db(), deliveries.attempts(endpoint),
                        order=(WebhookAttempt.at, WebhookAttempt.id), cursor=args["cursor"],
                        limit=args["limit"])


@blp.route("/<uuid:endpoint_id>/deliveries/<string:event_id>/redeliver")
class Redelivery(MethodView):
    @blp.operation("redeliverWebhookEvent")
    @blp.auth_required(scopes.SESSION_ONLY)
    @blp.response(202, RedeliveredSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, endpoint_id: uuid.UUID, event_id: str):
        """Send one event to a webhook endpoint again

        At once, with a fresh schedule of retries and the same webhook-id.
        """
        endpoint = _endpoint(endpoint_id)
        delivery = deliveries.redeliver(db(), endpoint, event_id[:40], now())
        event_type = db().get(WebhookEvent, delivery.event_id).type
        commit()
        return {"delivery": _delivery(delivery, event_type)}


@blp.route("/<uuid:endpoint_id>/replay")
class Replay(MethodView):
    @blp.operation("replayWebhookEvents")
    @blp.auth_required(scopes.SESSION_ONLY)
    @blp.arguments(ReplaySchema)
    @blp.response(202, ReplayedSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, body, endpoint_id: uuid.UUID):
        """Send a period's events to a webhook endpoint again

        Every event of the period (at most 30 days, within the last 30) that did not get
        through, or with `everything` every one, each under its own webhook-id.
        """
        count = deliveries.replay(db(), _endpoint(endpoint_id), body["since"], body["until"],
                                  now(), everything=body["everything"])
        commit()
        return {"replayed": count}
