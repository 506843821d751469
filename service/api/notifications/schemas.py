"""The inbox: notifications, and the typed `data` each kind carries.

`data` holds a warning's rule, numbers, threshold and source, so an app can draw them rather than
parse the body. Each kind has its own shape; in the spec `data` is a union of them discriminated
by `rule`, which always equals the notification's `kind`, so generated clients get a typed
variant for each (`service.api.extension` turns `NotificationData` into that `oneOf`).
"""

from marshmallow import Schema, fields, validate

from service.api.fields import UTCInstant
from service.api.plan.schemas import FlagSchema
from service.domain.pain import rules as triage
from service.domain.pain.tiers import NOTIFICATION_PREFIX
from service.domain.plans.messages import KIND as PLAN_PREFLIGHT
from service.domain.stretch.reminders import NUDGE_KIND, REMINDER_KIND
from service.domain.training.rules import Spike
from service.domain.webhooks.deliveries import DISABLED_KIND as WEBHOOK_DISABLED

UNITS = {"enum": ["km", "mi"]}


def _rule(kind: str) -> fields.String:
    return fields.String(required=True, metadata={"enum": [kind]})


def _source() -> fields.String:
    return fields.String(required=True, metadata={"description": "The study or guideline."})


def _evidence(*labels: str) -> fields.String:
    return fields.String(required=True, metadata={
        "enum": list(labels), "description": "E: from studies; C: a convention of ours."})


class RunSpikeDataSchema(Schema):
    rule = _rule("run_spike")
    run_id = fields.String(required=True)
    class_ = fields.String(data_key="class", required=True,
                           metadata={"enum": [spike.label for spike in Spike]})
    distance_m = fields.Integer(required=True)
    baseline_m = fields.Integer(required=True, metadata={
        "description": "The longest run of the 30 days before."})
    percent_longer = fields.Integer(required=True)
    threshold_percent = fields.Integer(required=True)
    hazard_ratio = fields.Float(required=True, allow_none=True)
    longest_advisable_run_m = fields.Integer(required=True)
    units = fields.String(required=True, metadata=UNITS)
    source = _source()
    evidence = _evidence("E")


class WeeklyJumpDataSchema(Schema):
    rule = _rule("weekly_jump")
    last_7_days_m = fields.Integer(required=True)
    previous_7_days_m = fields.Integer(required=True)
    percent_more = fields.Integer(required=True)
    threshold_percent = fields.Integer(required=True)
    units = fields.String(required=True, metadata=UNITS)
    source = _source()
    evidence = _evidence("E (weak)")


def _shoe_wear_schema(kind: str) -> type[Schema]:
    return Schema.from_dict({
        "rule": _rule(kind),
        "shoe_id": fields.String(required=True),
        "distance_m": fields.Integer(required=True),
        "age_days": fields.Integer(required=True),
        "max_distance_m": fields.Integer(required=True),
        "max_age_days": fields.Integer(required=True),
        "wear_ratio": fields.Float(required=True),
        "rate_m_per_day": fields.Float(required=True),
        "replace_by": fields.Date(required=True),
        "units": fields.String(required=True, metadata=UNITS),
        "evidence": _evidence("C"),
    }, name="".join(part.title() for part in kind.split("_")) + "DataSchema")


class ShoeRotateDataSchema(Schema):
    rule = _rule("shoe_rotate")
    shoe_id = fields.String(required=True, metadata={"description": "The pair worn most."})
    share_percent = fields.Integer(required=True)
    threshold_percent = fields.Integer(required=True)
    window_days = fields.Integer(required=True)
    units = fields.String(required=True, metadata=UNITS)
    source = _source()
    evidence = _evidence("E")


def _pain_schema(tier: str) -> type[Schema]:
    kind = NOTIFICATION_PREFIX + tier
    return Schema.from_dict({
        "rule": _rule(kind),
        "checkin_id": fields.String(required=True, metadata={
            "description": "The pain check-in that earned the tier."}),
        "tier": fields.String(required=True, metadata={"enum": [tier]}),
        "triggers": fields.List(fields.String(), required=True, metadata={
            "description": "The answers or patterns behind the tier."}),
        "source": _source(),
        "evidence": _evidence("E (guideline)"),
    }, name="".join(part.title() for part in kind.split("_")) + "DataSchema")


class StretchReminderDataSchema(Schema):
    rule = _rule(REMINDER_KIND)
    run_id = fields.String(required=True)
    routine_ids = fields.List(fields.String(), required=True)
    minutes = fields.Integer(required=True)
    evidence = _evidence("E")


class StretchEveningDataSchema(Schema):
    rule = _rule(NUDGE_KIND)
    routine_ids = fields.List(fields.String(), required=True)
    minutes = fields.Integer(required=True)
    evidence = _evidence("E")


class WebhookDisabledDataSchema(Schema):
    rule = _rule(WEBHOOK_DISABLED)
    endpoint_id = fields.String(required=True, metadata={"description": "The endpoint."})
    url = fields.String(required=True)
    reason = fields.String(required=True, metadata={
        "enum": ["gone", "failing"],
        "description": "gone: it answered 410; failing: five days of failed attempts."})


class PlanPreflightDataSchema(FlagSchema):
    """The day before a flagged planned run: the run and each rule's numbers, as a plan write
    answers them."""

    rule = _rule(PLAN_PREFLIGHT)
    units = fields.String(required=True, metadata=UNITS)


# Every kind of notification the domain writes, and the shape of its data.
DATA_OF_KIND: dict[str, type[Schema]] = {
    "run_spike": RunSpikeDataSchema,
    "weekly_jump": WeeklyJumpDataSchema,
    **{kind: _shoe_wear_schema(kind) for kind in ("shoe_inspect", "shoe_plan", "shoe_replace")},
    "shoe_rotate": ShoeRotateDataSchema,
    **{NOTIFICATION_PREFIX + tier: _pain_schema(tier)
       for tier in triage.TIERS if tier != triage.NONE},
    REMINDER_KIND: StretchReminderDataSchema,
    NUDGE_KIND: StretchEveningDataSchema,
    WEBHOOK_DISABLED: WebhookDisabledDataSchema,
    PLAN_PREFLIGHT: PlanPreflightDataSchema,
}


class NotificationData(fields.Dict):
    """`data`: passed through as written; documented as the union of DATA_OF_KIND."""

    union = DATA_OF_KIND
    discriminator = "rule"


class NotificationSchema(Schema):
    id = fields.UUID(required=True)
    kind = fields.String(required=True, metadata={"enum": list(DATA_OF_KIND),
                                                  "example": "run_spike"})
    title = fields.String(required=True)
    body = fields.String(required=True)
    data = NotificationData(required=True, metadata={
        "description": "The rule, its numbers, threshold and source; `rule` equals `kind`."})
    created_at = UTCInstant(required=True)
    deliver_after = UTCInstant(required=True)
    read_at = UTCInstant(allow_none=True, required=True)


class InboxArgsSchema(Schema):
    unread = fields.Boolean(metadata={"description": "true: only unread; false: only read."})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))
