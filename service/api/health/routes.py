"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields

from service import health
from service.api.context import state
from service.api.extension import Blueprint
from service.api.problems import MEDIA_TYPE, ProblemSchema, problem

blp = Blueprint("health", __name__, description="Liveness and readiness probes.")


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})
    checks = fields.Dict(keys=fields.String(), values=fields.String())


class NotReadySchema(ProblemSchema):
    """The problem readiness answers with: also what each dependency answered."""

    checks = fields.Dict(keys=fields.String(), values=fields.String(), required=True, metadata={
        "description": "`ok`, or why it is unreachable, by dependency (database, broker)."})


@blp.route("/healthz")
class Liveness(MethodView):
    @blp.operation("getLiveness")
    @blp.read_only()
    @blp.response(200, HealthSchema)
    def get(self):
        """Is the process alive

        Touches nothing else, so a database outage does not get healthy API processes restarted.
        """
        return {"status": "ok"}


@blp.route("/readyz")
class Readiness(MethodView):
    @blp.operation("getReadiness")
    @blp.read_only()
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=NotReadySchema, content_type=MEDIA_TYPE,
                      description="Not ready: the database or the broker is unreachable.")
    def get(self):
        """Can the process serve

        Checks the database and the broker; 503 names what is down.
        """
        failures = {
            "database": health.database_ready(state().engine),
            "broker": health.broker_ready(state().settings.broker_url),
        }
        checks = {name: reason or "ok" for name, reason in failures.items()}
        down = [name for name, reason in failures.items() if reason]
        if down:
            return problem(503, f"Not ready: {', '.join(down)} unreachable.", slug="not-ready",
                           headers={"Retry-After": "5"}, checks=checks)
        return {"status": "ok", "checks": checks}
