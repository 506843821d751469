"""Apps: other programs acting for an athlete, by their consent (an OAuth 2 authorisation server).

The protocol itself (parsing requests, PKCE, client authentication, error bodies) is Authlib's, in
service.api.oauth; this module is what it stores and decides, with no Flask:

- an app (a client) is registered by any account, with exact redirect URIs and, if confidential,
  a secret shown once and stored as a SHA-256 hash (`register_app`);
- a redirect URI matches only exactly, except that a loopback one may come back on any port
  (RFC 8252 section 7.3; `redirect_uri_matches`), and only https, loopback http and private-use
  schemes may be registered (`redirect_uri_problem`);
- an authorisation code is single use: presented again, it revokes every token its first use
  issued (RFC 6749 section 4.1.2; `claim_code`);
- refresh tokens rotate, and one presented twice revokes its whole family, the grant (RFC 9700
  section 4.14; `claim_refresh`); a refresh may narrow the scopes, never widen them;
- access tokens are opaque and checked against their grant on every request, so revoking an app
  ends its tokens at once (`authenticate_access_token`);
- every read an app makes is written to the athlete's access log beside coach reads
  (`record_read`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, joinedload

from service.domain.accounts import scopes as scope_names
from service.domain.errors import Invalid, NotFound
from service.models import (
    AccessLogEntry,
    Account,
    OAuthClient,
    OAuthCode,
    OAuthGrant,
    OAuthToken,
)

ACCESS_TOKEN_PREFIX = "bst_oat_"
REFRESH_TOKEN_PREFIX = "bst_ort_"
CLIENT_SECRET_PREFIX = "bst_cs_"
CLIENT_ID_PREFIX = "bst_app_"
# RFC 6749 section 4.1.2 recommends 10 minutes at most; the exchange follows the redirect at once.
CODE_TTL = timedelta(minutes=2)
MAX_REDIRECT_URIS = 10
S256 = "S256"
# RFC 8252 section 8.3: loopback IP literals, not "localhost" (which a resolver may send
# elsewhere, and which another program may listen on first).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1"})
# RFC 8252 section 7.1: a private-use scheme is a reverse domain name, so it contains a period.
_PRIVATE_SCHEME = re.compile(r"^[a-z][a-z0-9+\-]*(\.[a-z0-9+\-]+)+$")


@dataclass(frozen=True)
class AppPolicy:
    access_ttl_s: int
    refresh_ttl_s: int


@dataclass(frozen=True)
class IssuedApp:
    """A new app, with its secret (confidential apps only), which exists only in this answer."""

    row: OAuthClient
    client_secret: str | None

    def __getattr__(self, name: str) -> object:
        return getattr(self.row, name)


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    scopes: list[str]


@dataclass(frozen=True)
class AppAccess:
    """What a genuine app access token carries."""

    account: Account
    scopes: frozenset[str]
    grant_id: uuid.UUID
    app_id: uuid.UUID


@dataclass(frozen=True)
class AuthorisedApp:
    """An app as the athlete sees it in their list: what it holds, since when, last used."""

    id: uuid.UUID
    name: str
    client_id: str
    scopes: list[str]
    authorised_at: datetime
    last_used_at: datetime | None


class ScopeEscalation(Invalid):
    """A refresh asked for a scope the athlete never granted."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- Redirect URIs (pure rules) ------------------------------------------------------------

def redirect_uri_problem(uri: str) -> str | None:
    """Why this URI cannot be registered, or None: https, loopback http, or a private-use scheme
    (RFC 8252 sections 7.1 to 7.3); never a fragment, user information or a wildcard."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 (a malformed port raises)
    except ValueError:
        return "Not a valid URI."
    if not uri or uri != uri.strip() or any(c in uri for c in ' "<>\\^`{|}*'):
        return "A redirect URI has no spaces, wildcards or quotes."
    if parts.fragment or "#" in uri:
        return "A redirect URI must not have a fragment (RFC 6749 section 3.1.2)."
    if parts.username is not None or parts.password is not None:
        return "A redirect URI must not carry user information."
    scheme = parts.scheme
    if scheme == "https":
        return None if parts.hostname else "An https redirect URI needs a host."
    if scheme == "http":
        if parts.hostname == "localhost":
            return ("Use the loopback address http://127.0.0.1 (or [::1]) rather than "
                    "localhost (RFC 8252 section 8.3).")
        if parts.hostname not in LOOPBACK_HOSTS:
            return "Plain http is only for loopback redirects (http://127.0.0.1/...)."
        return None  # any port at request time; a registered port does not matter
    if scheme in ("javascript", "data", "file", "vbscript", "about", "blob", "ftp", "ws", "wss"):
        return f"The scheme {scheme}: cannot be a redirect URI."
    if not _PRIVATE_SCHEME.match(scheme):
        return ("A private-use scheme must be a reverse domain name you control, such as "
                "com.example.app:/callback (RFC 8252 section 7.1).")
    return None


def redirect_uri_matches(registered: Iterable[str], requested: str) -> bool:
    """Whether `requested` is one of the registered URIs: compared exactly, as strings, except a
    loopback http URI, whose port may be any (RFC 8252 section 7.3)."""
    if not requested:
        return False
    if requested in registered:
        return True
    wanted = _loopback_without_port(requested)
    return wanted is not None and any(_loopback_without_port(uri) == wanted for uri in registered)


def _loopback_without_port(uri: str) -> tuple[str, str, str, str] | None:
    """A loopback http URI less its port, or None for any other URI."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 (a malformed port raises)
    except ValueError:
        return None
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS:
        return None
    if parts.username is not None or parts.password is not None or parts.fragment:
        return None
    return parts.scheme, parts.hostname, parts.path, parts.query


# --- Apps, by their owners -----------------------------------------------------------------

def register_app(session: Session, owner: Account, *, name: str, redirect_uris: list[str],
                 confidential: bool, now: datetime) -> IssuedApp:
    uris = list(dict.fromkeys(redirect_uris))
    if not 1 <= len(uris) <= MAX_REDIRECT_URIS:
        raise Invalid(f"Register between 1 and {MAX_REDIRECT_URIS} redirect URIs.",
                      field="redirect_uris")
    for uri in uris:
        problem = redirect_uri_problem(uri)
        if problem:
            raise Invalid(problem, field="redirect_uris")
    secret = CLIENT_SECRET_PREFIX + secrets.token_urlsafe(32) if confidential else None
    app = OAuthClient(
        client_id=CLIENT_ID_PREFIX + secrets.token_urlsafe(16), owner_id=owner.id,
        name=name.strip(), redirect_uris=uris, confidential=confidential,
        secret_hash=digest(secret) if secret else None, secret_hint=secret[-4:] if secret else None,
        created_at=now,
    )
    session.add(app)
    session.flush()
    return IssuedApp(app, secret)


def apps_of_owner(owner: Account) -> Select[tuple[OAuthClient]]:
    return select(OAuthClient).where(OAuthClient.owner_id == owner.id,
                                     OAuthClient.deleted_at.is_(None))


def app_of_owner(session: Session, owner: Account, app_id: uuid.UUID) -> OAuthClient:
    app = session.scalar(apps_of_owner(owner).where(OAuthClient.id == app_id))
    if app is None:
        raise NotFound("No such app.")
    return app


def delete_app(session: Session, owner: Account, app_id: uuid.UUID, now: datetime) -> None:
    """The app stops working at once, for every athlete; access logs keep naming it."""
    app = app_of_owner(session, owner, app_id)
    app.deleted_at = now
    _revoke_grants(session, OAuthGrant.client_id == app.id, now, "app_deleted")


def client_by_client_id(session: Session, client_id: str) -> OAuthClient | None:
    if not client_id or len(client_id) > 64:
        return None
    return session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id,
                                                    OAuthClient.deleted_at.is_(None)))


def check_client_secret(app: OAuthClient, secret: str) -> bool:
    if not app.confidential or app.secret_hash is None or not secret:
        return False
    return hmac.compare_digest(app.secret_hash, digest(secret))


def allowed_scopes(requested: Iterable[str]) -> list[str]:
    """The requested scopes an app may ask for, in the vocabulary's order."""
    wanted = set(requested)
    return [scope for scope in scope_names.APP_SCOPES if scope in wanted]


# --- Codes and tokens ----------------------------------------------------------------------

def save_code(session: Session, app: OAuthClient, account: Account, *, code: str,
              redirect_uri: str, granted: Iterable[str], challenge: str,
              now: datetime) -> OAuthCode:
    row = OAuthCode(
        code_hash=digest(code), client_id=app.id, account_id=account.id,
        redirect_uri=redirect_uri, scopes=allowed_scopes(granted), code_challenge=challenge,
        code_challenge_method=S256, created_at=now, expires_at=now + CODE_TTL,
    )
    session.add(row)
    session.flush()
    return row


def claim_code(session: Session, app: OAuthClient, code: str, now: datetime) -> OAuthCode | None:
    """The code, used up now; None if unknown, another app's, expired or used before.

    A code that comes back (RFC 6749 section 4.1.2) revokes the grant its first use created, and
    with it every token issued from it: the caller commits that although the request fails.
    """
    row = session.scalar(select(OAuthCode).where(OAuthCode.code_hash == digest(code)))
    if row is None or row.client_id != app.id:
        return None
    if row.used_at is not None:
        revoke_code_grant(session, row, now)
        return None
    claimed = session.execute(
        update(OAuthCode).where(OAuthCode.id == row.id, OAuthCode.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if not claimed:  # a concurrent exchange won: this one is the second use
        session.refresh(row)
        revoke_code_grant(session, row, now)
        return None
    if row.expires_at <= now:
        return None
    return row


def revoke_code_grant(session: Session, code: OAuthCode, now: datetime) -> None:
    if code.grant_id is not None:
        _revoke_grants(session, OAuthGrant.id == code.grant_id, now, "code_reuse")


def start_grant(session: Session, policy: AppPolicy, code: OAuthCode, granted: list[str],
                now: datetime) -> OAuthGrant:
    """The grant (token family) a code's exchange begins."""
    grant = OAuthGrant(client_id=code.client_id, account_id=code.account_id,
                       scopes=allowed_scopes(granted), created_at=now,
                       expires_at=now + timedelta(seconds=policy.refresh_ttl_s))
    session.add(grant)
    session.flush()
    code.grant_id = grant.id
    return grant


def save_tokens(session: Session, policy: AppPolicy, grant: OAuthGrant, *, access_token: str,
                refresh_token: str, granted: Iterable[str], now: datetime) -> OAuthToken:
    """Store an issued pair (hashes only); a refresh renews the family's lifetime."""
    wanted = set(granted)
    row = OAuthToken(
        grant_id=grant.id, access_hash=digest(access_token), refresh_hash=digest(refresh_token),
        scopes=[scope for scope in grant.scopes if scope in wanted], created_at=now,
        access_expires_at=now + timedelta(seconds=policy.access_ttl_s),
        refresh_expires_at=now + timedelta(seconds=policy.refresh_ttl_s),
    )
    grant.expires_at = row.refresh_expires_at
    session.add(row)
    session.flush()
    return row


def new_access_token() -> str:
    return ACCESS_TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_refresh_token() -> str:
    return REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(32)


def claim_refresh(session: Session, app: OAuthClient, refresh_token: str,
                  requested: list[str] | None, now: datetime) -> OAuthToken | None:
    """The pair this refresh token belongs to, used up now; None if it is not valid.

    A scope beyond what the athlete granted is refused before the token is used up
    (ScopeEscalation), so the app can retry without it. A token presented a second time
    revokes its whole family (RFC 9700 section 4.14): the caller commits that.
    """
    row = session.scalar(
        select(OAuthToken).options(joinedload(OAuthToken.grant))
        .where(OAuthToken.refresh_hash == digest(refresh_token))
    )
    if row is None or row.grant.client_id != app.id:
        return None
    grant = row.grant
    if grant.revoked_at is not None or row.refresh_expires_at <= now:
        return None
    if requested is not None:
        beyond = sorted(set(requested) - set(grant.scopes))
        if beyond:
            raise ScopeEscalation(f"Not granted by the athlete: {', '.join(beyond)}.",
                                  field="scope")
    if row.refresh_used_at is not None:
        _revoke_grants(session, OAuthGrant.id == grant.id, now, "refresh_reuse")
        return None
    claimed = session.execute(
        update(OAuthToken).where(OAuthToken.id == row.id, OAuthToken.refresh_used_at.is_(None))
        .values(refresh_used_at=now, revoked_at=now)
    ).rowcount
    if not claimed:
        _revoke_grants(session, OAuthGrant.id == grant.id, now, "refresh_reuse")
        return None
    return row


def token_by_secret(session: Session, app: OAuthClient, token: str) -> OAuthToken | None:
    """An access or refresh token of this app's, for revocation (RFC 7009)."""
    hashed = digest(token)
    column = (OAuthToken.refresh_hash if token.startswith(REFRESH_TOKEN_PREFIX)
              else OAuthToken.access_hash)
    row = session.scalar(select(OAuthToken).options(joinedload(OAuthToken.grant))
                         .where(column == hashed))
    if row is None or row.grant.client_id != app.id:
        return None
    return row


def revoke_family(session: Session, token: OAuthToken, now: datetime, reason: str) -> None:
    """End the grant a token belongs to, and so every token issued from it."""
    _revoke_grants(session, OAuthGrant.id == token.grant_id, now, reason)


def authenticate_access_token(session: Session, token: str, now: datetime) -> AppAccess | None:
    """The athlete and scopes behind a live app access token, or None."""
    row = session.execute(
        select(OAuthToken, OAuthGrant, Account)
        .join(OAuthGrant, OAuthGrant.id == OAuthToken.grant_id)
        .join(OAuthClient, OAuthClient.id == OAuthGrant.client_id)
        .join(Account, Account.id == OAuthGrant.account_id)
        .where(OAuthToken.access_hash == digest(token), OAuthToken.revoked_at.is_(None),
               OAuthToken.access_expires_at > now, OAuthGrant.revoked_at.is_(None),
               OAuthClient.deleted_at.is_(None))
    ).first()
    if row is None:
        return None
    pair, grant, account = row
    return AppAccess(account, frozenset(pair.scopes), grant.id, grant.client_id)


def account_of_access_token(session: Session, token: str, now: datetime) -> uuid.UUID | None:
    """For counting requests: the athlete a live app token names, without loading them."""
    return session.scalar(
        select(OAuthGrant.account_id).join(OAuthToken, OAuthToken.grant_id == OAuthGrant.id)
        .where(OAuthToken.access_hash == digest(token), OAuthToken.revoked_at.is_(None),
               OAuthToken.access_expires_at > now, OAuthGrant.revoked_at.is_(None))
    )


def record_read(session: Session, access: AppAccess, resource: str, now: datetime) -> None:
    """The read goes into the athlete's access log, and the grant's last use is now."""
    session.add(AccessLogEntry(athlete_id=access.account.id, app_id=access.app_id,
                               resource=resource[:24], at=now))
    session.execute(update(OAuthGrant).where(OAuthGrant.id == access.grant_id)
                    .values(last_used_at=now))


# --- The athlete's side --------------------------------------------------------------------

def authorised_apps(session: Session, account: Account, now: datetime) -> list[AuthorisedApp]:
    """Every app holding a live grant from the athlete: the scopes of all its grants together,
    when first authorised, when last used. Newest first."""
    rows = session.execute(
        select(OAuthGrant, OAuthClient).join(OAuthClient, OAuthClient.id == OAuthGrant.client_id)
        .where(OAuthGrant.account_id == account.id, OAuthGrant.revoked_at.is_(None),
               OAuthGrant.expires_at > now, OAuthClient.deleted_at.is_(None))
    ).all()
    apps: dict[uuid.UUID, dict] = {}
    for grant, app in rows:
        entry = apps.setdefault(app.id, {"app": app, "scopes": set(), "since": grant.created_at,
                                         "used": None})
        entry["scopes"] |= set(grant.scopes)
        entry["since"] = min(entry["since"], grant.created_at)
        if grant.last_used_at and (entry["used"] is None or grant.last_used_at > entry["used"]):
            entry["used"] = grant.last_used_at
    listed = [AuthorisedApp(e["app"].id, e["app"].name, e["app"].client_id,
                            allowed_scopes(e["scopes"]), e["since"], e["used"])
              for e in apps.values()]
    return sorted(listed, key=lambda a: (a.authorised_at, a.id), reverse=True)


def revoke_app_for(session: Session, account: Account, app_id: uuid.UUID, now: datetime) -> None:
    """End every grant the athlete gave this app, and its tokens with them, at once."""
    revoked = _revoke_grants(session, (OAuthGrant.account_id == account.id)
                             & (OAuthGrant.client_id == app_id), now, "athlete")
    if not revoked:
        raise NotFound("No such app.")


def _live_grants(athlete_ids: Iterable[uuid.UUID], now: datetime) -> list[Any]:
    return [OAuthGrant.account_id.in_(set(athlete_ids)), OAuthGrant.revoked_at.is_(None),
            OAuthGrant.expires_at > now, OAuthClient.deleted_at.is_(None)]


def live_grant_apps(athlete_ids: Iterable[uuid.UUID], now: datetime) -> Select[tuple[uuid.UUID]]:
    """The apps any of the athletes has a live grant to, as a subquery for one statement."""
    return (select(OAuthGrant.client_id)
            .join(OAuthClient, OAuthClient.id == OAuthGrant.client_id)
            .where(*_live_grants(athlete_ids, now)))


def live_grant_scopes(session: Session, athlete_ids: Iterable[uuid.UUID],
                      now: datetime) -> dict[uuid.UUID, dict[uuid.UUID, frozenset[str]]]:
    """athlete -> app -> the scopes of all the athlete's live grants to that app: what an app
    may be sent about them (service.domain.webhooks.access). An app deleted, a grant revoked or
    run out holds nothing."""
    rows = session.execute(
        select(OAuthGrant.account_id, OAuthGrant.client_id, OAuthGrant.scopes)
        .join(OAuthClient, OAuthClient.id == OAuthGrant.client_id)
        .where(*_live_grants(athlete_ids, now))
    ).all()
    held: dict[uuid.UUID, dict[uuid.UUID, set[str]]] = {}
    for athlete_id, app_id, granted in rows:
        held.setdefault(athlete_id, {}).setdefault(app_id, set()).update(granted)
    return {athlete: {app: frozenset(scopes) for app, scopes in apps.items()}
            for athlete, apps in held.items()}


def app_names(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    ids = set(ids)
    if not ids:
        return {}
    return dict(session.execute(select(OAuthClient.id, OAuthClient.name)
                                .where(OAuthClient.id.in_(ids))).all())


def _revoke_grants(session: Session, condition, now: datetime, reason: str) -> int:
    return session.execute(
        update(OAuthGrant).where(condition, OAuthGrant.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .execution_options(synchronize_session="fetch")
    ).rowcount
