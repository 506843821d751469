"""When to try a delivery again, and what an endpoint's answer means (pure: no database).

The schedule is the one the Standard Webhooks spec recommends: at once, then after 5 s, 5 min,
30 min, 2 h, 5 h, 10 h and 10 h (eight attempts over about 27.6 hours), each wait with jitter. An
answer's Retry-After is honoured (never sooner than it says, at most a day). A 410 means the
endpoint is gone: it is disabled. An endpoint whose every attempt has failed for five days is
disabled too, and its owner told.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

# The wait before attempt n + 1, once attempt n (1-based) failed; the first attempt is at once.
SCHEDULE_S: tuple[int, ...] = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
MAX_ATTEMPTS = len(SCHEDULE_S) + 1
JITTER = 0.2  # each wait is 0.8x to 1.2x the schedule's
MAX_RETRY_AFTER_S = 24 * 3600
DISABLE_AFTER = timedelta(days=5)
TIMEOUT_S = 15
# Only this much of an answer is read: we keep its status, never its body.
MAX_ANSWER_BYTES = 4096


def claim_size(concurrency: int, timeout_s: float, stuck_after_s: float, most: int = 200) -> int:
    """How many deliveries one claim may take: so many that even if every request takes the
    whole timeout, `concurrency` at a time, the last is sent before `release_stuck` would call
    it stuck. A bigger claim's waiting tail would be put back and sent by another worker while
    this one, alive, sends it too: a repeat that no crash caused."""
    rounds = max(1, math.ceil(stuck_after_s / timeout_s) - 1)
    return max(1, min(most, concurrency * rounds))

DELIVERED, RETRY, GONE = "delivered", "retry", "gone"


@dataclass(frozen=True)
class Answer:
    """What came of one request: a status code, or an error before there was one."""

    status_code: int | None
    error: str | None = None
    retry_after_s: float | None = None
    duration_ms: int = 0

    @property
    def verdict(self) -> str:
        if self.status_code is not None and 200 <= self.status_code < 300:
            return DELIVERED
        if self.status_code == 410:
            return GONE
        return RETRY  # any other status (a redirect is not followed), a timeout, a refusal


def next_delay_s(attempts: int, retry_after_s: float | None = None,
                 jitter: Callable[[], float] = random.random) -> float | None:
    """Seconds until the next attempt after `attempts` failed ones; None when none is left."""
    if attempts >= MAX_ATTEMPTS:
        return None
    delay = SCHEDULE_S[attempts - 1] * (1 - JITTER + 2 * JITTER * jitter())
    if retry_after_s:
        delay = max(delay, min(retry_after_s, MAX_RETRY_AFTER_S))
    return delay


def retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date (RFC 9110 section 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def should_disable(failing_since: datetime | None, now: datetime) -> bool:
    return failing_since is not None and now - failing_since >= DISABLE_AFTER
