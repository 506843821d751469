from flask_smorest.fields import Upload
from marshmallow import Schema, fields

from service.api.fields import UTCInstant
from service.api.pagination import PageArgsSchema
from service.domain.data import activity_files, imports
from service.models.imports import DONE, FAILED, QUEUED, RUNNING


class ImportUploadSchema(Schema):
    file = Upload(required=True, metadata={
        "description": "A .gpx, .tcx or .fit file (optionally .gz), or a .zip of up to 100 of "
                       "them."})


class ImportListArgsSchema(PageArgsSchema):
    pass


class RejectedActivitySchema(Schema):
    index = fields.Integer(required=True, metadata={"description": "Its place in the file."})
    started_at = fields.String(allow_none=True, required=True)
    detail = fields.String(required=True, metadata={"description": "Why it was not imported."})


class TakenActivitySchema(Schema):
    index = fields.Integer(required=True, metadata={"description": "Its place in the file."})
    checkin_id = fields.UUID(required=True, metadata={"description": "The run check-in made."})
    started_at = fields.String(required=True)
    duration_s = fields.Integer(required=True, metadata={
        "description": "Elapsed, start to finish, pauses included."})
    moving_s = fields.Integer(allow_none=True, required=True, metadata={
        "description": "Moving time, when the file says (FIT, TCX); else null."})
    distance_m = fields.Integer(required=True)
    sport = fields.String(allow_none=True, required=True, metadata={
        "description": "As the file names it; null when it names none."})
    surface = fields.String(allow_none=True, required=True)
    taken_by = fields.String(required=True, metadata={
        "enum": [activity_files.TAKEN_BY_SPORT, activity_files.TAKEN_BY_PACE],
        "description": "`sport`: the file says it is a run. `pace`: the file names no sport, "
                       "and its pace is a running pace (3:20 to 10:00 min/km)."})
    detail = fields.String(required=True, metadata={"description": "Why, in words."})


class SkippedActivitySchema(Schema):
    index = fields.Integer(required=True, metadata={"description": "Its place in the file."})
    reason = fields.String(required=True, metadata={
        "enum": list(imports.SKIP_REASONS),
        "description": "`not_a_run`: its sport is not running. `pace`: no sport named, and not "
                       "a running pace. `fragment`: under 100 m or a minute. `duplicate`: the "
                       "same run is stored already. `untimed`: no time stamps. `out_of_range`: "
                       "a date no run can have. `damaged`: a part of the file that cannot be "
                       "read. `invalid`: the check-in rules refuse it (see `detail`). "
                       "`deleted`: you deleted this run."})
    detail = fields.String(required=True, metadata={"description": "Why, in words."})
    started_at = fields.String(allow_none=True, required=True)
    duration_s = fields.Integer(allow_none=True, required=True)
    distance_m = fields.Integer(allow_none=True, required=True)
    sport = fields.String(allow_none=True, required=True)


class ImportFileSchema(Schema):
    name = fields.String(required=True)
    format = fields.String(allow_none=True, required=True, metadata={"enum": ["gpx", "tcx", "fit"]})
    status = fields.String(required=True, metadata={
        "enum": ["imported", "duplicate", "failed"],
        "description": "`duplicate`: this very file was imported before, and was skipped."})
    sha256 = fields.String(allow_none=True, required=True)
    activities = fields.Integer(required=True)
    checkin_ids = fields.List(fields.UUID(), required=True,
                              metadata={"description": "The run check-ins this file created."})
    duplicates_skipped = fields.Integer(required=True, metadata={
        "description": "Runs already stored (start within 60 s, distance within 2 %)."})
    non_running_skipped = fields.Integer(required=True, metadata={
        "description": "Activities that are no run: by their sport, their pace, or fragments."})
    rejected = fields.List(fields.Nested(RejectedActivitySchema), required=True, metadata={
        "description": "The runs the check-in rules refused, or that you had deleted (also in "
                       "`skipped`)."})
    taken = fields.List(fields.Nested(TakenActivitySchema), required=True, dump_default=list,
                        metadata={"description": "Each run imported, and why it counts as one."})
    skipped = fields.List(fields.Nested(SkippedActivitySchema), required=True,
                          dump_default=list, metadata={
                              "description": "Each activity not imported, and why."})
    error = fields.String(allow_none=True, required=True,
                          metadata={"description": "Why nothing was imported from this file."})


class ImportProgressSchema(Schema):
    files_total = fields.Integer(allow_none=True, required=True,
                                 metadata={"description": "Known once the upload is opened."})
    files_done = fields.Integer(required=True)


class ImportSchema(Schema):
    id = fields.UUID(required=True)
    status = fields.String(required=True, metadata={
        "enum": [QUEUED, RUNNING, DONE, FAILED],
        "description": "`failed`: the upload as a whole could not be read, or the import "
                       "could not finish in its tries (see `error`)."})
    filename = fields.String(required=True)
    size_bytes = fields.Integer(required=True)
    progress = fields.Nested(ImportProgressSchema, required=True)
    runs_created = fields.Integer(required=True)
    duplicates_skipped = fields.Integer(required=True)
    duplicate_files = fields.Integer(required=True)
    non_running_skipped = fields.Integer(required=True)
    files_failed = fields.Integer(required=True)
    error = fields.String(allow_none=True, required=True)
    files = fields.List(fields.Nested(ImportFileSchema), required=True)
    created_at = UTCInstant(required=True)
    started_at = UTCInstant(allow_none=True, required=True)
    finished_at = UTCInstant(allow_none=True, required=True)
