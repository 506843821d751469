"""The athlete's side of coaching: accept an invite, choose what a coach sees, see who looked."""

from __future__ import annotations

import uuid

from flask.views import MethodView

from service.api.context import commit, db, now
from service.api.extension import Blueprint
from service.api.pagination import PageArgsSchema, page_schema, paginate
from service.api.security import current_account
from service.domain.accounts import apps, scopes
from service.domain.coaching import links as coaching
from service.models import AccessLogEntry

from .schemas import (
    AcceptInviteSchema,
    AccessLogEntrySchema,
    CoachListSchema,
    CoachSchema,
    GrantsSchema,
)

blp = Blueprint("consent", __name__, url_prefix="/v1/me",
                description="Your coaches: what they see, and when they looked.")


def link_answer(link, coach) -> dict:
    return {"coach_id": coach.id, "display_name": coach.display_name, "email": coach.email,
            "scopes": link.scopes, "linked_at": link.created_at, "updated_at": link.updated_at}


@blp.route("/coaches")
class Coaches(MethodView):
    @blp.operation("listMyCoaches")
    @blp.read_only()
    @blp.auth_required(scopes.PROFILE_READ)
    @blp.response(200, CoachListSchema)
    def get(self):
        """List your coaches and what each may see

        Every coach linked to you, with what you granted them and when.
        """
        rows = db().execute(coaching.coaches_of(current_account())).all()
        return {"items": [link_answer(link, coach) for link, coach in rows]}

    @blp.operation("acceptCoachInvite")
    @blp.strict_limit()
    @blp.auth_required(scopes.SESSION_ONLY)
    @blp.arguments(AcceptInviteSchema)
    @blp.response(201, CoachSchema)
    def post(self, body):
        """Accept a coach's invite

        Choose what the coach may see; you can change it or unlink at any time. Only the app
        (a signed-in session) can give consent, never a personal access token.
        """
        link = coaching.accept(db(), current_account(), body["code"], body["scopes"], now())
        coach = coaching.accounts_by_id(db(), [link.coach_id])[link.coach_id]
        commit()
        return link_answer(link, coach)


@blp.route("/coaches/<uuid:coach_id>")
class CoachById(MethodView):
    @blp.operation("updateCoachScopes")
    @blp.auth_required(scopes.SESSION_ONLY)
    @blp.arguments(GrantsSchema)
    @blp.response(200, CoachSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def put(self, body, coach_id: uuid.UUID):
        """Change what a coach may see

        The grants you send replace the old ones, at once.
        """
        link = coaching.link_of_athlete(db(), current_account(), coach_id)
        coaching.change_grants(link, body["scopes"], now())
        coach = coaching.accounts_by_id(db(), [coach_id])[coach_id]
        commit()
        return link_answer(link, coach)

    @blp.operation("removeCoach")
    @blp.auth_required(scopes.SESSION_ONLY)
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, coach_id: uuid.UUID):
        """Unlink a coach

        Their access ends at once.
        """
        coaching.revoke(coaching.link_of_athlete(db(), current_account(), coach_id), "athlete",
                        now())
        commit()


@blp.route("/access-log")
class AccessLog(MethodView):
    @blp.operation("listAccessLog")
    @blp.read_only()
    @blp.auth_required(scopes.PROFILE_READ)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_schema(AccessLogEntrySchema))
    def get(self, args):
        """See who read your data, what and when

        Every read by a coach or by an app you authorised, newest first. The values they saw
        are not repeated here.
        """
        page = paginate(db(), coaching.access_log(current_account()),
                        order=(AccessLogEntry.at, AccessLogEntry.id), cursor=args["cursor"],
                        limit=args["limit"])
        coaches = coaching.accounts_by_id(db(), {e.coach_id for e in page.items if e.coach_id})
        names = apps.app_names(db(), {e.app_id for e in page.items if e.app_id})
        return {"items": [{"id": e.id, "coach_id": e.coach_id, "resource": e.resource,
                           "at": e.at, "coach_name": _name(coaches.get(e.coach_id)),
                           "app_id": e.app_id, "app_name": names.get(e.app_id)}
                          for e in page.items],
                "next_cursor": page.next_cursor}


def _name(account) -> str | None:
    return None if account is None else account.display_name or account.email
