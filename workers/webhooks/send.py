"""Claim, sign, send, record: the loop webhooks.deliver and webhooks.sweep share.

Each claimed batch is committed before any request is made; the requests go out from a pool of
threads (`BACKSTRIDE_WEBHOOK_CONCURRENCY`), and each answer is recorded and committed as it comes
back (those back at the same moment together, in one commit and a fixed number of statements),
so a worker killed mid-batch sends again only what was on the wire or just answered (under the
same webhook-id).
An endpoint that cannot be reached (refused, timed out) in a batch is not tried again in that
batch: its other deliveries go back unsent, so one dead endpoint costs a batch one timeout, not
one per delivery.

Requests go through `workers.push.guard.guarded_client`: https only, every resolved address
checked as it connects, no redirects, nothing from the environment; only the first
`rules.MAX_ANSWER_BYTES` of an answer are read.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import datetime

import httpx
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from service.clock import utcnow
from service.db import commit_without_waiting_for_disk
from service.domain.webhooks import deliveries, rules
from service.domain.webhooks.secrets import Sealer

log = logging.getLogger(__name__)
USER_AGENT = "Backstride-Webhooks/1"
BATCH = 200


def signature(secrets: list[str], event_id: str, at: datetime, body: str) -> str:
    """The webhook-signature header: one `v1,<base64>` per secret (two during a rotation)."""
    return " ".join(Webhook(secret).sign(event_id, at, body) for secret in secrets)


def headers(item: deliveries.Claimed, at: datetime) -> dict[str, str]:
    return {"webhook-id": item.event_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signature(item.secrets, item.event_id, at, item.body),
            "content-type": "application/json", "user-agent": USER_AGENT}


def post(client: httpx.Client, item: deliveries.Claimed) -> rules.Answer:
    """One request; whatever happens, an Answer (an error is a failed attempt, not a crash)."""
    started = time.monotonic()
    at = utcnow()
    try:
        with client.stream("POST", item.url, content=item.body.encode(),
                           headers=headers(item, at)) as response:
            read = 0
            for chunk in response.iter_raw():
                read += len(chunk)
                if read >= rules.MAX_ANSWER_BYTES:
                    break
            return rules.Answer(response.status_code,
                                retry_after_s=rules.retry_after(
                                    response.headers.get("retry-after"), utcnow()),
                                duration_ms=_ms(started))
    except httpx.TimeoutException:
        return rules.Answer(None, "timed out", duration_ms=_ms(started))
    except httpx.HTTPError as error:
        # Said without our network's details: a refused address is named as such, nothing more.
        detail = ("the address it resolves to is not one we send to"
                  if "refused address" in str(error) else "could not connect")
        return rules.Answer(None, detail, duration_ms=_ms(started))
    except Exception:
        log.exception("webhook %s to endpoint %s raised", item.event_id, item.endpoint_id)
        return rules.Answer(None, "could not be sent (an error on our side)",
                            duration_ms=_ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _attempt(client: httpx.Client, unreachable: set[uuid.UUID],
             item: deliveries.Claimed) -> rules.Answer | None:
    if item.endpoint_id in unreachable:
        return None  # not tried: it goes back, its attempt not counted
    answer = post(client, item)
    if answer.status_code is None:
        unreachable.add(item.endpoint_id)
    return answer


def send_due(session: Session, client: httpx.Client, sealer: Sealer, *, concurrency: int = 8,
             batch: int = BATCH, delivery_ids: list[uuid.UUID] | None = None,
             on_recorded: Callable[[str], None] | None = None) -> dict[str, int]:
    """Send what is due, a claimed batch at a time; returns how many ended in each status."""
    counts: dict[str, int] = {}
    with ThreadPoolExecutor(max_workers=concurrency,
                            thread_name_prefix="webhook") as pool:
        while True:
            claimed = deliveries.claim(session, sealer, utcnow(), limit=batch,
                                       delivery_ids=delivery_ids)
            session.commit()
            if not claimed:
                return counts
            unreachable: set[uuid.UUID] = set()
            pending = {pool.submit(_attempt, client, unreachable, item): item
                       for item in claimed}
            skipped = []
            while pending:
                # Every answer that is in, recorded and committed together: as soon as any is
                # back, without waiting for the rest of the batch.
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                answered = []
                for future in done:
                    item, answer = pending.pop(future), future.result()
                    if answer is None:
                        skipped.append(item.delivery_id)
                    else:
                        answered.append((item, answer))
                recorded = deliveries.record_all(session, answered, utcnow())
                commit_without_waiting_for_disk(session)
                for status in recorded:
                    counts[status] = counts.get(status, 0) + 1
                    if on_recorded is not None:
                        on_recorded(status)
            deliveries.release(session, skipped)
            session.commit()
            if delivery_ids is not None:
                return counts
