"""The webhook events in the OpenAPI document, as OpenAPI 3.1's top-level `webhooks`.

Each event type is a `post` a receiver must accept: the three Standard Webhooks headers, the
event's JSON body (its `data` typed per event family), and what its answers mean to us. Built
from the one catalogue (`service.domain.webhooks.events`), so a new type is documented when it
is added.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from service.api.fields import UTCInstant
from service.domain.webhooks import events
from service.domain.webhooks.rules import MAX_ATTEMPTS

ID = {"athlete_id": fields.String(required=True, metadata={
    "description": "The athlete the event is about."})}
URL = fields.String(required=True, metadata={
    "format": "uri-reference",
    "description": "The resource, under the API's base URL: read it with your own token."})


def _data(name: str, **extra: fields.Field) -> type[Schema]:
    return Schema.from_dict({**ID, **extra, "url": URL}, name=name)


CheckinEventData = _data(
    "CheckinEventData", checkin_id=fields.String(required=True),
    kind=fields.String(required=True, metadata={"enum": ["run", "pain", "exercise"]}))
WarningEventData = _data(
    "WarningEventData",
    notification_id=fields.String(required=True, metadata={
        "description": "The notification in the inbox (its link lists the inbox)."}),
    kind=fields.String(required=True, metadata={
        "description": "The notification's kind: run_spike, weekly_jump, shoe_*, pain_* or "
                       "plan_preflight."}),
    run_id=fields.String(metadata={"description": "The run it is about, if any."}),
    shoe_id=fields.String(metadata={"description": "The pair it is about, if any."}),
    checkin_id=fields.String(metadata={"description": "The pain check-in, for a triage."}),
    planned_run_id=fields.String(metadata={
        "description": "The planned run, for a plan preflight."}))
ShoeStatusEventData = _data(
    "ShoeStatusEventData", shoe_id=fields.String(required=True),
    status=fields.String(required=True, metadata={
        "enum": ["ok", "inspect", "plan", "replace", "retired"]}),
    previous_status=fields.String(required=True, metadata={
        "enum": ["ok", "inspect", "plan", "replace", "retired"]}))
ImportEventData = _data(
    "ImportEventData", import_id=fields.String(required=True),
    status=fields.String(required=True, metadata={"enum": ["done", "failed"]}))
CoachLinkEventData = _data(
    "CoachLinkEventData", coach_id=fields.String(required=True),
    role=fields.String(required=True, metadata={
        "enum": ["athlete", "coach"],
        "description": "Your side of the link: `athlete_id` is the subject of the event when "
                       "athlete, `coach_id` when coach."}))
PlanEventData = _data(
    "PlanEventData",
    first_date=fields.Date(required=True, metadata={"description": "The first day touched."}),
    last_date=fields.Date(required=True, metadata={"description": "The last day touched."}),
    created=fields.Integer(required=True), updated=fields.Integer(required=True),
    removed=fields.Integer(required=True),
    by=fields.String(required=True, metadata={"enum": ["athlete", "coach"]}),
    coach_id=fields.String(required=True, allow_none=True, metadata={
        "description": "The coach who wrote it, when `by` is coach."}))

DATA_OF_TYPE: dict[str, type[Schema]] = {
    **dict.fromkeys((events.CHECKIN_CREATED, events.CHECKIN_UPDATED, events.CHECKIN_DELETED),
                    CheckinEventData),
    **dict.fromkeys((events.WARNING_RUN_SPIKE, events.WARNING_WEEKLY_JUMP, events.WARNING_SHOE,
                     events.WARNING_TRIAGE, events.WARNING_PLAN_PREFLIGHT), WarningEventData),
    events.PLAN_CHANGED: PlanEventData,
    events.SHOE_STATUS_CHANGED: ShoeStatusEventData,
    events.IMPORT_FINISHED: ImportEventData,
    **dict.fromkeys((events.COACH_LINK_CREATED, events.COACH_LINK_UPDATED,
                     events.COACH_LINK_DELETED), CoachLinkEventData),
}

HEADERS = [
    ("webhook-id", "The event's id: the same on every retry and redelivery of it, so a receiver "
                   "that has seen it can answer 2xx and do nothing.", "msg_..."),
    ("webhook-timestamp", "When this attempt was signed, in seconds since 1970; refuse one more "
                          "than five minutes from your clock.", "1764669600"),
    ("webhook-signature", "`v1,` and the base64 HMAC-SHA256, keyed by the endpoint's secret, of "
                          "`{webhook-id}.{webhook-timestamp}.{body}`; during a rotation two, "
                          "space-separated. See docs/webhooks.md.", "v1,K5oZfzN95Z9UVu1EsfQmfVN"),
]


def _name(event_type: str) -> str:
    return "".join(part.title() for part in event_type.replace(".", "_").split("_")) + "Event"


def _event_schema(event_type: str) -> type[Schema]:
    return Schema.from_dict({
        "type": fields.String(required=True, metadata={"enum": [event_type]}),
        "timestamp": UTCInstant(required=True, metadata={"description": "When it happened."}),
        "data": fields.Nested(DATA_OF_TYPE[event_type], required=True),
    }, name=_name(event_type))


def _operation(event_type: str) -> dict[str, Any]:
    what, needs = events.TYPES[event_type]
    app_note = (f" An app's endpoint gets it for an athlete who granted "
                f"{' and '.join(f'`{scope}`' for scope in needs)}.")
    if event_type.startswith("checkin.") or event_type == events.WARNING_TRIAGE:
        app_note += f" About pain, it also needs `{events.PAIN_SCOPE}`."
    return {"post": {
        "operationId": _name(event_type)[0].lower() + _name(event_type)[1:],
        "summary": event_type,
        "description": (f"{what}{app_note} Sent to every endpoint that asked for "
                        f"`{event_type}`; retried until a 2xx ({MAX_ATTEMPTS} attempts over "
                        "about 28 hours)."),
        "tags": ["webhooks"],
        "security": [],
        "parameters": [{"name": name, "in": "header", "required": True, "description": text,
                        "schema": {"type": "string", "example": example}}
                       for name, text, example in HEADERS],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{_name(event_type)}"}}}},
        "responses": {
            "200": {"description": "Received (any 2xx: the event is delivered)."},
            "410": {"description": "Gone: the endpoint is turned off and sent nothing more."},
            "default": {"description": "Anything else (also no answer within 15 s): tried "
                                       "again later, honouring Retry-After."},
        },
    }}


def document(api: Any) -> None:
    """Add `webhooks` to the spec, and their schemas to its components."""
    for event_type in events.ALL_TYPES:
        api.spec.components.schema(_name(event_type), schema=_event_schema(event_type))
    api.spec.options["webhooks"] = {event_type: _operation(event_type)
                                    for event_type in events.ALL_TYPES}
