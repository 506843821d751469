"""Pain check-ins as they arrive: triage at once, a notification for a new tier, the active tier.

The triage is stored on the check-in it was made for. The athlete's *active* tier is the tier of
their latest pain check-in, so a newer check-in without the triggers clears it and deleting the
latest one brings back the one before. While a tier is active, advice to run more and stretch
reminders stop (docs/design.md, "Pain triage").
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from service.db.bulk import among
from service.domain.notify import notifications
from service.domain.notify.rules import listed
from service.domain.pain import messages
from service.domain.pain import rules as triage
from service.domain.webhooks import outbox
from service.models import Account, Checkin, Notification

QUESTIONS = (*triage.EMERGENCY_FLAGS, *triage.URGENT_FLAGS, *triage.INFLAMMATORY_FEATURES)
NUMBERS = ("onset_age", "had_pain_for_weeks")  # answers that are numbers, not yes or no
# Emergency and urgent advice cannot wait for the morning; the rest respects quiet hours.
IMMEDIATE = (triage.EMERGENCY, triage.URGENT)
# A check-in recorded longer ago than this (a phone syncing a backlog, an import) is triaged and
# stored, but a notification about it would arrive too late to be advice.
NOTIFY_WITHIN = timedelta(days=7)
# Every pain notification's kind is this and its tier (`pain_emergency`, ...).
NOTIFICATION_PREFIX = "pain_"


@dataclass(frozen=True)
class Written:
    """The triage of a check-in just written, and the notification it raised, if any."""

    checkin_id: uuid.UUID
    triage: triage.Triage
    notification_id: uuid.UUID | None = None
    immediate: bool = False


@dataclass(frozen=True)
class ActiveTier:
    tier: str
    triggers: tuple[str, ...]
    checkin_id: uuid.UUID
    recorded_at: datetime

    @property
    def reason(self) -> str:
        told = listed([messages.TRIGGER_TEXT[name] for name in self.triggers])
        return (f"Advice to run more is paused while your latest pain check-in shows {told} "
                f"(\"{messages.TRIAGE_ADVICE[self.tier][0]}\"). A newer check-in without "
                f"these clears it.")


def report_of(row: Any) -> triage.Report:
    """A triage report from a check-in row (or its values)."""
    answers = row.answers or {}
    return triage.Report(
        on=row.local_date, location=row.location, severity=row.severity,
        radiates=row.radiates, timing=row.timing,
        **{name: answers.get(name) for name in (*QUESTIONS, *NUMBERS)})


def age_in(year: int, birth_year: int | None) -> int | None:
    """The age reached in a calendar year: the profile holds a birth year, not a birthday."""
    return None if birth_year is None else year - birth_year


def triage_written(session: Session, athlete: Account, checkins: Sequence[Any],
                   now: datetime) -> dict[uuid.UUID, Written]:
    """Triage the pain check-ins just written, store it on them, and notify a new tier.

    `checkins` are the rows (or new values) just created or updated; the athlete's other pain
    check-ins, already flushed, are their history.
    """
    written = sorted((c for c in checkins if c.kind == "pain"), key=lambda c: c.occurred_at)
    if not written:
        return {}
    history = _history(session, athlete.id)
    latest_id = history[-1].id if history else None
    results: dict[uuid.UUID, Written] = {}
    recipient = notifications.recipients(session, [athlete.id], now)[athlete.id]
    drafts: list[tuple[uuid.UUID, notifications.Draft]] = []
    tiers: dict[uuid.UUID, str | None] = {row.id: row.triage_tier for row in history}
    for checkin in written:
        before = [row for row in history if (row.occurred_at, str(row.id))
                  < (checkin.occurred_at, str(checkin.id))]
        result = triage.assess(report_of(checkin), [report_of(row) for row in before],
                               age_in(checkin.local_date.year, athlete.birth_year))
        tiers[checkin.id] = result.tier
        previous = tiers.get(before[-1].id) if before else None
        draft = _draft(athlete, recipient, checkin, result, previous, latest_id, now)
        if draft is not None:
            drafts.append((checkin.id, draft))
        results[checkin.id] = Written(checkin.id, result)
    _store(session, [(checkin_id, results[checkin_id].triage) for checkin_id in results])
    for checkin in written:  # what the response shows; the rows are written already
        result = results[checkin.id].triage
        if isinstance(checkin, Checkin):
            set_committed_value(checkin, "triage_tier", result.tier)
            set_committed_value(checkin, "triage_triggers", list(result.triggers))
        else:
            checkin.triage_tier, checkin.triage_triggers = result.tier, list(result.triggers)
    if drafts:
        written = notifications.write_new(session, [draft for _, draft in drafts], now)
        outbox.warnings(session, written, now)
        ids = _notification_ids(session, athlete.id, [d.dedupe_key for _, d in drafts])
        for checkin_id, draft in drafts:
            tier = results[checkin_id].triage
            results[checkin_id] = Written(checkin_id, tier, ids.get(draft.dedupe_key),
                                          tier.tier in IMMEDIATE)
    return results


_LATEST = Checkin.__table__.alias("latest")


def active(session: Session, athlete_ids: Collection[uuid.UUID],
           before: datetime | None = None) -> dict[uuid.UUID, ActiveTier]:
    """Each athlete's active tier (from their latest pain check-in before a moment, else now),
    in one query; athletes with none are left out."""
    # Driven from the athletes, each latest pain check-in found by the (athlete, kind, time)
    # index, rather than a grouped max over every pain check-in they ever logged.
    c, account, p = Checkin.__table__.c, Account.__table__.c, _LATEST.c
    latest_at = (select(func.max(p.occurred_at))
                 .where(p.athlete_id == account.id, p.kind == "pain", p.deleted_at.is_(None),
                        *([p.occurred_at < before] if before else []))
                 .scalar_subquery())
    rows = session.connection().execute(
        select(c.athlete_id, c.id, c.occurred_at, c.triage_tier, c.triage_triggers)
        .select_from(Account.__table__)
        .join(Checkin.__table__, (c.athlete_id == account.id) & (c.occurred_at == latest_at))
        .where(among(session, account.id, athlete_ids), c.kind == "pain",
               c.deleted_at.is_(None))
        .order_by(c.id))
    found: dict[uuid.UUID, ActiveTier] = {}
    for athlete_id, checkin_id, at, tier, triggers in rows:
        if tier and tier != triage.NONE:
            found[athlete_id] = ActiveTier(tier, tuple(triggers or ()), checkin_id, at)
        else:
            found.pop(athlete_id, None)
    return found


def _history(session: Session, athlete_id: uuid.UUID) -> list[Any]:
    c = Checkin.__table__.c
    return list(session.connection().execute(
        select(c.id, c.kind, c.occurred_at, c.local_date, c.location, c.severity, c.radiates,
               c.timing, c.answers, c.triage_tier)
        .where(c.athlete_id == athlete_id, c.kind == "pain", c.deleted_at.is_(None))
        .order_by(c.occurred_at, c.id)))


def _draft(athlete: Account, recipient: notifications.Recipient, checkin: Any,
           result: triage.Triage, previous: str | None, latest_id: uuid.UUID | None,
           now: datetime) -> notifications.Draft | None:
    """A notification for a tier worth telling about now; none for old news or the same tier."""
    if result.tier == triage.NONE or now - checkin.occurred_at > NOTIFY_WITHIN:
        return None
    if latest_id is not None and checkin.id != latest_id:
        return None  # a backfilled check-in: the latest one speaks for now
    if result.tier not in IMMEDIATE and previous == result.tier:
        return None  # still the same tier: told already when it began
    title, body, data = messages.pain_triage(result)
    data["checkin_id"] = str(checkin.id)
    kind = NOTIFICATION_PREFIX + result.tier
    return notifications.Draft(
        athlete.id, kind, f"{kind}:{checkin.id}", title, body,
        now if result.tier in IMMEDIATE else recipient.deliver_after, data)


def _store(session: Session, results: list[tuple[uuid.UUID, triage.Triage]]) -> None:
    c = Checkin.__table__.c
    session.connection().execute(
        update(Checkin.__table__).where(c.id == bindparam("checkin_id"))
        .values(triage_tier=bindparam("tier"), triage_triggers=bindparam("triggers")),
        [{"checkin_id": checkin_id, "tier": result.tier, "triggers": list(result.triggers)}
         for checkin_id, result in results])


def _notification_ids(session: Session, athlete_id: uuid.UUID,
                      keys: list[str]) -> dict[str, uuid.UUID]:
    rows = session.execute(select(Notification.dedupe_key, Notification.id).where(
        Notification.athlete_id == athlete_id, Notification.dedupe_key.in_(keys)))
    return {key: notification_id for key, notification_id in rows}


def triage_answer(checkin: Any) -> dict[str, Any] | None:
    """A pain check-in's stored triage as the athlete reads it; None for other kinds."""
    tier = getattr(checkin, "triage_tier", None)
    if checkin.kind != "pain" or tier is None:
        return None
    result = triage.Triage(tier, tuple(checkin.triage_triggers or ()))
    if tier == triage.NONE:
        return {"tier": tier, "triggers": [], "title": None, "advice": None}
    title, body, _ = messages.pain_triage(result)
    return {"tier": tier, "triggers": list(result.triggers), "title": title, "advice": body}
