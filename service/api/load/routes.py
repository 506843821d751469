"""The athlete's training load."""

from __future__ import annotations

from flask.views import MethodView

from service.api.context import db, now, state
from service.api.extension import Blueprint
from service.api.security import current_account, current_principal
from service.domain.accounts import scopes
from service.domain.calendar import local_date
from service.domain.training import report as load_report

from .schemas import LoadArgsSchema, LoadSchema

blp = Blueprint("load", __name__, url_prefix="/v1/me/load", description="Your training load.")


@blp.route("")
class Load(MethodView):
    @blp.operation("getLoad")
    @blp.read_only()
    @blp.auth_required(scopes.LOAD_READ)
    @blp.arguments(LoadArgsSchema, location="query")
    @blp.response(200, LoadSchema)
    def get(self, args):
        """Read your training load

        Weekly distances, the latest run against the longest of the 30 days before it, the
        longest advisable next run, the weekly change, ACWR (for information) and return mode.
        """
        athlete = current_account()
        today = local_date(now(), athlete.timezone)
        return load_report.report(db(), athlete, args.get("as_of", today), today,
                                  state().settings.weekly_jump_threshold,
                                  with_pain=current_principal().sees_pain)
