"""Leaving: erase an athlete's account and everything that names them, in one transaction.

Rows that are theirs are deleted. Rows that belong to someone else but mention them are kept
without the mention: another athlete's access log keeps "a coach read your runs" with the coach
unknown, an invite they used stays used by nobody. Deleting their sign-ins, personal tokens and
the grants they gave apps revokes every token at once (each request checks its session or token
row); deleting their coach links ends every coach's access both ways. Apps they registered go
too, with every athlete's grants to them; those athletes' access logs keep the reads with the app
unknown. Idempotency records are deleted too, including an anonymous registration's, whose
stored answer holds their email.

Explicit statements rather than ON DELETE CASCADE alone: the order is visible, and rows that
must be kept but cleaned are handled on purpose.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from service.domain.accounts import passwords
from service.domain.errors import Forbidden
from service.models import (
    AccessLogEntry,
    Account,
    AuthSession,
    Checkin,
    CoachInvite,
    CoachLink,
    Delivery,
    Device,
    IdempotencyRecord,
    Import,
    ImportedFile,
    ImportUpload,
    NightlyLog,
    NightlyState,
    Notification,
    OAuthClient,
    OAuthCode,
    OAuthGrant,
    OAuthToken,
    PersonalAccessToken,
    RefreshToken,
    Shoe,
    SyncCounter,
)


def erase(session: Session, hasher: PasswordHasher, account: Account, password: str) -> None:
    """Delete the account and all it holds, if the password is right (Forbidden otherwise)."""
    if not passwords.verify(hasher, account.password_hash, password):
        raise Forbidden("The password is not right; nothing was deleted.", field="password")
    athlete_id = account.id
    # Wait for the athlete's check-in writes in flight: they hold this row until they commit.
    session.execute(update(SyncCounter).where(SyncCounter.athlete_id == athlete_id)
                    .values(last_seq=SyncCounter.last_seq))
    notifications = select(Notification.id).where(Notification.athlete_id == athlete_id)
    devices = select(Device.id).where(Device.athlete_id == athlete_id)
    imports = select(Import.id).where(Import.athlete_id == athlete_id)
    sessions = select(AuthSession.id).where(AuthSession.account_id == athlete_id)
    own_apps = select(OAuthClient.id).where(OAuthClient.owner_id == athlete_id)
    grants = select(OAuthGrant.id).where(or_(OAuthGrant.account_id == athlete_id,
                                             OAuthGrant.client_id.in_(own_apps)))
    statements = [
        delete(Delivery).where(or_(Delivery.notification_id.in_(notifications),
                                   Delivery.device_id.in_(devices))),
        delete(Notification).where(Notification.athlete_id == athlete_id),
        delete(Device).where(Device.athlete_id == athlete_id),
        delete(Checkin).where(Checkin.athlete_id == athlete_id),
        delete(ImportedFile).where(ImportedFile.athlete_id == athlete_id),
        delete(ImportUpload).where(ImportUpload.import_id.in_(imports)),
        delete(Import).where(Import.athlete_id == athlete_id),
        delete(Shoe).where(Shoe.athlete_id == athlete_id),
        delete(CoachLink).where(or_(CoachLink.athlete_id == athlete_id,
                                    CoachLink.coach_id == athlete_id)),
        delete(AccessLogEntry).where(AccessLogEntry.athlete_id == athlete_id),
        update(AccessLogEntry).where(AccessLogEntry.coach_id == athlete_id).values(coach_id=None),
        delete(CoachInvite).where(CoachInvite.coach_id == athlete_id),
        update(CoachInvite).where(CoachInvite.used_by == athlete_id).values(used_by=None),
        delete(PersonalAccessToken).where(PersonalAccessToken.account_id == athlete_id),
        delete(OAuthCode).where(or_(OAuthCode.account_id == athlete_id,
                                    OAuthCode.client_id.in_(own_apps))),
        delete(OAuthToken).where(OAuthToken.grant_id.in_(grants)),
        delete(OAuthGrant).where(OAuthGrant.id.in_(grants)),
        update(AccessLogEntry).where(AccessLogEntry.app_id.in_(own_apps)).values(app_id=None),
        delete(OAuthClient).where(OAuthClient.owner_id == athlete_id),
        delete(RefreshToken).where(RefreshToken.session_id.in_(sessions)),
        delete(AuthSession).where(AuthSession.account_id == athlete_id),
        delete(NightlyLog).where(NightlyLog.athlete_id == athlete_id),
        delete(NightlyState).where(NightlyState.athlete_id == athlete_id),
        delete(SyncCounter).where(SyncCounter.athlete_id == athlete_id),
        delete(IdempotencyRecord).where(or_(
            IdempotencyRecord.scope == str(athlete_id),
            IdempotencyRecord.response_body.contains(str(athlete_id), autoescape=True),
            IdempotencyRecord.response_body.contains(account.email, autoescape=True))),
    ]
    for statement in statements:
        session.execute(statement.execution_options(synchronize_session=False))
    session.delete(account)
    session.flush()
