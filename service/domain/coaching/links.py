"""Consent-based coaching: invites, links with scopes, the one access check, and the access log.

`athlete_for_coach` is the only place that decides whether a coach may read an athlete's data
(OWASP API1, broken object level authorisation): every coach read goes through it, and anything it
refuses is a plain 404 that tells a guessing coach nothing.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, object_session

from service.db.bulk import insert_ignoring_conflicts
from service.domain.accounts import quotas, scopes
from service.domain.errors import Forbidden, Invalid, NotFound
from service.domain.pain import tiers as pain
from service.domain.webhooks import events, outbox
from service.models import AccessLogEntry, Account, CoachInvite, CoachLink

INVITE_TTL = timedelta(days=7)
# Crockford's base32 without I, L, O, U: easy to read aloud and to type. 10 characters, 50 bits:
# with accepting a code held to the sign-in rate limit, guessing a live one is out of reach.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().replace("-", "").encode()).hexdigest()


def create_invite(session: Session, coach: Account, now: datetime,
                  max_open: int | None = None) -> tuple[CoachInvite, str]:
    """A new invite and its code, shown once (formatted XXXXX-XXXXX); at most `max_open`
    unused and unexpired at once, so invites are not a way to fill the database."""
    if max_open is not None:
        quotas.hold(session, coach)
        open_now = session.scalar(select(func.count()).select_from(CoachInvite).where(
            CoachInvite.coach_id == coach.id, CoachInvite.used_at.is_(None),
            CoachInvite.expires_at > now)) or 0
        quotas.check(open_now, 1, max_open,
                     f"You have {open_now} invites not yet used, the most one coach may have "
                     f"open ({max_open}); wait for athletes to use them or for them to expire "
                     "(7 days).")
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    invite = CoachInvite(coach_id=coach.id, code_hash=_hash(raw), created_at=now,
                         expires_at=now + INVITE_TTL)
    session.add(invite)
    session.flush()
    return invite, f"{raw[:5]}-{raw[5:]}"


def accept(session: Session, athlete: Account, code: str, granted: Collection[str],
           now: datetime) -> CoachLink:
    """Link the athlete to the invite's coach with the scopes they chose; the code is used up."""
    _check_grants(granted)
    invite = session.scalar(select(CoachInvite).where(CoachInvite.code_hash == _hash(code))
                            .with_for_update())
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        raise Invalid("This code is not valid: it may have expired or been used already.",
                      field="code")
    if invite.coach_id == athlete.id:
        raise Invalid("This is your own invite; give it to an athlete.", field="code")
    invite.used_at, invite.used_by = now, athlete.id
    link = session.scalar(select(CoachLink).where(CoachLink.coach_id == invite.coach_id,
                                                  CoachLink.athlete_id == athlete.id))
    if link is None:
        link = CoachLink(coach_id=invite.coach_id, athlete_id=athlete.id, created_at=now)
        session.add(link)
    link.scopes, link.updated_at, link.revoked_at, link.revoked_by = (
        sorted(set(granted)), now, None, None)
    session.flush()
    _tell(session, events.COACH_LINK_CREATED, link, now)
    return link


def coaches_of(athlete: Account) -> Select[tuple[CoachLink, Account]]:
    return (select(CoachLink, Account).join(Account, Account.id == CoachLink.coach_id)
            .where(CoachLink.athlete_id == athlete.id, CoachLink.revoked_at.is_(None)))


def _live_link(coach_id: uuid.UUID, athlete_id: uuid.UUID) -> Select[tuple[CoachLink, Account]]:
    """The link between the two, if not revoked, with the athlete's account."""
    return (select(CoachLink, Account).join(Account, Account.id == CoachLink.athlete_id)
            .where(CoachLink.coach_id == coach_id, CoachLink.athlete_id == athlete_id,
                   CoachLink.revoked_at.is_(None)))


def link_of_athlete(session: Session, athlete: Account, coach_id: uuid.UUID) -> CoachLink:
    link = session.scalar(_live_link(coach_id, athlete.id))
    if link is None:
        raise NotFound("No such coach.")
    return link


def change_grants(link: CoachLink, granted: Collection[str], now: datetime) -> CoachLink:
    _check_grants(granted)
    changed = sorted(set(granted)) != sorted(link.scopes)
    link.scopes, link.updated_at = sorted(set(granted)), now
    if changed:
        _tell(object_session(link), events.COACH_LINK_UPDATED, link, now)
    return link


def revoke(link: CoachLink, by: str, now: datetime) -> None:
    link.revoked_at, link.revoked_by, link.updated_at = now, by, now
    _tell(object_session(link), events.COACH_LINK_DELETED, link, now)


def _tell(session: Session | None, event_type: str, link: CoachLink, now: datetime) -> None:
    """Both sides' webhook events, in the transaction that changed the link."""
    if session is not None:
        outbox.emit(session, events.coach_link(event_type, link.athlete_id, link.coach_id), now)


def link_of_coach(session: Session, coach: Account, athlete_id: uuid.UUID) -> CoachLink:
    link = session.scalar(_live_link(coach.id, athlete_id))
    if link is None:
        raise NotFound("No such athlete.")
    return link


def athlete_for_coach(session: Session, coach: Account, athlete_id: uuid.UUID,
                      scope: str) -> tuple[Account, CoachLink]:
    """The athlete, if linked to this coach with `scope` granted; else 404, whatever the reason."""
    row = session.execute(_live_link(coach.id, athlete_id)).first()
    if row is None or scope not in row.CoachLink.scopes:
        raise NotFound("No such athlete.")
    return row.Account, row.CoachLink


def athlete_for_coach_write(session: Session, coach: Account, athlete_id: uuid.UUID,
                            scope: str) -> tuple[Account, CoachLink]:
    """The athlete, if linked to this coach with `scope` granted: 404 when not linked (as every
    read), 403 when linked without the grant. A coach who writes knows the athlete from the
    roster already, and "ask them for `plan`" is the answer that helps."""
    row = session.execute(_live_link(coach.id, athlete_id)).first()
    if row is None:
        raise NotFound("No such athlete.")
    if scope not in row.CoachLink.scopes:
        raise Forbidden(f"This athlete has not granted you '{scope}': ask them to allow it in "
                        "the app.")
    return row.Account, row.CoachLink


def log_reads(session: Session, coach: Account, athlete_ids: Iterable[uuid.UUID],
              resource: str, now: datetime, *, action: str = "read") -> None:
    """Append who read (or wrote) what and when (never the values), in the same unit of work."""
    rows = [{"id": uuid.uuid4(), "athlete_id": athlete_id, "coach_id": coach.id,
             "resource": resource, "action": action, "at": now} for athlete_id in athlete_ids]
    # One statement for a whole roster (on PostgreSQL, arrays through unnest()), not one each.
    insert_ignoring_conflicts(session, AccessLogEntry.__table__, rows, conflict=None)


def access_log(athlete: Account) -> Select[tuple[AccessLogEntry]]:
    return select(AccessLogEntry).where(AccessLogEntry.athlete_id == athlete.id)


def accounts_by_id(session: Session, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Account]:
    if not ids:
        return {}
    return {account.id: account
            for account in session.scalars(select(Account).where(Account.id.in_(ids)))}


def _check_grants(granted: Collection[str]) -> None:
    unknown = sorted(set(granted) - set(scopes.COACH_GRANTS))
    if unknown:
        raise Invalid(f"Unknown scopes: {', '.join(unknown)}.", field="scopes")


KIND_GRANT = {"run": scopes.RUNS, "exercise": scopes.RUNS, "pain": scopes.PAIN}
# Pain is the most sensitive thing an athlete shares: its notifications (which name the answers
# that set a triage tier) and the triage behind paused load advice need `pain`, whatever other
# scope a read comes through.


def usable(granted: Collection[str], *, token_sees_pain: bool) -> list[str]:
    """The grants a coach's read may use: the athlete's, less `pain` for a token without
    `pain:read`. Two consents guard pain: the athlete's grant to the coach, and the coach's own
    to the app or script that reads for them (scopes.SENSITIVE)."""
    return [g for g in granted if token_sees_pain or g != scopes.PAIN]


def sees_pain(granted: Collection[str]) -> bool:
    return scopes.PAIN in granted


def hidden_notification_prefixes(granted: Collection[str]) -> tuple[str, ...]:
    """The notification kinds (by prefix) a coach with these grants may not list or count."""
    return () if sees_pain(granted) else (pain.NOTIFICATION_PREFIX,)


def visible_kinds(session: Session, coach: Account, athlete_id: uuid.UUID,
                  kind: str | None, *, token_sees_pain: bool) -> tuple[Account, list[str]]:
    """The athlete and the check-in kinds this coach may list (one asked for, or all granted)."""
    wanted = [kind] if kind else list(KIND_GRANT)
    row = session.execute(_live_link(coach.id, athlete_id)).first()
    granted = usable(row.CoachLink.scopes, token_sees_pain=token_sees_pain) if row else []
    kinds = [k for k in wanted if KIND_GRANT[k] in granted]
    if not kinds:
        raise NotFound("No such athlete.")
    return row.Account, kinds
