"""What an app may be sent about an athlete: the scopes of the athlete's live grants to it.

One function, `app_scopes`, answers it for the outbox (which endpoints an event goes to) and for
the sender (whether access still holds when a delivery is due: a revoked grant stops them), from
the apps' OAuth grants (service.domain.accounts.apps). Asked in the database each time, in the
API and the sender alike: revoking an app, or its owner deleting it, stops its deliveries with
the next batch.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Select
from sqlalchemy.orm import Session

from service.domain.accounts import apps
from service.domain.errors import NotFound
from service.models import Account

# athlete -> app -> the scopes of all the athlete's live grants to that app
AppScopes = dict[uuid.UUID, dict[uuid.UUID, frozenset[str]]]


def app_scopes(session: Session, athlete_ids: Collection[uuid.UUID], now: datetime) -> AppScopes:
    if not athlete_ids:
        return {}
    return apps.live_grant_scopes(session, athlete_ids, now)


def granting_apps(athlete_ids: Collection[uuid.UUID], now: datetime) -> Select[tuple[uuid.UUID]]:
    """The apps holding a live grant of any of these athletes (a subquery)."""
    return apps.live_grant_apps(athlete_ids, now)


def check_app_owner(session: Session, owner: Account, app_id: uuid.UUID) -> None:
    """NotFound unless `owner` registered the app (only its owner registers its endpoints)."""
    try:
        apps.app_of_owner(session, owner, app_id)
    except NotFound as error:
        raise NotFound("No such app of yours.", field="app_id") from error
