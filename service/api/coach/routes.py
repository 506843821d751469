"""The coach's side: invites, the roster, and each athlete's data within what they granted.

Every athlete read goes through `coaching.athlete_for_coach` (or `visible_kinds`), which answers
404 for an athlete not linked and for a scope not granted alike, and is written to the athlete's
access log in the same transaction. So none of these GETs is marked `read_only`: each needs the
request's writing session (service.api.context.db), whose one transaction holds read and log.
"""

from __future__ import annotations

import uuid

from flask.views import MethodView

from service.api.checkins.schemas import CheckinPageSchema
from service.api.context import commit, db, now, state
from service.api.extension import Blueprint
from service.api.load.schemas import LoadSchema
from service.api.notifications.schemas import InboxArgsSchema, NotificationSchema
from service.api.pagination import page_schema, paginate
from service.api.plan import answers as plan_answers
from service.api.plan import routes as plan_routes
from service.api.plan.schemas import (
    PlanArgsSchema,
    PlanBatchAnswerSchema,
    PlanBatchSchema,
    PlannedRunInputSchema,
    PlannedRunWrittenSchema,
    PlanSchema,
)
from service.api.security import current_account, current_principal
from service.api.shoes.schemas import ShoeListArgsSchema, ShoeSchema
from service.domain.accounts import scopes
from service.domain.calendar import local_date
from service.domain.checkins import reads as checkin_reads
from service.domain.coaching import links as coaching
from service.domain.coaching import roster
from service.domain.notify import notifications
from service.domain.shoes import records as shoe_records
from service.domain.training import report as load_report
from service.models import Checkin, Notification, Shoe

from .schemas import (
    CoachCheckinQuerySchema,
    CoachLoadArgsSchema,
    InviteSchema,
    RosterArgsSchema,
    RosterSchema,
)

blp = Blueprint("coach", __name__, url_prefix="/v1/coach",
                description="Coaching: the athletes who linked you, within what they granted.")


@blp.route("/invites")
class Invites(MethodView):
    @blp.operation("createCoachInvite")
    @blp.auth_required(scopes.COACH_WRITE)
    @blp.response(201, InviteSchema)
    @blp.alt_response(409, response="CONFLICT")  # the quota of open invites
    def post(self):
        """Create an invite for an athlete

        A short code that works once within 7 days. The athlete enters it in the app and chooses
        what you may see.
        """
        invite, code = coaching.create_invite(db(), current_account(), now(),
                                              max_open=state().settings.quota_coach_invites)
        commit()
        return {"code": code, "expires_at": invite.expires_at}


@blp.route("/athletes")
class Roster(MethodView):
    @blp.operation("listCoachAthletes")
    @blp.auth_required(scopes.COACH_READ)
    @blp.arguments(RosterArgsSchema, location="query")
    @blp.response(200, RosterSchema)
    def get(self, args):
        """List your athletes, who needs attention first

        One summary per athlete: last run, this week and last week, the latest spike, shoes to
        plan or replace, an open pain triage tier and unread warnings, each only if granted.
        """
        coach = current_account()
        entries = roster.roster(db(), coach, now(), args["sort"],
                                weekly_threshold=state().settings.weekly_jump_threshold,
                                token_sees_pain=current_principal().sees_pain)
        coaching.log_reads(db(), coach, [e.athlete_id for e in entries], "roster", now())
        commit()
        return {"items": entries}


@blp.route("/athletes/<uuid:athlete_id>")
class AthleteLink(MethodView):
    @blp.operation("removeCoachAthlete")
    @blp.auth_required(scopes.COACH_WRITE)
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, athlete_id: uuid.UUID):
        """Stop coaching an athlete

        Your access to their data ends at once; their data stays theirs.
        """
        coaching.revoke(coaching.link_of_coach(db(), current_account(), athlete_id), "coach",
                        now())
        commit()


@blp.route("/athletes/<uuid:athlete_id>/checkins")
class AthleteCheckins(MethodView):
    @blp.operation("listCoachAthleteCheckins")
    @blp.auth_required(scopes.COACH_READ)
    @blp.arguments(CoachCheckinQuerySchema, location="query")
    @blp.response(200, CheckinPageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, athlete_id: uuid.UUID):
        """List an athlete's check-ins

        Runs and exercise sessions with `runs`, pain check-ins with `pain`; newest first.
        """
        coach = current_account()
        athlete, kinds = coaching.visible_kinds(db(), coach, athlete_id, args.get("kind"),
                                               token_sees_pain=current_principal().sees_pain)
        statement = checkin_reads.history(athlete, start=args.get("start"),
                                          end=args.get("end")).where(Checkin.kind.in_(kinds))
        page = paginate(db(), statement, order=(Checkin.occurred_at, Checkin.id),
                        cursor=args["cursor"], limit=args["limit"])
        _logged(coach, athlete_id, "checkins")
        return {"items": page.items, "next_cursor": page.next_cursor,
                "has_more": page.next_cursor is not None}


@blp.route("/athletes/<uuid:athlete_id>/load")
class AthleteLoad(MethodView):
    @blp.operation("getCoachAthleteLoad")
    @blp.auth_required(scopes.COACH_READ)
    @blp.arguments(CoachLoadArgsSchema, location="query")
    @blp.response(200, LoadSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, athlete_id: uuid.UUID):
        """Read an athlete's training load (with `load`)

        Their load report as they see it, without why advice is paused unless they granted
        `pain`, and done against planned only if they granted `plan`; the read goes in their
        access log.
        """
        coach = current_account()
        athlete, link = coaching.athlete_for_coach(db(), coach, athlete_id, scopes.LOAD)
        today = local_date(now(), athlete.timezone)
        report = load_report.report(db(), athlete, args.get("as_of", today), today,
                                    state().settings.weekly_jump_threshold,
                                    with_pain=coaching.sees_pain(_usable(link)))
        answer = plan_answers.load_with_plan(report, athlete, scopes.PLAN in link.scopes)
        _logged(coach, athlete_id, "load")
        return answer


@blp.route("/athletes/<uuid:athlete_id>/shoes")
class AthleteShoes(MethodView):
    @blp.operation("listCoachAthleteShoes")
    @blp.auth_required(scopes.COACH_READ)
    @blp.arguments(ShoeListArgsSchema, location="query")
    @blp.response(200, page_schema(ShoeSchema))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, athlete_id: uuid.UUID):
        """List an athlete's shoes (with `shoes`)

        Their pairs with distance, age and wear, newest first; the read goes in their access log.
        """
        coach = current_account()
        athlete, _ = coaching.athlete_for_coach(db(), coach, athlete_id, scopes.SHOES)
        page = paginate(db(), shoe_records.listing(athlete,
                                                   include_retired=args["include_retired"]),
                        order=(Shoe.created_at, Shoe.id), cursor=args["cursor"],
                        limit=args["limit"])
        items = shoe_records.states(db(), page.items, local_date(now(), athlete.timezone))
        _logged(coach, athlete_id, "shoes")
        return {"items": items, "next_cursor": page.next_cursor}


@blp.route("/athletes/<uuid:athlete_id>/notifications")
class AthleteNotifications(MethodView):
    @blp.operation("listCoachAthleteNotifications")
    @blp.auth_required(scopes.COACH_READ)
    @blp.arguments(InboxArgsSchema, location="query")
    @blp.response(200, page_schema(NotificationSchema))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, athlete_id: uuid.UUID):
        """List the warnings an athlete was sent (with `notifications`)

        Newest first, and whether they read them; pain warnings only if they granted `pain`.
        The read goes in their access log.
        """
        coach = current_account()
        athlete, link = coaching.athlete_for_coach(db(), coach, athlete_id,
                                                   scopes.NOTIFICATIONS)
        hidden = coaching.hidden_notification_prefixes(_usable(link))
        page = paginate(db(), notifications.inbox(athlete, now(), unread=args.get("unread"),
                                                  hide_kinds=hidden),
                        order=(Notification.created_at, Notification.id),
                        cursor=args["cursor"], limit=args["limit"])
        _logged(coach, athlete_id, "notifications")
        return page


def _usable(link) -> list[str]:
    return coaching.usable(link.scopes, token_sees_pain=current_principal().sees_pain)


def _logged(coach, athlete_id: uuid.UUID, resource: str, *, action: str = "read") -> None:
    coaching.log_reads(db(), coach, [athlete_id], resource, now(), action=action)
    commit()


@blp.route("/athletes/<uuid:athlete_id>/plan")
class AthletePlan(MethodView):
    @blp.operation("getCoachAthletePlan")
    @blp.auth_required(scopes.COACH_READ)
    @blp.arguments(PlanArgsSchema, location="query")
    @blp.response(200, PlanSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, athlete_id: uuid.UUID):
        """Read an athlete's plan (with `plan`)

        Their planned runs, done against planned, the goal and the preflight check, as they see
        them; the read goes in their access log.
        """
        coach = current_account()
        athlete, _ = coaching.athlete_for_coach(db(), coach, athlete_id, scopes.PLAN)
        answer = plan_answers.plan(athlete, args)
        _logged(coach, athlete_id, "plan")
        return answer


@blp.route("/athletes/<uuid:athlete_id>/plan/batch")
class AthletePlanBatch(MethodView):
    @blp.operation("writeCoachAthletePlanBatch")
    @blp.auth_required(scopes.COACH_WRITE)
    @blp.idempotent()
    @blp.arguments(PlanBatchSchema)
    @blp.response(200, PlanBatchAnswerSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, body, athlete_id: uuid.UUID):
        """Write an athlete's plan (with `plan`)

        As the athlete's own batch: up to 500 planned runs, each upserted by its id, judged
        against what they ran and planned. 403 when they have not granted you `plan`. The write
        goes in their access log.
        """
        coach = current_account()
        athlete, _ = coaching.athlete_for_coach_write(db(), coach, athlete_id, scopes.PLAN)
        answer = plan_answers.write_batch(athlete, body, coach)
        _logged(coach, athlete_id, "plan", action="write")
        return answer


@blp.route("/athletes/<uuid:athlete_id>/plan/<uuid:run_id>")
class AthletePlannedRun(MethodView):
    @blp.operation("writeCoachAthletePlannedRun")
    @blp.auth_required(scopes.COACH_WRITE)
    @blp.if_match()
    @blp.arguments(PlannedRunInputSchema)
    @blp.response(200, PlannedRunWrittenSchema, description="Updated, or unchanged.")
    @blp.alt_response(201, schema=PlannedRunWrittenSchema, description="Created.")
    @blp.alt_response(404, response="NOT_FOUND")
    def put(self, item, athlete_id: uuid.UUID, run_id: uuid.UUID):
        """Write one of an athlete's planned runs (with `plan`)

        As the athlete's own PUT; 403 when they have not granted you `plan`. The write goes in
        their access log.
        """
        coach = current_account()
        athlete, _ = coaching.athlete_for_coach_write(db(), coach, athlete_id, scopes.PLAN)
        coaching.log_reads(db(), coach, [athlete_id], "plan", now(), action="write")
        return plan_routes.put_run(athlete, item, run_id, coach)

    @blp.operation("deleteCoachAthletePlannedRun")
    @blp.auth_required(scopes.COACH_WRITE)
    @blp.if_match()
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, athlete_id: uuid.UUID, run_id: uuid.UUID):
        """Delete one of an athlete's planned runs (with `plan`)

        As the athlete's own DELETE; 403 when they have not granted you `plan`. The write goes
        in their access log.
        """
        coach = current_account()
        athlete, _ = coaching.athlete_for_coach_write(db(), coach, athlete_id, scopes.PLAN)
        coaching.log_reads(db(), coach, [athlete_id], "plan", now(), action="write")
        plan_routes.delete_run(athlete, run_id, coach)
