from marshmallow import Schema, ValidationError, fields, missing, validate, validates_schema

from service.api.fields import Instant, UTCInstant, WholeNumber
from service.api.problems import ProblemSchema
from service.clock import utcnow
from service.domain.checkins import rules
from service.domain.pain import rules as triage
from service.domain.pain import tiers as pain

# Each question as the phone asks it; true is "yes", false is "no", null or absent: not answered.
QUESTIONS = {
    "bladder_bowel_change": "New trouble passing urine, or new loss of bladder or bowel control?",
    "saddle_numbness": "Numbness around the groin, genitals, buttocks or inner thighs?",
    "sexual_dysfunction": "A new change in sexual function?",
    "both_legs": "Pain, numbness or weakness in both legs?",
    "progressive_weakness": "Leg weakness that is getting worse, or a foot that drops or slaps?",
    "gait_disturbance": "Difficulty walking normally?",
    "major_trauma": "Did this start with a fall or an accident?",
    "fever": "A fever, or chills?",
    "weight_loss": "Weight loss you cannot explain?",
    "cancer_history": "Have you ever had cancer?",
    "immunosuppression": "A weakened immune system, or medicines that suppress it (such as "
                         "steroids)?",
    "night_pain": "Pain at night that keeps on whatever position you are in?",
    "unrelieved_by_rest": "Constant pain that rest does not ease?",
    "one_leg_numbness": "Numbness, pins and needles or weakness in one leg?",
    "waking_second_half_night": "Does the pain wake you in the second half of the night?",
    "buttock_pain": "Pain in the buttocks, on one side or switching sides?",
    "better_with_movement": "Does the pain ease when you move about, but not with rest?",
    "better_with_anti_inflammatories": "Does the pain ease within 48 h of anti-inflammatory "
                                       "medicine such as ibuprofen?",
    "family_history": "Does anyone in your family have a similar back problem, or psoriasis or "
                      "inflammatory bowel disease?",
    "gradual_onset": "Did the pain come on gradually, rather than after a particular run, lift "
                     "or fall?",
}


# One Boolean field per question: built from the wording above so a question cannot be added to
# the triage without being worded for the phone (a test holds the two lists equal).
PainAnswersSchema = type("PainAnswersSchema", (Schema,), {
    "__doc__": "The red-flag and inflammatory-screen questions; answer what you like, skip the "
               "rest.",
    "onset_age": WholeNumber(allow_none=True, validate=validate.Range(0, 120), metadata={
        "description": "How old were you when this back pain first began?"}),
    "had_pain_for_weeks": WholeNumber(allow_none=True, validate=validate.Range(0, 5200),
                                         metadata={"description": "How many weeks have you had "
                                                   "this pain, on and off?"}),
    **{name: fields.Boolean(allow_none=True, metadata={"description": question})
       for name, question in QUESTIONS.items()},
})


class CheckinInputSchema(Schema):
    """A check-in as the phone sends it: `kind` decides which other fields apply."""

    id = fields.UUID(metadata={"description": "Made by the phone. In a PUT body it must match "
                               "the path, and may be left out."})
    kind = fields.String(required=True, validate=validate.OneOf(rules.KINDS))
    notes = fields.String(allow_none=True, validate=validate.Length(max=2000))
    started_at = Instant(metadata={"description": "run: start, with an offset."})
    recorded_at = Instant(metadata={"description": "pain, exercise: when."})
    duration_s = WholeNumber(allow_none=True,
                                validate=validate.Range(1, rules.MAX_DURATION_S), metadata={
                                    "description": "run: elapsed seconds, start to finish, "
                                                   "pauses included; exercise: how long."})
    moving_s = WholeNumber(allow_none=True, validate=validate.Range(1, rules.MAX_DURATION_S),
                              metadata={"description": "run: moving time in seconds, when the "
                                        "file says (the timer time, pauses left out); at most "
                                        "duration_s. Imports set it from FIT and TCX."})
    distance_m = WholeNumber(validate=validate.Range(1, rules.MAX_DISTANCE_M))
    surface = fields.String(allow_none=True, validate=validate.OneOf(rules.SURFACES))
    sport = fields.String(allow_none=True, validate=validate.Length(1, 40), metadata={
        "description": "run: the sport as the recording device named it (imports set it)."})
    shoe_id = fields.UUID(allow_none=True,
                          metadata={"description": "run: the pair; your default pair if left out."})
    effort = WholeNumber(allow_none=True, validate=validate.Range(1, 10),
                            metadata={"description": "run: rate of perceived exertion, 1 to 10."})
    location = fields.String(validate=validate.OneOf(rules.PAIN_LOCATIONS))
    side = fields.String(allow_none=True, validate=validate.OneOf(rules.SIDES))
    severity = WholeNumber(validate=validate.Range(0, 10))
    timing = fields.String(allow_none=True, validate=validate.OneOf(rules.PAIN_TIMINGS))
    radiates = fields.String(allow_none=True, validate=validate.OneOf(rules.RADIATES))
    morning_stiffness_min = WholeNumber(allow_none=True, validate=validate.Range(0, 1440))
    answers = fields.Nested(PainAnswersSchema, allow_none=True, metadata={
        "description": "pain: the red-flag and inflammatory-screen questions answered."})
    focus = fields.String(validate=validate.OneOf(rules.FOCUSES))
    routine_ids = fields.List(fields.String(validate=validate.Length(1, 64)), allow_none=True,
                              validate=validate.Length(max=20))

    @validates_schema
    def _whole(self, data, **_kwargs):
        if "kind" in data:
            errors = rules.problems(data, utcnow())
            if errors:
                raise ValidationError(errors)


class CheckinBatchItemSchema(CheckinInputSchema):
    id = fields.UUID(required=True, metadata={"description": "Made by the phone."})


class TriageSchema(Schema):
    tier = fields.String(required=True, metadata={"enum": list(triage.TIERS)})
    triggers = fields.List(fields.String(), required=True, metadata={
        "description": "The answers or patterns that set the tier."})
    title = fields.String(allow_none=True, required=True)
    advice = fields.String(allow_none=True, required=True, metadata={
        "description": "What to do and how soon; null when the tier is none."})


class ShownTriage(fields.Nested):
    """The triage stored on a pain check-in, worded for the athlete; null for other kinds."""

    def get_value(self, obj, attr, accessor=None, default=missing):
        return pain.triage_answer(obj)


class CheckinSchema(Schema):
    id = fields.UUID(required=True)
    kind = fields.String(required=True, metadata={"enum": list(rules.KINDS)})
    started_at = UTCInstant(allow_none=True, required=True)
    recorded_at = UTCInstant(allow_none=True, required=True)
    local_date = fields.Date(required=True,
                             metadata={"description": "The day it belongs to, in your zone."})
    notes = fields.String(allow_none=True, required=True)
    duration_s = fields.Integer(allow_none=True, required=True, metadata={
        "description": "run: elapsed seconds, start to finish, pauses included (a run ends at "
                       "started_at + duration_s); exercise: how long."})
    moving_s = fields.Integer(allow_none=True, required=True, metadata={
        "description": "run: moving time in seconds, when the file says (the timer time, pauses "
                       "left out); null otherwise."})
    distance_m = fields.Integer(allow_none=True, required=True)
    surface = fields.String(allow_none=True, required=True)
    sport = fields.String(allow_none=True, required=True)
    import_id = fields.UUID(allow_none=True, required=True, metadata={
        "description": "The file import that created it, if one did."})
    shoe_id = fields.UUID(allow_none=True, required=True)
    effort = fields.Integer(allow_none=True, required=True)
    location = fields.String(allow_none=True, required=True)
    side = fields.String(allow_none=True, required=True)
    severity = fields.Integer(allow_none=True, required=True)
    timing = fields.String(allow_none=True, required=True)
    radiates = fields.String(allow_none=True, required=True)
    morning_stiffness_min = fields.Integer(allow_none=True, required=True)
    answers = fields.Nested(PainAnswersSchema, allow_none=True, required=True)
    triage = ShownTriage(TriageSchema, allow_none=True, required=True, metadata={
        "description": "pain: the triage of this check-in, made when it was written."})
    focus = fields.String(allow_none=True, required=True)
    routine_ids = fields.List(fields.String(), allow_none=True, required=True)
    version = fields.Integer(required=True)
    created_at = UTCInstant(required=True)
    updated_at = UTCInstant(required=True)
    deleted = fields.Boolean(required=True,
                             metadata={"description": "A tombstone in the `since` feed."})
    deleted_at = UTCInstant(allow_none=True, required=True)


class UnvalidatedList(fields.List):
    """Documented as a list of its items, but loaded raw so each item is validated on its own."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise ValidationError("Not a valid list.")
        return value


class BatchSchema(Schema):
    items = UnvalidatedList(fields.Nested(CheckinBatchItemSchema), required=True,
                            validate=validate.Length(1, rules.MAX_BATCH),
                            metadata={"description": f"1 to {rules.MAX_BATCH} check-ins."})


class BatchResultSchema(Schema):
    index = fields.Integer(required=True, metadata={"description": "Position in the request."})
    id = fields.UUID(allow_none=True, required=True)
    result = fields.String(required=True, metadata={
        "enum": ["created", "updated", "unchanged", "error"]})
    version = fields.Integer(allow_none=True, required=True)
    triage = fields.Nested(TriageSchema, allow_none=True, required=True,
                           metadata={"description": "pain: its triage, as in a PUT."})
    problem = fields.Nested(ProblemSchema, allow_none=True, required=True)


class BatchResponseSchema(Schema):
    results = fields.List(fields.Nested(BatchResultSchema), required=True)


class CheckinQuerySchema(Schema):
    kind = fields.String(validate=validate.OneOf(rules.KINDS))
    start = Instant(data_key="from",
                    metadata={"description": "Only those at or after this time."})
    end = Instant(data_key="to", metadata={"description": "Only those before it."})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200),
                           metadata={"description": "`next_cursor` of the previous page."})
    since = fields.String(validate=validate.Regexp(r"^\d{1,18}$"), metadata={
        "description": "Sync: every change after this cursor, deletions included, oldest "
                       "first. Start with 0, then pass `next_cursor` back."})


class CheckinPageSchema(Schema):
    items = fields.List(fields.Nested(CheckinSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True, metadata={
        "description": "History: the next page's cursor, null on the last. Sync: the cursor "
                       "to send as `since` next time (never null)."})
    has_more = fields.Boolean(required=True,
                              metadata={"description": "More is waiting right now."})
