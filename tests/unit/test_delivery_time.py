"""Messages wait for the end of the athlete's quiet hours, in their zone, across DST."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from service.domain.notify.rules import deliver_after, format_distance

QUIET = (time(21, 30), time(7, 0))


@pytest.mark.parametrize(("now", "zone", "expected"), [
    # 03:00 in London in winter: wait until 07:00 GMT.
    (datetime(2026, 1, 15, 3, 0, tzinfo=UTC), "Europe/London",
     datetime(2026, 1, 15, 7, 0, tzinfo=UTC)),
    # 22:00 in London in summer (BST): wait until 07:00 BST next morning = 06:00 UTC.
    (datetime(2026, 7, 15, 21, 0, tzinfo=UTC), "Europe/London",
     datetime(2026, 7, 16, 6, 0, tzinfo=UTC)),
    # Midday in Los Angeles: now.
    (datetime(2026, 7, 15, 19, 0, tzinfo=UTC), "America/Los_Angeles",
     datetime(2026, 7, 15, 19, 0, tzinfo=UTC)),
    # The night London springs forward (29 March 2026): 07:00 BST is 06:00 UTC.
    (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "Europe/London",
     datetime(2026, 3, 29, 6, 0, tzinfo=UTC)),
    # The night Auckland falls back (5 April 2026): 07:00 NZST (+12) is 19:00 UTC the day before.
    (datetime(2026, 4, 4, 14, 0, tzinfo=UTC), "Pacific/Auckland",
     datetime(2026, 4, 4, 19, 0, tzinfo=UTC)),
])
def test_delivery_waits_for_the_morning(now, zone, expected):
    assert deliver_after(now, zone, *QUIET) == expected


def test_exactly_at_the_end_of_quiet_hours_is_now():
    now = datetime(2026, 1, 15, 7, 0, tzinfo=UTC)
    assert deliver_after(now, "Europe/London", *QUIET) == now


def test_distances_in_the_athletes_units():
    assert format_distance(14_500, "km") == "14.5 km"
    assert format_distance(16_093, "mi") == "10.0 mi"
