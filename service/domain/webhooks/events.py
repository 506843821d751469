"""The event types an endpoint can ask for, the scopes an app needs to be sent each, and their
thin payloads (pure: no database).

A payload says what happened and to what, never the values: the type, a timestamp, and in `data`
the athlete, the ids and a link to the resource (a path under the API's base URL), which the
receiver reads with its own token. So nothing sent outlives the grant it was sent under: once an
athlete revokes an app, the links answer 401. Every payload is far under `MAX_PAYLOAD_BYTES`.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from service.clock import rfc3339
from service.domain.accounts import scopes as s

CHECKIN_CREATED = "checkin.created"
CHECKIN_UPDATED = "checkin.updated"
CHECKIN_DELETED = "checkin.deleted"
WARNING_RUN_SPIKE = "warning.run_spike"
WARNING_WEEKLY_JUMP = "warning.weekly_jump"
WARNING_SHOE = "warning.shoe"
WARNING_TRIAGE = "warning.triage"
SHOE_STATUS_CHANGED = "shoe.status_changed"
IMPORT_FINISHED = "import.finished"
COACH_LINK_CREATED = "coach_link.created"
COACH_LINK_UPDATED = "coach_link.updated"
COACH_LINK_DELETED = "coach_link.deleted"
PLAN_CHANGED = "plan.changed"
WARNING_PLAN_PREFLIGHT = "warning.plan_preflight"

# Each type, what it tells, and the scopes an app must hold for the athlete (besides the pain
# scope for anything about pain: `required_scopes`).
TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    CHECKIN_CREATED: ("A check-in (run, pain report or exercise session) was recorded.",
                      (s.CHECKINS_READ,)),
    CHECKIN_UPDATED: ("A check-in was changed.", (s.CHECKINS_READ,)),
    CHECKIN_DELETED: ("A check-in was deleted (its link now answers 410).", (s.CHECKINS_READ,)),
    WARNING_RUN_SPIKE: ("A run was longer than the longest of the 30 days before it.",
                        (s.NOTIFICATIONS_READ,)),
    WARNING_WEEKLY_JUMP: ("A week's distance jumped past the threshold.",
                          (s.NOTIFICATIONS_READ,)),
    WARNING_SHOE: ("A pair of shoes is due an inspection, a replacement or a rotation.",
                   (s.NOTIFICATIONS_READ,)),
    WARNING_TRIAGE: ("A pain check-in set a new triage tier (apps need the pain scope too).",
                     (s.NOTIFICATIONS_READ,)),
    SHOE_STATUS_CHANGED: ("A pair of shoes moved to another status (ok, inspect, plan, "
                          "replace, retired).", (s.SHOES_READ,)),
    IMPORT_FINISHED: ("A file import finished (done or failed).", (s.CHECKINS_READ,)),
    COACH_LINK_CREATED: ("A coach link was made (you accepted a coach, or an athlete you "
                         "coach accepted you).", (s.PROFILE_READ,)),
    COACH_LINK_UPDATED: ("The grants of a coach link changed.", (s.PROFILE_READ,)),
    COACH_LINK_DELETED: ("A coach link ended.", (s.PROFILE_READ,)),
    PLAN_CHANGED: ("Planned runs were created, changed or removed, by the athlete or their "
                   "coach (one event a write, with the days it spans).", (s.PLAN_READ,)),
    WARNING_PLAN_PREFLIGHT: ("Tomorrow's planned run is flagged: longer than the last 30 days' "
                             "longest, or its week jumps.", (s.NOTIFICATIONS_READ,)),
}
ALL_TYPES: tuple[str, ...] = tuple(TYPES)
# A notification kind's warning event: by its kind, else by its prefix.
WARNING_OF_KIND = {"run_spike": WARNING_RUN_SPIKE, "weekly_jump": WARNING_WEEKLY_JUMP,
                   "plan_preflight": WARNING_PLAN_PREFLIGHT}
WARNING_OF_PREFIX = {"shoe_": WARNING_SHOE, "pain_": WARNING_TRIAGE}
PAIN_NOTIFICATION_PREFIX = "pain_"
MAX_PAYLOAD_BYTES = 20 * 1024
# What an app must also hold for anything about pain (the apps' sensitive scope).
PAIN_SCOPE = "pain:read"


@dataclass(frozen=True)
class NewEvent:
    """An event about to be written: whose it is, its type and its thin data."""

    athlete_id: uuid.UUID
    type: str
    data: dict[str, Any]
    pain: bool = False  # about pain: an app needs the pain scope too
    due_at: datetime | None = None  # not before (a warning waits for the athlete's quiet hours)
    needs: tuple[str, ...] | None = None  # instead of the type's scopes (a coach's side)

    @property
    def scopes(self) -> list[str]:
        return required_scopes(self.type, pain=self.pain, needs=self.needs)


def required_scopes(event_type: str, *, pain: bool = False,
                    needs: tuple[str, ...] | None = None) -> list[str]:
    needed = list(TYPES[event_type][1] if needs is None else needs)
    if pain:
        needed.append(PAIN_SCOPE)
    return needed


def covered(needed: list[str], held: frozenset[str] | set[str]) -> bool:
    """Whether an app holding `held` for an athlete may be sent an event needing `needed`."""
    return all(scope in held for scope in needed)


def new_id() -> str:
    """A webhook-id: unique, opaque, the same on every attempt of one event."""
    return "msg_" + secrets.token_urlsafe(18)


def payload(event_type: str, data: dict[str, Any], at: datetime) -> dict[str, Any]:
    """The body, as the Standard Webhooks spec shapes it: type, timestamp, data."""
    return {"type": event_type, "timestamp": rfc3339(at), "data": data}


def warning_type(kind: str) -> str | None:
    """The event a notification of this kind is, or None (a stretch reminder is no warning)."""
    if kind in WARNING_OF_KIND:
        return WARNING_OF_KIND[kind]
    return next((event for prefix, event in WARNING_OF_PREFIX.items()
                 if kind.startswith(prefix)), None)


# --- Each event's data ---------------------------------------------------------------------

def checkin(event_type: str, athlete_id: uuid.UUID, checkin_id: uuid.UUID, kind: str
            ) -> NewEvent:
    return NewEvent(athlete_id, event_type, {
        "athlete_id": str(athlete_id), "checkin_id": str(checkin_id), "kind": kind,
        "url": f"/v1/checkins/{checkin_id}"}, pain=kind == "pain")


def warning(athlete_id: uuid.UUID, notification_id: uuid.UUID, kind: str,
            refers_to: dict[str, str], due_at: datetime) -> NewEvent | None:
    event_type = warning_type(kind)
    if event_type is None:
        return None
    data = {"athlete_id": str(athlete_id), "notification_id": str(notification_id),
            "kind": kind, "url": "/v1/notifications", **refers_to}
    return NewEvent(athlete_id, event_type, data,
                    pain=kind.startswith(PAIN_NOTIFICATION_PREFIX), due_at=due_at)


def shoe_status(athlete_id: uuid.UUID, shoe_id: uuid.UUID, status: str, previous: str
                ) -> NewEvent:
    return NewEvent(athlete_id, SHOE_STATUS_CHANGED, {
        "athlete_id": str(athlete_id), "shoe_id": str(shoe_id), "status": status,
        "previous_status": previous, "url": f"/v1/shoes/{shoe_id}"})


def import_finished(athlete_id: uuid.UUID, import_id: uuid.UUID, status: str) -> NewEvent:
    return NewEvent(athlete_id, IMPORT_FINISHED, {
        "athlete_id": str(athlete_id), "import_id": str(import_id), "status": status,
        "url": f"/v1/imports/{import_id}"})


def coach_link(event_type: str, athlete_id: uuid.UUID, coach_id: uuid.UUID) -> list[NewEvent]:
    """One event for each side: the athlete's (a link to their coaches) and the coach's."""
    ids = {"athlete_id": str(athlete_id), "coach_id": str(coach_id)}
    return [
        NewEvent(athlete_id, event_type, {**ids, "role": "athlete", "url": "/v1/me/coaches"}),
        NewEvent(coach_id, event_type, {**ids, "role": "coach", "url": "/v1/coach/athletes"},
                 needs=(s.COACH_READ,)),
    ]


def plan_changed(athlete_id: uuid.UUID, first: date, last: date, *, created: int, updated: int,
                 removed: int, coach_id: uuid.UUID | None) -> NewEvent:
    """Counts and the days spanned, not the ids: a 16-week plan is one write and one event, and
    its link lists exactly the stretch that changed."""
    return NewEvent(athlete_id, PLAN_CHANGED, {
        "athlete_id": str(athlete_id), "first_date": first.isoformat(),
        "last_date": last.isoformat(), "created": created, "updated": updated,
        "removed": removed, "by": "coach" if coach_id else "athlete",
        "coach_id": str(coach_id) if coach_id else None,
        "url": f"/v1/plan?from={first.isoformat()}&to={last.isoformat()}"})
