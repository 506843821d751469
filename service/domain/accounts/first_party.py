"""Backstride's own apps: the coach's dashboard as a registered OAuth 2 public client.

The dashboard signs coaches in through the same authorisation server, consent page, scopes and
access log as any other app, so it must exist as a client before anyone opens /coach/. Without a
migration, it is ensured (created if missing, its redirect URIs and name kept current) by the
commands that prepare a database: `backstride db upgrade`, `backstride up` and the demo seed
(docs/decisions.md, "The coach's dashboard").

An app needs an owner; first-party apps belong to a system account whose password hash is not a
hash, so no password ever signs in to it (passwords.verify answers False for an invalid hash).
Its client id is fixed, so the built dashboard knows it without asking.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Account, OAuthClient

DASHBOARD_CLIENT_ID = "bst_app_coach_dashboard"
DASHBOARD_NAME = "Backstride coach dashboard"
# Loopback on any port (RFC 8252 section 7.3, as every loopback redirect here): `make run` and
# the tests serve the dashboard on 127.0.0.1 at whatever port they chose.
DASHBOARD_REDIRECT_URIS = ["http://127.0.0.1/coach/"]
OWNER_EMAIL = "first-party-apps@backstride.invalid"
# Known by client id, never by name: anyone may register an app called "Backstride ...".
CLIENT_IDS = frozenset({DASHBOARD_CLIENT_ID})
_NO_PASSWORD = "!first-party"  # not an argon2 hash: never verifies


def ensure_dashboard(session: Session, now: datetime,
                     public_url: str | None = None) -> OAuthClient:
    """The dashboard's client, created if missing; idempotent, the caller commits.

    Served at a public address, the dashboard comes back to `{public_url}/coach/`, which is
    registered beside the loopback URI (exact match, as for every app)."""
    public = [f"{public_url}/coach/"] if public_url else []
    uris = list(dict.fromkeys([*DASHBOARD_REDIRECT_URIS, *public]))
    client = session.scalar(select(OAuthClient).where(
        OAuthClient.client_id == DASHBOARD_CLIENT_ID))
    if client is None:
        owner = session.scalar(select(Account).where(Account.email == OWNER_EMAIL))
        if owner is None:
            owner = Account(email=OWNER_EMAIL, password_hash=_NO_PASSWORD, timezone="UTC",
                            units="km")
            session.add(owner)
            session.flush()
        client = OAuthClient(client_id=DASHBOARD_CLIENT_ID, owner_id=owner.id,
                             name=DASHBOARD_NAME, redirect_uris=uris, confidential=False,
                             secret_hash=None, secret_hint=None, created_at=now)
        session.add(client)
    else:
        client.redirect_uris, client.name, client.deleted_at = uris, DASHBOARD_NAME, None
    session.flush()
    return client
