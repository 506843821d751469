"""A coach's roster: who needs attention this week, in a fixed number of queries for any size.

Each athlete's summary holds only what they granted: a field outside the grants is null, never a
guess. The risk score orders the roster; it is a convention (C) for sorting, not a clinical
measure: an open triage tier first, then a recent run spike, a weekly jump, worn shoes and unread
warnings.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.db.bulk import among
from service.domain.accounts import scopes
from service.domain.calendar import local_date
from service.domain.coaching import links as coaching
from service.domain.pain import rules as triage
from service.domain.pain import tiers as pain
from service.domain.plans import records as plan_records
from service.domain.plans import rules as plan_rules
from service.domain.shoes import records as shoe_records
from service.domain.shoes import rules as shoe_rules
from service.domain.training import history
from service.domain.training import rules as load
from service.models import Account, CoachLink, Notification, Shoe

RECENT_SPIKE = timedelta(days=14)  # a spike older than two weeks is history, not this week's news
TIER_RISK = {triage.EMERGENCY: 100, triage.URGENT: 80, triage.REVIEW: 40,
             triage.INFLAMMATORY: 30}
SPIKE_RISK = {load.Spike.SMALL: 10, load.Spike.MODERATE: 20, load.Spike.LARGE: 30}
WEEKLY_JUMP_RISK, REPLACE_RISK, PLAN_RISK, UNREAD_RISK, UNREAD_CAP = 15, 10, 5, 2, 10


@dataclass(frozen=True)
class ShoeAttention:
    shoe_id: uuid.UUID
    name: str
    status: str


@dataclass
class RosterEntry:
    athlete_id: uuid.UUID
    display_name: str | None
    email: str
    scopes: list[str]
    linked_at: datetime
    last_run_at: datetime | None = None
    last_7_days_m: int | None = None
    previous_7_days_m: int | None = None
    latest_spike: str | None = None
    shoes_needing_attention: list[ShoeAttention] | None = None
    triage_tier: str | None = None
    unread_warnings: int | None = None
    # Done against planned over the last 14 days (with `plan`): done, shorter, longer, missed.
    plan_last_14_days: dict[str, int] | None = None
    risk: int = 0
    attention: list[str] = field(default_factory=list)


def roster(session: Session, coach: Account, now: datetime, sort: str = "risk", *,
           weekly_threshold: float, token_sees_pain: bool) -> list[RosterEntry]:
    # Core rows of the columns shown: ORM instances of 500 links and accounts showed in profiles.
    link, account = CoachLink.__table__.c, Account.__table__.c
    links = session.connection().execute(
        select(link.athlete_id, link.scopes, link.created_at, account.display_name,
               account.email, account.timezone)
        .join(Account.__table__, account.id == link.athlete_id)
        .where(link.coach_id == coach.id, link.revoked_at.is_(None))).all()
    entries = {row.athlete_id: RosterEntry(row.athlete_id, row.display_name, row.email,
                                           list(row.scopes), row.created_at)
               for row in links}
    zones = {row.athlete_id: row.timezone for row in links}
    granted = defaultdict(list)
    for row in links:
        for scope in coaching.usable(row.scopes, token_sees_pain=token_sees_pain):
            granted[scope].append(row.athlete_id)

    _runs(session, entries, zones, granted[scopes.LOAD], set(granted[scopes.RUNS]), now,
          weekly_threshold)
    _shoes(session, entries, granted[scopes.SHOES], now)
    if granted[scopes.PAIN]:
        tiers = pain.active(session, granted[scopes.PAIN])
        for athlete_id in granted[scopes.PAIN]:
            active = tiers.get(athlete_id)
            entries[athlete_id].triage_tier = active.tier if active else triage.NONE
            if active:
                entries[athlete_id].risk += TIER_RISK[active.tier]
                entries[athlete_id].attention.append(f"pain_{active.tier}")
    _unread(session, entries, granted[scopes.NOTIFICATIONS], set(granted[scopes.PAIN]), now)
    _plans(session, entries, zones, granted[scopes.PLAN], now)

    ordered = sorted(entries.values(), key=lambda e: ((e.display_name or e.email).lower(),
                                                      str(e.athlete_id)))
    if sort == "risk":
        ordered.sort(key=lambda e: -e.risk)
    return ordered


def _runs(session: Session, entries: dict[uuid.UUID, RosterEntry], zones: dict[uuid.UUID, str],
          load_ids: list[uuid.UUID], run_ids: set[uuid.UUID], now: datetime,
          weekly_threshold: float) -> None:
    """Last run (runs or load granted); weekly distances and the latest spike (load).

    Two aggregate queries, a few rows an athlete whatever their history (`training.history`),
    judged by the same rules and with the same history as the athlete's load report.
    """
    readers = list(run_ids | set(load_ids))
    if not readers:
        return
    latest = history.latest_runs(session, readers, now)
    for athlete_id, run in latest.items():
        entries[athlete_id].last_run_at = run.started_at
    if not load_ids:
        return
    today = {athlete_id: local_date(now, zones[athlete_id]) for athlete_id in load_ids}
    daily = history.daily_distances(session, load_ids,
                                    min(today.values()) - timedelta(days=13),
                                    max(today.values()), until=now)
    for athlete_id in load_ids:
        entry, last, run = entries[athlete_id], today[athlete_id], latest.get(athlete_id)
        change = load.weekly_change(
            load.daily_series(daily.get(athlete_id, {}), last - timedelta(days=13), last),
            (last - run.first_run_day).days + 1 if run else 0, weekly_threshold)
        entry.last_7_days_m, entry.previous_7_days_m = (change.last_7_days_m,
                                                        change.previous_7_days_m)
        if change.caution:
            entry.risk += WEEKLY_JUMP_RISK
            entry.attention.append("weekly_jump")
        if run is not None and run.started_at > now - RECENT_SPIKE:
            finding = run.finding()
            if finding is not None:
                entry.latest_spike = finding.spike.label
                if finding.spike > load.Spike.OK:
                    entry.risk += SPIKE_RISK[finding.spike]
                    entry.attention.append(f"run_spike_{finding.spike.label}")


def _plans(session: Session, entries: dict[uuid.UUID, RosterEntry], zones: dict[uuid.UUID, str],
           athlete_ids: list[uuid.UUID], now: datetime) -> None:
    """Done against planned of each athlete's last 14 local days: two queries for the roster."""
    if not athlete_ids:
        return
    today = {athlete_id: local_date(now, zones[athlete_id]) for athlete_id in athlete_ids}
    first = min(today.values()) - timedelta(days=plan_records.ADHERENCE_DAYS - 1)
    matched = plan_records.adherence(session, athlete_ids, first, max(today.values()), today)
    for athlete_id in athlete_ids:
        since = today[athlete_id] - timedelta(days=plan_records.ADHERENCE_DAYS - 1)
        days = [d for d in matched[athlete_id].days if since <= d.day <= today[athlete_id]]
        entries[athlete_id].plan_last_14_days = plan_rules.counts(days)


def _shoes(session: Session, entries: dict[uuid.UUID, RosterEntry], athlete_ids: list[uuid.UUID],
           now: datetime) -> None:
    if not athlete_ids:
        return
    s = Shoe.__table__.c
    # Core rows with the columns the wear rules read: no ORM identity map for a read-only list.
    pairs = list(session.connection().execute(
        select(s.id, s.athlete_id, s.name, s.first_used_on, s.initial_distance_m,
               s.max_distance_m, s.max_age_days, s.retired_at, s.inspected_on,
               s.inspected_distance_m)
        .where(among(session, s.athlete_id, athlete_ids), s.retired_at.is_(None))))
    today = now.date()  # one day for everyone's shoes: a forecast moves a day at most
    inputs = shoe_records.wear_inputs(session, pairs, today)
    for athlete_id in athlete_ids:
        entries[athlete_id].shoes_needing_attention = []
    for shoe in pairs:
        status = shoe_rules.forecast(inputs[shoe.id], today).status
        if status in ("plan", "replace"):
            entry = entries[shoe.athlete_id]
            entry.shoes_needing_attention.append(ShoeAttention(shoe.id, shoe.name, status))
            entry.risk += REPLACE_RISK if status == "replace" else PLAN_RISK
            entry.attention.append(f"shoe_{status}")


def _unread(session: Session, entries: dict[uuid.UUID, RosterEntry],
            athlete_ids: list[uuid.UUID], pain_ids: set[uuid.UUID], now: datetime) -> None:
    """Unread warnings; pain notifications only count where pain was granted too."""
    if not athlete_ids:
        return
    n = Notification.__table__.c
    is_pain = n.kind.startswith(pain.NOTIFICATION_PREFIX, autoescape=True)
    counts = {(athlete_id, bool(pain_kind)): count
              for athlete_id, pain_kind, count in session.connection().execute(
                  select(n.athlete_id, is_pain, func.count())
                  .where(among(session, n.athlete_id, athlete_ids), n.read_at.is_(None),
                         n.deliver_after <= now)
                  .group_by(n.athlete_id, is_pain))}
    for athlete_id in athlete_ids:
        unread = int(counts.get((athlete_id, False), 0))
        if athlete_id in pain_ids:
            unread += int(counts.get((athlete_id, True), 0))
        entries[athlete_id].unread_warnings = unread
        if unread:
            entries[athlete_id].risk += min(unread * UNREAD_RISK, UNREAD_CAP)
            entries[athlete_id].attention.append("unread_warnings")

