"""Changing a password, and resetting a forgotten one by an emailed link.

- A change needs the current password and revokes every other sign-in session (their refresh
  families with them, and the push targets they registered): a leaked password stops working
  everywhere but on the phone that changed it.
- A reset link carries a token signed with the secret key (itsdangerous), naming the account and
  keyed also on the account's current password hash: it expires after
  `BACKSTRIDE_PASSWORD_RESET_TTL_S`, and it is single use without a table of tokens, since
  using it changes the hash and so unmakes it (so does any other change of password). A reset
  revokes every session.
- Asking for a reset answers the same whether or not the email has an account; the email goes
  out in the background (service.mail), so the timing is the same too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from argon2 import PasswordHasher
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.accounts import passwords, tokens
from service.domain.accounts.registration import normalise_email
from service.domain.errors import Invalid
from service.models import Account

SALT = "backstride.password-reset"
BAD_LINK = "This reset link is not valid: it may have expired or been used already."


def change_password(session: Session, hasher: PasswordHasher, account: Account, *,
                    current_password: str, new_password: str, keep_session: uuid.UUID | None,
                    now: datetime) -> int:
    """Set a new password; every session but `keep_session` is revoked. Returns how many."""
    if not passwords.verify(hasher, account.password_hash, current_password):
        raise Invalid("This is not your current password.", field="current_password")
    _set(hasher, account, new_password)
    return tokens.revoke_sessions(session, account, now, reason="password_change",
                                  keep=keep_session)


def reset_token(secret_key: str, account: Account) -> str:
    return _serializer(secret_key, account).dumps(str(account.id))


# What an unknown email's answer composes and drops, so that it costs what a known one does.
DECOY_LINK = "https://backstride.invalid/reset?token=" + "x" * 120


@dataclass(frozen=True)
class ResetEmail:
    """What a reset email says, worked out in the request (a lookup and an HMAC); the message
    itself is composed where it is sent, since composing one costs more than the lookup."""

    to: str
    link: str
    valid_for_s: int

    def message(self, sender: str) -> EmailMessage:
        message = EmailMessage()
        message["From"], message["To"] = sender, self.to
        message["Subject"] = "Reset your Backstride password"
        message.set_content(
            "Someone (we hope you) asked to reset the password of your Backstride account.\n\n"
            f"Choose a new one here; the link works once, within {self.valid_for_s // 60} "
            f"minutes:\n\n{self.link}\n\n"
            "If it was not you, ignore this email: your password stays as it is.\n")
        return message


def reset_email(session: Session, secret_key: str, email: str, *, link: str, valid_for_s: int
                ) -> ResetEmail | None:
    """The reset email for `email`, or None when no account has it (the caller answers alike).

    `link` holds `{token}`, replaced by the token."""
    account = session.scalar(select(Account).where(Account.email == normalise_email(email)))
    if account is None:
        return None
    return ResetEmail(to=account.email, valid_for_s=valid_for_s,
                      link=link.replace("{token}", reset_token(secret_key, account)))


def reset_password(session: Session, hasher: PasswordHasher, secret_key: str, *, token: str,
                   new_password: str, max_age_s: int, now: datetime) -> Account:
    """Set the password of the account the token names; every session is revoked."""
    account = _account_of(session, secret_key, token, max_age_s)
    _set(hasher, account, new_password)
    tokens.revoke_sessions(session, account, now, reason="password_reset")
    return account


def _account_of(session: Session, secret_key: str, token: str, max_age_s: int) -> Account:
    _, payload = URLSafeTimedSerializer(secret_key, salt=SALT).loads_unsafe(token)
    try:
        account = session.get(Account, uuid.UUID(str(payload)))
    except ValueError:
        account = None
    if account is None:
        raise Invalid(BAD_LINK, field="token")
    try:
        _serializer(secret_key, account).loads(token, max_age=max_age_s)
    except BadData:
        raise Invalid(BAD_LINK, field="token") from None
    return account


def _serializer(secret_key: str, account: Account) -> URLSafeTimedSerializer:
    # The hash is part of the signing key, not of the token: the token shows nothing of it.
    return URLSafeTimedSerializer([secret_key], salt=f"{SALT}:{account.password_hash}")


def _set(hasher: PasswordHasher, account: Account, new_password: str) -> None:
    reason = passwords.policy_violation(new_password)
    if reason:
        raise Invalid(reason, field="new_password")
    account.password_hash = hasher.hash(new_password)
