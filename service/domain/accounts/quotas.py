"""Per-account quotas: how much of a thing one account may hold or do (settings `QUOTA_*`).

Each use case that creates such a thing counts what the account already has, under a lock on the
account's row (PostgreSQL; SQLite writes one at a time anyway), so two requests at once cannot
both take the last place. A quota of None means none (the CLI, the demo and tests of the use case
itself); the API always passes the setting.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.errors import QuotaExceeded
from service.models import Account


def hold(session: Session, account: Account) -> None:
    """Lock the account's row until the transaction ends: counts and inserts are one step."""
    session.execute(select(Account.id).where(Account.id == account.id).with_for_update())


def check(used: int, adding: int, limit: int | None, refusal: str, *, field: str | None = None
          ) -> None:
    """Refuse when `used + adding` would pass `limit`; `refusal` says what to do instead."""
    if limit is not None and used + adding > limit:
        raise QuotaExceeded(refusal, field=field)
