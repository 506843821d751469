from flask_smorest.fields import Upload
from marshmallow import Schema, fields

from service.api.fields import UTCInstant
from service.api.pagination import PageArgsSchema
from service.models.imports import DONE, FAILED, QUEUED, RUNNING


class ImportUploadSchema(Schema):
    file = Upload(required=True, metadata={
        "description": "A .gpx, .tcx or .fit file (optionally .gz), or a .zip of up to 100 of "
                       "them."})


class ImportListArgsSchema(PageArgsSchema):
    pass


class RejectedActivitySchema(Schema):
    index = fields.Integer(required=True, metadata={"description": "Its place in the file."})
    started_at = fields.String(required=True)
    detail = fields.String(required=True, metadata={"description": "Why it was not imported."})


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
    non_running_skipped = fields.Integer(required=True)
    rejected = fields.List(fields.Nested(RejectedActivitySchema), required=True)
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
        "description": "`failed`: the upload as a whole could not be read (see `error`)."})
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
