"""What the athlete's own check-ins say about their pain."""

from __future__ import annotations

from flask.views import MethodView

from service.api.context import db, now
from service.api.extension import Blueprint
from service.api.security import current_account
from service.domain.accounts import scopes
from service.domain.calendar import local_date
from service.domain.insights import report as insight_report

from .schemas import InsightsSchema

blp = Blueprint("insights", __name__, url_prefix="/v1/me/insights",
                description="Your pain alongside your running.")


@blp.route("")
class Insights(MethodView):
    @blp.operation("getInsights")
    @blp.read_only()
    @blp.auth_required(scopes.PAIN_READ)  # the report is about pain (scopes.SENSITIVE)
    @blp.response(200, InsightsSchema)
    def get(self):
        """Compare your pain with your running

        Over the last 180 days: pain after road, trail and treadmill runs; after runs in shoes
        past 80 % wear; within 72 h of a run spike; on days after stretching or not. Counts and
        rates with their sample sizes, and "not enough data yet" below 5 per group. These say
        what went together, not what caused what.
        """
        athlete = current_account()
        return insight_report.report(db(), athlete, now(), local_date(now(), athlete.timezone))
