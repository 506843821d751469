"""The demo is history: seeded at any hour, its messages are in the inbox at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from service.cli import demo
from service.config import WEEKLY_JUMP_THRESHOLD
from service.domain.notify import notifications
from service.models import Account, Notification

LONDON = ZoneInfo(demo.ZONE)


@pytest.mark.parametrize(("local", "seeded_as_of"), [
    (datetime(2026, 12, 2, 12, 0), datetime(2026, 12, 2, 12, 0)),
    (datetime(2026, 12, 2, 21, 29), datetime(2026, 12, 2, 21, 29)),
    (datetime(2026, 12, 2, 21, 30), datetime(2026, 12, 2, 21, 29)),
    (datetime(2026, 12, 2, 23, 50), datetime(2026, 12, 2, 21, 29)),
    (datetime(2026, 12, 3, 3, 0), datetime(2026, 12, 2, 21, 29)),
    (datetime(2026, 7, 1, 6, 59), datetime(2026, 6, 30, 21, 29)),
    (datetime(2026, 7, 1, 7, 0), datetime(2026, 7, 1, 7, 0)),
])
def test_the_demo_is_written_as_of_its_athletes_last_waking_minute(local, seeded_as_of):
    now = local.replace(tzinfo=LONDON).astimezone(UTC)
    assert demo.awake(now) == seeded_as_of.replace(tzinfo=LONDON)


def test_a_demo_seeded_at_night_has_every_warning_delivered(app):
    """Seeded at 23:00 London, no message waits for the morning."""
    state = app.extensions["backstride"]
    real_now = datetime.now(UTC)
    night = datetime.combine(real_now.astimezone(LONDON).date() - timedelta(days=1),
                             datetime.min.time().replace(hour=23), tzinfo=LONDON)
    with state.session_factory() as session:
        demo.seed(session, state.hasher, night.astimezone(UTC),
                  weekly_threshold=WEEKLY_JUMP_THRESHOLD)
        session.flush()
        written = session.scalar(select(func.count()).select_from(Notification))
        readable = sum(
            len(session.scalars(notifications.inbox(athlete, night)).all())
            for athlete in session.scalars(select(Account)))
        session.rollback()
    assert written > 4, "the demo's stories write warnings"
    assert readable == written
