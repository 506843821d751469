"""Stretch reminders after runs: the sweep beat runs every minute.

Conventions (C), docs/design.md, "Stretch reminders": remind 10 minutes after a run ends if it
arrived within 60 minutes of its end and no exercise check-in came after it; a run synced later
gets one evening nudge before quiet hours, at most one a day; at most one reminder per run.
A reminder due inside quiet hours waits until they end, except one caused by the athlete's own
app syncing the run just now (it arrived after the reminder was due, within `FRESH_SYNC`): the
runner whose 05:50 run synced at 06:05 has the phone in hand now, and at 07:00 has left.
Nothing while a pain triage tier is active (the latest pain check-in's; severity 7 or more is one
of its triggers). The routine comes from the athlete's pain locations of the last 14 days.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.bulk import among
from service.domain.notify import notifications
from service.domain.pain import tiers as pain
from service.domain.stretch import rules as stretch
from service.models import Checkin

DELAY = timedelta(minutes=10)
ON_TIME = timedelta(minutes=60)
LOOKBACK = timedelta(hours=25)  # runs that arrived since then are considered
PAIN_WINDOW = timedelta(days=14)
EVENING_BEFORE_QUIET = timedelta(minutes=90)
FRESH_SYNC = timedelta(minutes=5)  # "just synced": the sweep runs every minute, with a margin
REMINDER_KIND = "stretch_reminder"
NUDGE_KIND = "stretch_evening"


@dataclass(frozen=True)
class SweepResult:
    reminders: int
    evening_nudges: int

    def by_kind(self) -> dict[str, int]:
        """The notifications written, by their kind (what the worker's metrics count)."""
        return {REMINDER_KIND: self.reminders, NUDGE_KIND: self.evening_nudges}


def sweep(session: Session, now: datetime) -> SweepResult:
    """Write every reminder that is due now; safe to run any number of times."""
    runs = _recent_runs(session, now)
    if not runs:
        return SweepResult(0, 0)
    athlete_ids = list({run.athlete_id for run in runs})
    athletes = notifications.recipients(session, athlete_ids, now)
    pains, exercises = _pain_and_exercise(session, athlete_ids, now)
    paused = pain.active(session, athlete_ids)

    drafts: list[notifications.Draft] = []
    for run in runs:
        end = run.occurred_at + timedelta(seconds=run.duration_s)
        if end + DELAY > now:
            continue
        if any(moment > end for moment in exercises.get(run.athlete_id, [])):
            continue  # stretched or did core work after it: nothing to remind
        if run.athlete_id in paused:
            continue  # a triage tier says: get it checked first, not a routine
        athlete_pains = pains.get(run.athlete_id, [])
        athlete = athletes[run.athlete_id]
        routine = stretch.pick([location for _, _, location in athlete_pains])
        if run.created_at - end <= ON_TIME:
            drafts.append(_reminder(athlete, run, routine, _deliver_after(athlete, run, end,
                                                                          now)))
        else:
            nudge = _evening_nudge(athlete, routine, now)
            if nudge is not None:
                drafts.append(nudge)
    written = notifications.write(session, drafts, now)
    return SweepResult(written.count(REMINDER_KIND), written.count(NUDGE_KIND))


def _recent_runs(session: Session, now: datetime) -> list[Any]:
    c = Checkin.__table__.c
    return session.connection().execute(
        select(c.id, c.athlete_id, c.occurred_at, c.duration_s, c.created_at, c.arrived_via)
        .where(c.kind == "run", c.deleted_at.is_(None), c.created_at >= now - LOOKBACK,
               c.occurred_at <= now,
               c.import_id.is_(None))  # imported history: no "you ran today" for 2019
    ).all()


def _pain_and_exercise(session: Session, athlete_ids: list[uuid.UUID], now: datetime
                       ) -> tuple[dict[uuid.UUID, list], dict[uuid.UUID, list[datetime]]]:
    """Recent pain (time, severity, location; oldest first) and exercise times per athlete."""
    c = Checkin.__table__.c
    rows = session.connection().execute(
        select(c.athlete_id, c.kind, c.occurred_at, c.severity, c.location)
        .where(among(session, c.athlete_id, athlete_ids), c.kind.in_(("pain", "exercise")),
               c.deleted_at.is_(None), c.occurred_at >= now - PAIN_WINDOW)
        .order_by(c.occurred_at))
    pains: dict[uuid.UUID, list] = defaultdict(list)
    exercises: dict[uuid.UUID, list[datetime]] = defaultdict(list)
    for athlete_id, kind, moment, severity, location in rows:
        if kind == "pain":
            pains[athlete_id].append((moment, severity, location))
        else:
            exercises[athlete_id].append(moment)
    return pains, exercises


def _routine_text(routine: list) -> tuple[str, int]:
    names = [item.name for item in routine]
    listed = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]
    return listed, sum(item.minutes for item in routine)


def _deliver_after(athlete: notifications.Recipient, run: Any, end: datetime,
                   now: datetime) -> datetime:
    """Now when the athlete's own app just synced a run whose reminder was due already (the
    sync caused it); else after quiet hours, as every message."""
    caused_by_sync = (run.arrived_via == "app" and run.created_at >= end + DELAY
                      and now - run.created_at <= FRESH_SYNC)
    return now if caused_by_sync else athlete.deliver_after


def _reminder(athlete: notifications.Recipient, run: Any, routine: list,
              deliver_after: datetime) -> notifications.Draft:
    listed, minutes = _routine_text(routine)
    body = (f"Nice run. About {minutes} minutes now, while you are warm: {listed}. Hold "
            f"stretches 20 to 30 s, 2 to 4 times; do the strength moves slowly.")
    return notifications.Draft(
        athlete.id, REMINDER_KIND, f"stretch_reminder:{run.id}", "Stretch after your run",
        body, deliver_after,
        {"rule": "stretch_reminder", "run_id": str(run.id),
         "routine_ids": [item.id for item in routine], "minutes": minutes, "evidence": "E"},
    )


def _evening_nudge(athlete: notifications.Recipient, routine: list,
                   now: datetime) -> notifications.Draft | None:
    """One nudge in the evening for runs synced late, or none if the evening has passed."""
    zone = ZoneInfo(athlete.timezone)
    local = now.astimezone(zone)
    evening = (datetime.combine(local.date(), athlete.quiet_hours_start, tzinfo=zone)
               - EVENING_BEFORE_QUIET)
    quiet = datetime.combine(local.date(), athlete.quiet_hours_start, tzinfo=zone)
    if local >= quiet or local.time() < athlete.quiet_hours_end:
        return None  # too late for this evening; the next run will bring its own reminder
    listed, minutes = _routine_text(routine)
    day: date = local.date()
    return notifications.Draft(
        athlete.id, NUDGE_KIND, f"stretch_evening:{day.isoformat()}",
        "A few minutes for your back tonight",
        f"You ran today: about {minutes} minutes this evening helps: {listed}.",
        max(evening.astimezone(UTC), now),
        {"rule": "stretch_evening", "routine_ids": [item.id for item in routine],
         "minutes": minutes, "evidence": "E"},
    )

