"""Access tokens, rotating refresh tokens and personal access tokens.

- Access tokens are short JWTs (PyJWT, HS256) naming the account and the sign-in session; every
  request also checks that the session is not revoked, so logout takes effect at once.
- Refresh tokens are opaque, single use and rotated on every refresh. Presenting one that was
  already used means it leaked: the whole session (the token family) is revoked (OAuth 2.0
  Security BCP, RFC 9700 section 4.14).
- Personal access tokens follow GitHub's format: a recognisable prefix, 32 random bytes, only a
  SHA-256 hash stored, scoped, expiring, `last_used_at`, revocable.
- App access tokens (OAuth 2, `accounts.apps`) are opaque too, and hold what the athlete granted.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, joinedload

from service.domain.accounts import apps
from service.domain.accounts import scopes as scope_names
from service.domain.errors import Invalid, NotFound, Unauthenticated
from service.models import Account, AuthSession, Device, PersonalAccessToken, RefreshToken

JWT_ALGORITHM = "HS256"
JWT_ISSUER = "backstride"
PERSONAL_TOKEN_PREFIX = "bst_pat_"
# Touching last_used_at on every request would turn each read into a write; once a minute is
# precise enough for "when was this token last used".
LAST_USED_GRANULARITY = timedelta(minutes=1)


class RefreshTokenReused(Unauthenticated):
    """An already-used refresh token came back: its family is now revoked (commit that!)."""


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    token_type: str = "Bearer"


@dataclass(frozen=True)
class Principal:
    """Who is calling, and what they may do."""

    account: Account
    scopes: frozenset[str]
    session_id: uuid.UUID | None = None
    personal_token_id: uuid.UUID | None = None
    # A personal token whose last_used_at is older than LAST_USED_GRANULARITY: record this use.
    last_used_due: bool = False
    # An app's token (OAuth 2): what it holds, whose reads go to the athlete's access log.
    app_access: apps.AppAccess | None = None

    def allows(self, scope: str) -> bool:
        if scope == scope_names.SESSION_ONLY:
            return self.session_id is not None
        return self.session_id is not None or scope in self.scopes

    @property
    def sees_pain(self) -> bool:
        """Pain data needs `pain:read` besides the route's own scope (scopes.SENSITIVE)."""
        return self.allows(scope_names.PAIN_READ)


@dataclass(frozen=True)
class IssuedPersonalToken:
    """A new personal token with its secret, which exists only in this one response."""

    row: PersonalAccessToken
    token: str

    def __getattr__(self, name: str) -> object:
        return getattr(self.row, name)


@dataclass(frozen=True)
class TokenPolicy:
    secret_key: str
    access_ttl_s: int
    refresh_ttl_s: int
    personal_token_max_days: int


def hash_secret(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(session: Session, policy: TokenPolicy, account: Account, now: datetime) -> TokenPair:
    """Open a new sign-in session (a new token family) for an authenticated account."""
    auth_session = AuthSession(
        account_id=account.id, created_at=now,
        expires_at=now + timedelta(seconds=policy.refresh_ttl_s),
    )
    session.add(auth_session)
    session.flush()
    return _issue(session, policy, auth_session, account.id, now)


def refresh(session: Session, policy: TokenPolicy, refresh_token: str, now: datetime) -> TokenPair:
    """Trade a refresh token for a new pair; a second use of the same token revokes the family."""
    row = _refresh_row(session, refresh_token)
    if row is None or row.expires_at <= now or row.session.revoked_at is not None:
        raise Unauthenticated("The refresh token is not valid; sign in again.")
    # Claim it with a conditional UPDATE: of two refreshes racing with one token, exactly one
    # wins; the other is a reuse, as if it had come second.
    claimed = session.execute(
        update(RefreshToken).where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if not claimed:
        _revoke_session(row.session, now, reason="refresh_reuse")
        raise RefreshTokenReused("The refresh token was already used; every session token from it "
                                 "is now revoked. Sign in again.")
    row.session.expires_at = now + timedelta(seconds=policy.refresh_ttl_s)
    return _issue(session, policy, row.session, row.session.account_id, now)


def sign_out(session: Session, refresh_token: str, now: datetime) -> None:
    """Revoke the session this refresh token belongs to; unknown tokens are ignored (idempotent)."""
    row = _refresh_row(session, refresh_token)
    if row is not None and row.session.revoked_at is None:
        _revoke_session(row.session, now, reason="logout")
        session.execute(delete(Device).where(Device.session_id == row.session.id))


def authenticate_bearer(session: Session, policy: TokenPolicy, token: str,
                        now: datetime) -> Principal:
    if token.startswith(PERSONAL_TOKEN_PREFIX):
        return _authenticate_personal_token(session, token, now)
    if token.startswith(apps.ACCESS_TOKEN_PREFIX):
        access = apps.authenticate_access_token(session, token, now)
        if access is None:
            raise Unauthenticated("The app's access token is not valid, expired or revoked.")
        return Principal(access.account, access.scopes, app_access=access)
    account_id, session_id = _access_token_claims(policy, token)
    auth_session = session.scalar(
        select(AuthSession).options(joinedload(AuthSession.account))
        .where(AuthSession.id == session_id, AuthSession.account_id == account_id)
    )
    if auth_session is None or auth_session.revoked_at is not None:
        raise Unauthenticated("The access token has been revoked; sign in again.")
    return Principal(auth_session.account, frozenset(scope_names.PERSONAL_TOKEN_SCOPES),
                     session_id=session_id)


def bearer_account_id(session: Session, policy: TokenPolicy, token: str,
                      now: datetime) -> uuid.UUID | None:
    """The account a genuine bearer token names, or None; nothing is written.

    For counting a caller's requests before the view authenticates them: an access token is
    checked by its signature and expiry alone (a revoked session still names its real account),
    a personal token by its hash, so a made-up token never earns a bucket of its own.
    """
    if token.startswith(PERSONAL_TOKEN_PREFIX):
        return session.scalar(
            select(PersonalAccessToken.account_id).where(
                PersonalAccessToken.token_hash == hash_secret(token),
                PersonalAccessToken.revoked_at.is_(None), PersonalAccessToken.expires_at > now,
            )
        )
    if token.startswith(apps.ACCESS_TOKEN_PREFIX):
        return apps.account_of_access_token(session, token, now)
    try:
        return _access_token_claims(policy, token)[0]
    except Unauthenticated:
        return None


def _access_token_claims(policy: TokenPolicy, token: str) -> tuple[uuid.UUID, uuid.UUID]:
    """The account and sign-in session an access token names, if its signature and expiry hold."""
    try:
        claims = jwt.decode(
            token, policy.secret_key, algorithms=[JWT_ALGORITHM], issuer=JWT_ISSUER,
            options={"require": ["exp", "iat", "sub", "sid"]},
        )
        return uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"])
    except (jwt.InvalidTokenError, ValueError, TypeError):
        raise Unauthenticated("The access token is not valid or has expired.") from None


def create_personal_token(session: Session, policy: TokenPolicy, account: Account, *, name: str,
                          scopes: Iterable[str], expires_in_days: int,
                          now: datetime) -> IssuedPersonalToken:
    """A new token and its secret, which is returned this once and never stored."""
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in scope_names.PERSONAL_TOKEN_SCOPES]
    if unknown:
        raise Invalid(f"Unknown scopes: {', '.join(unknown)}.", field="scopes")
    if not 1 <= expires_in_days <= policy.personal_token_max_days:
        raise Invalid(f"Choose between 1 and {policy.personal_token_max_days} days.",
                      field="expires_in_days")
    secret = PERSONAL_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = PersonalAccessToken(
        account_id=account.id, name=name, token_hash=hash_secret(secret), token_hint=secret[-4:],
        scopes=scopes, created_at=now, expires_at=now + timedelta(days=expires_in_days),
    )
    session.add(token)
    session.flush()
    return IssuedPersonalToken(token, secret)


def personal_tokens_query(account: Account, now: datetime):
    """The account's live personal tokens, newest first, for the cursor pager."""
    return select(PersonalAccessToken).where(
        PersonalAccessToken.account_id == account.id,
        PersonalAccessToken.revoked_at.is_(None),
        PersonalAccessToken.expires_at > now,
    )


def revoke_personal_token(session: Session, account: Account, token_id: uuid.UUID,
                          now: datetime) -> None:
    token = session.scalar(select(PersonalAccessToken).where(
        PersonalAccessToken.id == token_id, PersonalAccessToken.account_id == account.id,
        PersonalAccessToken.revoked_at.is_(None),
    ))
    if token is None:
        raise NotFound("No such personal access token.")
    token.revoked_at = now


def _issue(session: Session, policy: TokenPolicy, auth_session: AuthSession,
           account_id: uuid.UUID, now: datetime) -> TokenPair:
    access = jwt.encode(
        {
            "iss": JWT_ISSUER, "sub": str(account_id), "sid": str(auth_session.id),
            "iat": now, "exp": now + timedelta(seconds=policy.access_ttl_s),
            "jti": uuid.uuid4().hex,
        },
        policy.secret_key, algorithm=JWT_ALGORITHM,
    )
    secret = secrets.token_urlsafe(32)
    session.add(RefreshToken(
        session_id=auth_session.id, token_hash=hash_secret(secret), created_at=now,
        expires_at=now + timedelta(seconds=policy.refresh_ttl_s),
    ))
    return TokenPair(access, policy.access_ttl_s, secret, policy.refresh_ttl_s)


def _refresh_row(session: Session, refresh_token: str) -> RefreshToken | None:
    return session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == hash_secret(refresh_token))
    )


def _revoke_session(auth_session: AuthSession, now: datetime, *, reason: str) -> None:
    auth_session.revoked_at = now
    auth_session.revoked_reason = reason


def _authenticate_personal_token(session: Session, token: str, now: datetime) -> Principal:
    row = session.scalar(
        select(PersonalAccessToken).options(joinedload(PersonalAccessToken.account))
        .where(PersonalAccessToken.token_hash == hash_secret(token))
    )
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise Unauthenticated("The personal access token is not valid, expired or revoked.")
    due = row.last_used_at is None or now - row.last_used_at >= LAST_USED_GRANULARITY
    return Principal(row.account, frozenset(row.scopes), personal_token_id=row.id,
                     last_used_due=due)


def record_personal_token_use(session: Session, token_id: uuid.UUID, now: datetime) -> None:
    """Set the token's last_used_at (when `Principal.last_used_due`); the caller commits."""
    session.execute(update(PersonalAccessToken).where(PersonalAccessToken.id == token_id)
                    .values(last_used_at=now))

