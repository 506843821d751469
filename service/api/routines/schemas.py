from marshmallow import Schema, fields

from service.domain.stretch.catalogue import AREAS


class RoutineSchema(Schema):
    id = fields.String(required=True, metadata={"example": "bird-dog"})
    name = fields.String(required=True)
    area = fields.String(required=True, metadata={"enum": list(AREAS)})
    focus = fields.String(required=True,
                          metadata={"enum": ["core", "strength", "stretch", "mobility"]})
    steps = fields.List(fields.String(), required=True)
    dose = fields.String(required=True, metadata={"example": "8 reps each side, 2 rounds"})
    minutes = fields.Integer(required=True)
    evidence = fields.String(required=True, metadata={
        "enum": ["E", "comfort"],
        "description": "E: exercise therapy with evidence for back pain; comfort: eases "
                       "stiffness, does not prevent injury."})
    source = fields.String(required=True)


class RoutineListSchema(Schema):
    items = fields.List(fields.Nested(RoutineSchema), required=True)


class SuggestionSchema(Schema):
    items = fields.List(fields.Nested(RoutineSchema), required=True)
    minutes = fields.Integer(required=True)
    based_on = fields.List(fields.String(), required=True, metadata={
        "description": "Pain locations of the last 14 days it was chosen for (empty: none)."})
