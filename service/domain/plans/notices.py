"""The day before a flagged planned run: one notice, at a sensible local time. A sweep.

Beat runs it every minute with the stretch reminders (`reminders.sweep`). For each athlete whose
local clock has passed their notice time (18:00, or 90 minutes before quiet hours begin;
`rules.notice_time`) and who has a run planned tomorrow, tomorrow's runs are judged as the plan
stands now, against the runs done and planned before them, and each flagged one gets a
`plan_preflight` notification, written once (its dedupe key names the run and its day) and
delivered after quiet hours like every nightly warning. A few queries per distinct local
"tomorrow", whatever the number of athletes.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.bulk import among
from service.domain.notify import notifications
from service.domain.plans import messages, records, rules
from service.domain.webhooks import outbox
from service.models import Account, PlannedRun

# Planned runs up to a week after tomorrow are read too: a caution on a rest day after it
# belongs to tomorrow's run when it is the latest of those 7 days.
LOOK_AFTER = timedelta(days=6)


def candidates(session: Session, now: datetime) -> dict[date, list[uuid.UUID]]:
    """Athletes with a run planned on their local tomorrow whose local time is past noon (the
    earliest notice time), grouped by that tomorrow. One query for the zones in use, one per
    distinct tomorrow (two at most on Earth at any instant, three around the date line)."""
    zones_by_tomorrow: dict[date, list[str]] = defaultdict(list)
    for zone in session.scalars(select(Account.timezone).distinct()):
        local = now.astimezone(ZoneInfo(zone))
        if local.time() >= rules.NOTICE_EARLIEST:
            zones_by_tomorrow[local.date() + timedelta(days=1)].append(zone)
    result: dict[date, list[uuid.UUID]] = {}
    for tomorrow, zones in zones_by_tomorrow.items():
        ids = session.scalars(
            select(PlannedRun.athlete_id).distinct()
            .join(Account, Account.id == PlannedRun.athlete_id)
            .where(among(session, Account.timezone, zones), PlannedRun.local_date == tomorrow)
        ).all()
        if ids:
            result[tomorrow] = sorted(ids)
    return result


def sweep(session: Session, now: datetime, threshold: float) -> int:
    """Write every notice due now; safe to run any number of times. Returns how many were new."""
    drafts: list[notifications.Draft] = []
    for tomorrow, ids in candidates(session, now).items():
        people = notifications.recipients(session, ids, now)
        ready = [person for person in people.values()
                 if now.astimezone(ZoneInfo(person.timezone)).time()
                 >= rules.notice_time(person.quiet_hours_start, person.quiet_hours_end)]
        if not ready:
            continue
        today = tomorrow - timedelta(days=1)
        ready_ids = [person.id for person in ready]
        done = records.done(session, ready_ids, today - timedelta(days=records.HISTORY_DAYS),
                            today)
        plans = records.planned(session, ready_ids, today, tomorrow + LOOK_AFTER)
        firsts = records.first_run_days(session, ready_ids)
        for person in ready:
            check = rules.judge(done.get(person.id, []), plans.get(person.id, []), today,
                                threshold, first_run_day=firsts.get(person.id))
            for judged in check.flags:
                if judged.run.day != tomorrow:
                    continue
                title, body, data = messages.tomorrow(judged, person.units, threshold)
                drafts.append(notifications.Draft(person.id, messages.KIND,
                                                  messages.dedupe_key(judged), title, body,
                                                  person.deliver_after, data))
    written = notifications.write_new(session, drafts, now)
    outbox.warnings(session, written, now)  # `warning.plan_preflight`, due with the notice
    return len(written)
