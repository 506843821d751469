"""What an app may be sent about an athlete: the scopes of the athlete's live grants to it.

One function, `app_scopes`, answers it for the outbox (which endpoints an event goes to) and for
the sender (whether access still holds when a delivery is due: a revoked grant stops them). It is
pointed at the apps' OAuth grants (`accounts.apps`) by `use`; until apps exist, no athlete has
granted any app anything, and only an account's own endpoints get events.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from datetime import datetime

from sqlalchemy.orm import Session

from service.domain.errors import NotFound
from service.models import Account

# athlete -> app -> the scopes of all the athlete's live grants to that app
AppScopes = dict[uuid.UUID, dict[uuid.UUID, frozenset[str]]]
Lookup = Callable[[Session, Collection[uuid.UUID], datetime], AppScopes]
OwnerCheck = Callable[[Session, Account, uuid.UUID], None]


def _no_grants(_session: Session, _athlete_ids: Collection[uuid.UUID],
               _now: datetime) -> AppScopes:
    return {}


def _no_apps(_session: Session, _owner: Account, _app_id: uuid.UUID) -> None:
    raise NotFound("No such app.", field="app_id")


_lookup: Lookup = _no_grants
_check_owner: OwnerCheck = _no_apps


def use(lookup: Lookup, check_owner: OwnerCheck) -> None:
    """Point the check at the apps' grants (and at who owns an app)."""
    global _lookup, _check_owner
    _lookup, _check_owner = lookup, check_owner


def app_scopes(session: Session, athlete_ids: Collection[uuid.UUID], now: datetime) -> AppScopes:
    if not athlete_ids:
        return {}
    return _lookup(session, athlete_ids, now)


def check_app_owner(session: Session, owner: Account, app_id: uuid.UUID) -> None:
    """NotFound unless `owner` registered the app (only its owner registers its endpoints)."""
    _check_owner(session, owner, app_id)
