"""Registering, signing in and editing a profile."""

from __future__ import annotations

from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.accounts import passwords
from service.domain.errors import Conflict, Invalid, Unauthenticated
from service.models import Account, SyncCounter

WRONG_CREDENTIALS = "The email or password is not right."


def normalise_email(email: str) -> str:
    """Emails are compared case-insensitively; the domain part is case-insensitive by RFC."""
    return email.strip().lower()


def register(session: Session, hasher: PasswordHasher, *, email: str, password: str,
             **profile: Any) -> Account:
    email = normalise_email(email)
    reason = passwords.policy_violation(password)
    if reason:
        raise Invalid(reason, field="password")
    if session.scalar(select(Account.id).where(Account.email == email)) is not None:
        raise Conflict("An account with this email already exists.", field="email")
    account = Account(email=email, password_hash=hasher.hash(password), **profile)
    session.add(account)
    session.flush()
    session.add(SyncCounter(athlete_id=account.id, last_seq=0))
    return account


def authenticate(session: Session, hasher: PasswordHasher, *, email: str, password: str) -> Account:
    """The account for these credentials; one refusal for an unknown email or a wrong password."""
    account = session.scalar(select(Account).where(Account.email == normalise_email(email)))
    if account is None:
        passwords.verify(hasher, passwords.dummy_hash(hasher), password)
        raise Unauthenticated(WRONG_CREDENTIALS)
    if not passwords.verify(hasher, account.password_hash, password):
        raise Unauthenticated(WRONG_CREDENTIALS)
    if hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hasher.hash(password)
    return account


def update_profile(account: Account, changes: dict[str, Any]) -> Account:
    """Apply already-validated profile changes; quiet hours arrive as a (start, end) pair."""
    quiet = changes.pop("quiet_hours", None)
    if quiet is not None:
        account.quiet_hours_start = quiet["start"]
        account.quiet_hours_end = quiet["end"]
    for name, value in changes.items():
        setattr(account, name, value)
    return account
