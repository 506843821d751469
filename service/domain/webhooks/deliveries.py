"""Claiming due deliveries, recording what came of them, redelivering, and the delivery log.

A delivery is claimed (`pending` to `sending`, attempts + 1) and committed before the request is
made, so a second sweep finds nothing to claim; its answer is recorded after. A worker killed in
between leaves it `sending`: `release_stuck` puts it back after a while, and it is sent again
under the same webhook-id, which is how a receiver knows a repeat (at least once, never lost).
A delivery for an app's endpoint is sent only while the athlete's grant still covers its event:
once access ends, it is cancelled instead.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, insert, select, update
from sqlalchemy.orm import Session

from service.domain.errors import Invalid, NotFound
from service.domain.notify import notifications
from service.domain.webhooks import access, endpoints, events, outbox, rules
from service.domain.webhooks import secrets as secret_keys
from service.models.webhooks import (
    CANCELLED,
    DELIVERED,
    FAILED,
    PENDING,
    SENDING,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

STUCK_AFTER = timedelta(seconds=60)  # longer than one request may take (rules.TIMEOUT_S)
KEEP_EVENTS = timedelta(days=30)  # what can be replayed; older events are purged
MAX_REPLAY = timedelta(days=30)
DISABLED_KIND = "webhook_disabled"


@dataclass(frozen=True)
class Claimed:
    """One request to make: where, what, signed with which secrets, and which attempt it is."""

    delivery_id: uuid.UUID
    endpoint_id: uuid.UUID
    event_id: str
    url: str
    body: str
    secrets: list[str]
    attempt: int
    failing: bool = False  # the endpoint was failing when claimed: a success clears it


def body_of(event: WebhookEvent) -> str:
    """The exact text sent and signed: the same for every attempt of the event."""
    return json.dumps(event.payload, separators=(",", ":"), sort_keys=True)


def claim(session: Session, sealer: secret_keys.Sealer, now: datetime, *, limit: int = 100,
          delivery_ids: list[uuid.UUID] | None = None) -> list[Claimed]:
    """Take due deliveries for sending; the caller commits before making any request."""
    statement = (select(WebhookDelivery).where(WebhookDelivery.status == PENDING,
                                               WebhookDelivery.next_attempt_at <= now)
                 .order_by(WebhookDelivery.next_attempt_at).limit(limit)
                 .with_for_update(skip_locked=True))
    if delivery_ids is not None:
        statement = statement.where(WebhookDelivery.id.in_(delivery_ids))
    rows = list(session.scalars(statement))
    if not rows:
        return []
    found_events = {e.id: e for e in session.scalars(select(WebhookEvent).where(
        WebhookEvent.id.in_({r.event_id for r in rows})))}
    found_endpoints = {e.id: e for e in session.scalars(select(WebhookEndpoint).where(
        WebhookEndpoint.id.in_({r.endpoint_id for r in rows})))}
    apps_of = access.app_scopes(session, {
        found_events[r.event_id].athlete_id for r in rows
        if found_endpoints[r.endpoint_id].app_id is not None}, now)
    claimed = []
    for delivery in rows:
        event, endpoint = found_events[delivery.event_id], found_endpoints[delivery.endpoint_id]
        if endpoint.disabled_at is not None:
            delivery.status, delivery.last_error = CANCELLED, "endpoint disabled"
            continue
        if endpoint.app_id is not None:
            held = apps_of.get(event.athlete_id, {}).get(endpoint.app_id)
            if held is None or not events.covered(event.scopes, held):
                delivery.status, delivery.last_error = CANCELLED, "the athlete's grant ended"
                continue
        delivery.status, delivery.attempts = SENDING, delivery.attempts + 1
        delivery.next_attempt_at = delivery.last_attempt_at = now
        claimed.append(Claimed(delivery.id, endpoint.id, event.id, endpoint.url, body_of(event),
                               endpoints.signing_secrets(endpoint, sealer, now),
                               delivery.attempts, endpoint.failing_since is not None))
    session.flush()
    return claimed


def started(session: Session, delivery_id: uuid.UUID, now: datetime) -> None:
    """Stamp a claimed delivery as being sent now: `release_stuck` measures from this."""
    session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id,
                                                  WebhookDelivery.status == SENDING)
                    .values(next_attempt_at=now))


def record_all(session: Session, answered: list[tuple[Claimed, rules.Answer]],
               now: datetime) -> list[str]:
    """Store the answers that came back together; returns each delivery's new status.

    The sender records from one thread while eight send, so what it costs per answer bounds the
    rate: delivered answers, the common case, are stored in a fixed number of statements however
    many there are (their attempts in one multi-row insert, the deliveries in one update per
    status code), the others one by one as `record` does.
    """
    delivered = [(item, answer) for item, answer in answered
                 if answer.verdict == rules.DELIVERED]
    statuses = [record(session, item, answer, now) for item, answer in answered
                if answer.verdict != rules.DELIVERED]
    if not delivered:
        return statuses
    session.execute(insert(WebhookAttempt), [_attempt_row(item, answer, now)
                                             for item, answer in delivered])
    by_code: dict[int | None, list[uuid.UUID]] = {}
    for item, answer in delivered:
        by_code.setdefault(answer.status_code, []).append(item.delivery_id)
    for code, ids in by_code.items():
        session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(ids))
                        .values(status=DELIVERED, delivered_at=now, last_status_code=code,
                                last_error=None)
                        .execution_options(synchronize_session=False))
    recovered = {item.endpoint_id for item, _ in delivered if item.failing}
    if recovered:
        session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id.in_(recovered))
                        .values(failing_since=None)
                        .execution_options(synchronize_session=False))
    return statuses + [DELIVERED] * len(delivered)


def _error_of(answer: rules.Answer) -> str | None:
    error = (answer.error or (f"answered {answer.status_code}"
                              if answer.verdict != rules.DELIVERED else None))
    return error and error[:200]


def _attempt_row(item: Claimed, answer: rules.Answer, now: datetime) -> dict[str, object]:
    verdict = answer.verdict
    return {"id": uuid.uuid4(), "delivery_id": item.delivery_id,
            "endpoint_id": item.endpoint_id, "event_id": item.event_id,
            "attempt": item.attempt, "at": now,
            "status": verdict if verdict != rules.RETRY else "failed",
            "status_code": answer.status_code, "error": _error_of(answer),
            "duration_ms": answer.duration_ms}


def record(session: Session, item: Claimed, answer: rules.Answer, now: datetime) -> str:
    """Store the attempt and its answer; returns the delivery's new status. A 410, or five days
    of nothing but failures, disables the endpoint and tells its owner."""
    verdict, error = answer.verdict, _error_of(answer)
    session.execute(insert(WebhookAttempt).values(**_attempt_row(item, answer, now)))
    if verdict == rules.DELIVERED:  # the common case, in two statements without a read
        session.execute(update(WebhookDelivery).where(WebhookDelivery.id == item.delivery_id)
                        .values(status=DELIVERED, delivered_at=now,
                                last_status_code=answer.status_code, last_error=None)
                        .execution_options(synchronize_session=False))
        if item.failing:
            session.execute(update(WebhookEndpoint).where(
                WebhookEndpoint.id == item.endpoint_id).values(failing_since=None)
                .execution_options(synchronize_session=False))
        return DELIVERED
    delivery = session.get(WebhookDelivery, item.delivery_id)
    delivery.last_status_code, delivery.last_error = answer.status_code, error
    endpoint = session.get(WebhookEndpoint, item.endpoint_id)
    if verdict == rules.GONE:
        delivery.status = FAILED
        if endpoint.disabled_at is None:
            endpoints.disable(session, endpoint, endpoints.GONE_REASON, now)
            _tell_owner(session, endpoint, now)
        return FAILED
    delay = rules.next_delay_s(delivery.attempts, answer.retry_after_s)
    if delay is None:
        delivery.status = FAILED
    else:
        delivery.status, delivery.next_attempt_at = PENDING, now + timedelta(seconds=delay)
    if endpoint.failing_since is None:
        endpoint.failing_since = now
    elif rules.should_disable(endpoint.failing_since, now) and endpoint.disabled_at is None:
        endpoints.disable(session, endpoint, endpoints.FAILING_REASON, now)
        _tell_owner(session, endpoint, now)
        if delivery.status == PENDING:
            delivery.status = CANCELLED
    return delivery.status


def release(session: Session, delivery_ids: list[uuid.UUID]) -> None:
    """Put back claimed deliveries that were not sent after all (their attempt not counted)."""
    if delivery_ids:
        session.execute(update(WebhookDelivery).where(
            WebhookDelivery.id.in_(delivery_ids), WebhookDelivery.status == SENDING)
            .values(status=PENDING, attempts=WebhookDelivery.attempts - 1))


def release_stuck(session: Session, now: datetime, stuck_after: timedelta = STUCK_AFTER) -> int:
    """Put back deliveries whose worker died between claiming and recording; one that had all
    its attempts fails instead (a request that kills its worker every time must end)."""
    stuck = (WebhookDelivery.status == SENDING) & (
        WebhookDelivery.next_attempt_at <= now - stuck_after)
    session.execute(update(WebhookDelivery).where(
        stuck, WebhookDelivery.attempts >= rules.MAX_ATTEMPTS)
        .values(status=FAILED, last_error="the worker sending it stopped"))
    return session.execute(update(WebhookDelivery).where(stuck).values(
        status=PENDING, next_attempt_at=now)).rowcount


def purge(session: Session, now: datetime) -> int:
    """Forget events older than KEEP_EVENTS that nothing is still trying to send."""
    live = select(WebhookDelivery.event_id).where(WebhookDelivery.status.in_((PENDING, SENDING)))
    return session.execute(delete(WebhookEvent).where(
        WebhookEvent.created_at < now - KEEP_EVENTS, WebhookEvent.id.not_in(live))
        .execution_options(synchronize_session=False)).rowcount


# --- The owner's side ----------------------------------------------------------------------

def log(endpoint: WebhookEndpoint) -> Select[tuple[WebhookDelivery, WebhookEvent]]:
    """The endpoint's deliveries, with the event each carries (newest first when paged)."""
    return (select(WebhookDelivery, WebhookEvent)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.endpoint_id == endpoint.id))


def attempts(endpoint: WebhookEndpoint) -> Select[tuple[WebhookAttempt]]:
    return select(WebhookAttempt).where(WebhookAttempt.endpoint_id == endpoint.id)


def redeliver(session: Session, endpoint: WebhookEndpoint, event_id: str,
              now: datetime) -> WebhookDelivery:
    """Send one event to the endpoint again, now, with a fresh schedule and the same id."""
    _check_enabled(endpoint)
    delivery = session.scalar(select(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.event_id == event_id))
    if delivery is None:
        raise NotFound("This endpoint was never sent that event.")
    if delivery.status != SENDING:
        delivery.status, delivery.attempts, delivery.next_attempt_at = PENDING, 0, now
    session.info[outbox.DUE] = True
    return delivery


def replay(session: Session, endpoint: WebhookEndpoint, since: datetime, until: datetime,
           now: datetime, *, everything: bool = False) -> int:
    """Send again every event of a period that did not get through (or, with `everything`,
    every one), oldest first; returns how many."""
    _check_enabled(endpoint)
    if not since < until or until - since > MAX_REPLAY:
        raise Invalid(f"Replay a period of at most {MAX_REPLAY.days} days, `since` before "
                      "`until`.", field="since")
    statuses = (FAILED, CANCELLED, DELIVERED) if everything else (FAILED, CANCELLED)
    in_period = select(WebhookEvent.id).where(WebhookEvent.created_at >= since,
                                              WebhookEvent.created_at < until)
    count = session.execute(update(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status.in_(statuses),
        WebhookDelivery.event_id.in_(in_period))
        .values(status=PENDING, attempts=0, next_attempt_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if count:
        session.info[outbox.DUE] = True
    return count


def _check_enabled(endpoint: WebhookEndpoint) -> None:
    if endpoint.disabled_at is not None:
        raise Invalid("This endpoint is disabled; enable it first.", field="enabled")


def _tell_owner(session: Session, endpoint: WebhookEndpoint, now: datetime) -> None:
    owner = notifications.recipients(session, [endpoint.owner_id], now).get(endpoint.owner_id)
    if owner is None:
        return
    host = endpoint.url.split("//", 1)[-1].split("/", 1)[0]
    if endpoint.disabled_reason == endpoints.GONE_REASON:
        why = "it answered 410 Gone, which says it no longer wants them"
    else:
        why = "every attempt to reach it has failed for five days"
    notifications.write(session, [notifications.Draft(
        endpoint.owner_id, DISABLED_KIND,
        f"{DISABLED_KIND}:{endpoint.id}:{now.isoformat()}",
        "A webhook endpoint was turned off",
        f"Backstride stopped sending webhooks to {host}: {why}. Fix it, turn it back on and "
        "replay what it missed.", owner.deliver_after,
        {"rule": DISABLED_KIND, "endpoint_id": str(endpoint.id), "url": endpoint.url,
         "reason": endpoint.disabled_reason})], now)
