"""The stretch and core catalogue, and a short routine chosen for the athlete."""

from __future__ import annotations

from flask.views import MethodView

from service.api.context import db, now
from service.api.extension import Blueprint
from service.api.security import current_account, current_principal
from service.domain.accounts import scopes
from service.domain.errors import NotFound
from service.domain.stretch import catalogue as routines
from service.domain.stretch import suggestions

from .schemas import RoutineListSchema, RoutineSchema, SuggestionSchema

blp = Blueprint("routines", __name__, url_prefix="/v1/routines",
                description="Stretch and core routines.")


@blp.route("")
class Routines(MethodView):
    @blp.operation("listRoutines")
    @blp.read_only()
    @blp.auth_required(scopes.PROFILE_READ)
    @blp.response(200, RoutineListSchema)
    def get(self):
        """List the routines

        Each with its steps, dose, area and evidence label.
        """
        return {"items": routines.CATALOGUE}


@blp.route("/suggested")
class SuggestedRoutine(MethodView):
    @blp.operation("getSuggestedRoutine")
    @blp.read_only()
    @blp.auth_required(scopes.PROFILE_READ)
    @blp.response(200, SuggestionSchema)
    def get(self):
        """A routine for after today's run

        About ten minutes, chosen from where your back has hurt in the last 14 days.
        """
        if current_principal().sees_pain:
            chosen, based_on = suggestions.suggest(db(), current_account(), now())
        else:  # where it hurt is pain data: a token without pain:read gets the general routine
            chosen, based_on = suggestions.suggest_without_pain(), []
        return {"items": chosen, "minutes": sum(r.minutes for r in chosen),
                "based_on": based_on}


@blp.route("/<string:routine_id>")
class RoutineById(MethodView):
    @blp.operation("getRoutine")
    @blp.read_only()
    @blp.auth_required(scopes.PROFILE_READ)
    @blp.response(200, RoutineSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, routine_id: str):
        """Read a routine

        Its steps, dose, area and evidence label.
        """
        routine = routines.BY_ID.get(routine_id)
        if routine is None:
            raise NotFound("No such routine.")
        return routine
