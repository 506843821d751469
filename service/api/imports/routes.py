"""Imports of activity files (GPX, TCX, FIT, or a zip of them) into run check-ins."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from flask import request, url_for
from flask.views import MethodView

from service import queues
from service.api.context import after_commit, commit, db, now, state
from service.api.extension import Blueprint, location
from service.api.pagination import page_schema, paginate
from service.api.problems import problem
from service.api.security import current_account
from service.domain.accounts import scopes
from service.domain.data import imports
from service.models import Import

from .schemas import ImportListArgsSchema, ImportSchema, ImportUploadSchema

blp = Blueprint("imports", __name__, url_prefix="/v1/imports",
                description="Bring your history in from a watch or another app.")
# Room for the multipart boundaries and headers around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


def _upload_limit(view: Callable[..., Any]) -> Callable[..., Any]:
    """Let this one route take BACKSTRIDE_IMPORT_MAX_BYTES instead of the API-wide body limit."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        limit = state().settings.import_max_bytes
        if request.content_length is not None and \
                request.content_length > limit + MULTIPART_OVERHEAD:
            return problem(413, f"The upload is larger than {limit} bytes; split it into "
                           "smaller zips.", slug="too-large",
                           errors={"file": [f"Larger than {limit} bytes."]})
        request.max_content_length = limit + MULTIPART_OVERHEAD
        return view(*args, **kwargs)

    return wrapper


def _quota() -> imports.Quota:
    settings = state().settings
    return imports.Quota(in_flight=settings.quota_imports_in_flight,
                         bytes_per_day=settings.quota_import_bytes_per_day)


@blp.route("")
class Imports(MethodView):
    @blp.operation("createImport")
    @blp.auth_required(scopes.CHECKINS_WRITE)
    @_upload_limit
    @blp.arguments(ImportUploadSchema, location="files")
    @blp.response(202, ImportSchema, headers=location("the import, to poll"))
    @blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
    @blp.alt_response(409, response="CONFLICT")  # the quotas of imports at once, bytes a day
    def post(self, files):
        """Import activity files

        Send one file or a zip of several (`multipart/form-data`, field `file`). The answer comes
        at once; a worker reads the files and creates a run check-in for each run in them. Poll
        the import for its progress, the check-ins created, what was skipped and why.
        """
        upload = files["file"]
        job = imports.create(db(), current_account(), upload.filename or "", upload.read(),
                             state().settings.import_max_bytes, now(), _quota())
        after_commit(partial(state().hints.send, queues.IMPORTS_PROCESS, str(job.id)))
        commit()
        location = url_for("imports.ImportById", import_id=job.id)
        return job, 202, {"Location": location}

    @blp.operation("listImports")
    @blp.read_only()
    @blp.auth_required(scopes.CHECKINS_READ)
    @blp.arguments(ImportListArgsSchema, location="query")
    @blp.response(200, page_schema(ImportSchema))
    def get(self, args):
        """List your imports

        Newest first.
        """
        return paginate(db(), imports.listing(current_account()),
                        order=(Import.created_at, Import.id), **args)


@blp.route("/<uuid:import_id>")
class ImportById(MethodView):
    @blp.operation("getImport")
    @blp.read_only()
    @blp.auth_required(scopes.CHECKINS_READ)
    @blp.response(200, ImportSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, import_id: uuid.UUID):
        """Read an import

        Its status and progress, the check-ins created, the duplicates and non-running activities
        skipped, and for each file that could not be read, why.
        """
        return imports.get_owned(db(), current_account(), import_id)
