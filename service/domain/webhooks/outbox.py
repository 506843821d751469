"""Writing events in the transaction of the change that caused them: the outbox.

`emit` finds, in two queries for any number of athletes, the enabled endpoints that want each
event (the athlete's own, and those of apps the athlete granted the scopes covering it), and
inserts the event with one pending delivery per endpoint. Nothing is written when no endpoint
wants it. The change and its events commit together or not at all, so an event is never lost
and never tells of a change that was rolled back; the sender finds the deliveries by their due
time. `session.info[DUE]` tells the API to hint the sender once it has committed.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from service.db.bulk import among, insert_ignoring_conflicts
from service.domain.notify import notifications
from service.domain.webhooks import access, events
from service.models.webhooks import PENDING, WebhookDelivery, WebhookEndpoint, WebhookEvent

DUE = "backstride_webhooks_due"  # session.info key: deliveries were written, hint the sender


Subscribers = dict[uuid.UUID, list[tuple[WebhookEndpoint, frozenset[str] | None]]]


def subscribers(session: Session, athlete_ids: Collection[uuid.UUID], now: datetime
                ) -> Subscribers:
    """Each athlete's enabled endpoints, with the scopes an app's endpoint holds for them (None
    for the athlete's own endpoints, which get everything of theirs)."""
    found: dict[uuid.UUID, list[tuple[WebhookEndpoint, frozenset[str] | None]]] = \
        defaultdict(list)
    if not athlete_ids:
        return found
    # One statement for the usual answer (no endpoint, or only the athlete's own): the grant
    # scopes are read only when an app that the athletes authorised has an endpoint.
    e = WebhookEndpoint
    endpoints = session.scalars(select(e).where(e.disabled_at.is_(None), or_(
        and_(among(session, e.owner_id, athlete_ids), e.app_id.is_(None)),
        e.app_id.in_(access.granting_apps(athlete_ids, now))))).all()
    by_app: dict[uuid.UUID, list[WebhookEndpoint]] = defaultdict(list)
    for endpoint in endpoints:
        if endpoint.app_id is None:
            found[endpoint.owner_id].append((endpoint, None))
        else:
            by_app[endpoint.app_id].append(endpoint)
    if by_app:
        for athlete_id, granted in access.app_scopes(session, athlete_ids, now).items():
            for app_id, held in granted.items():
                found[athlete_id] += [(endpoint, held) for endpoint in by_app.get(app_id, ())]
    return found


def listening(session: Session, athlete_ids: Collection[uuid.UUID], event_type: str,
              now: datetime, found: Subscribers | None = None) -> set[uuid.UUID]:
    """The athletes some endpoint wants `event_type` of (before working out the events).

    `found`: what `subscribers` answered for these athletes in this transaction already (a
    check-in write tells of the check-in and of its shoes' status: one look-up for both).
    """
    if found is None:
        found = subscribers(session, athlete_ids, now)
    return {athlete_id for athlete_id, endpoints in found.items()
            if athlete_id in athlete_ids
            and any(event_type in endpoint.event_types for endpoint, _ in endpoints)}


def emit(session: Session, new_events: Sequence[events.NewEvent], now: datetime,
         found: Subscribers | None = None) -> int:
    """Write the events some endpoint wants, with their deliveries; returns how many events.

    `found` as for `listening`: the subscribers of these events' athletes, already looked up.
    """
    if not new_events:
        return 0
    wanted = found if found is not None else subscribers(
        session, {event.athlete_id for event in new_events}, now)
    event_rows, delivery_rows = [], []
    for event in new_events:
        targets = [endpoint for endpoint, held in wanted.get(event.athlete_id, ())
                   if event.type in endpoint.event_types
                   and (held is None or events.covered(event.scopes, held))]
        if not targets:
            continue
        event_id = events.new_id()
        event_rows.append({"id": event_id, "athlete_id": event.athlete_id, "type": event.type,
                           "payload": events.payload(event.type, event.data, now),
                           "scopes": event.scopes, "created_at": now})
        due = max(now, event.due_at) if event.due_at else now
        delivery_rows += [{"id": uuid.uuid4(), "event_id": event_id, "endpoint_id": endpoint.id,
                           "status": PENDING, "attempts": 0, "next_attempt_at": due,
                           "created_at": now} for endpoint in targets]
    if not event_rows:
        return 0
    insert_ignoring_conflicts(session, WebhookEvent.__table__, event_rows, None)
    insert_ignoring_conflicts(session, WebhookDelivery.__table__, delivery_rows, None)
    session.info[DUE] = True
    return len(event_rows)


# What a warning's event names besides the notification, from its data.
_REFERS_TO = ("run_id", "shoe_id", "checkin_id", "planned_run_id")


def warnings(session: Session, written: Sequence[notifications.Written], now: datetime) -> int:
    """The warning events of notifications just written (a stretch reminder is none), due when
    the notification is: after the athlete's quiet hours, when the inbox shows it."""
    new = []
    for item in written:
        draft = item.draft
        refers_to = {key: str(draft.data[key]) for key in _REFERS_TO if key in draft.data}
        event = events.warning(draft.athlete_id, item.id, draft.kind, refers_to,
                               draft.deliver_after)
        if event is not None:
            new.append(event)
    return emit(session, new, now)
