"""Training load: run spikes, weekly jumps, ACWR and return mode. Pure functions on plain data.

Sources and conventions (E: evidence, C: convention or our default):
- Run spike (E): Frandsen et al., BJSM 2025, 5,205 runners and 588,071 runs. A run longer than the
  longest of the previous 30 days raised the injury rate: by 10-30 % HR 1.64, 30-100 % HR 1.52,
  over 100 % HR 2.28. Week-to-week change showed no link in the same cohort.
- No run in 30 days: the baseline is half the longest run of 90 days (C).
- Weekly jump (E, weak): Nielsen et al. 2014, JOSPT: over 30 % a week was linked to distance-related
  injuries in novices (HR 1.59). Only with 14 days of history and 5 km the week before (C). The
  "10 % rule" has no support (Buist 2008); it is a setting, not the default.
- ACWR (shown, never alerted on): Williams et al. 2017 for the EWMA (lambda = 2 / (N + 1)).
- Return mode: 28 days after 14 or more days without a run (C).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import IntEnum
from fractions import Fraction
from itertools import pairwise

SPIKE_WINDOW = timedelta(days=30)
FALLBACK_WINDOW = timedelta(days=90)
ADVISABLE_PERCENT = 110
WEEKLY_MIN_PREVIOUS_M = 5000
WEEKLY_MIN_HISTORY_DAYS = 14
ACWR_MIN_DAYS = 28
CHRONIC_REBUILDING_M_PER_DAY = 1000
LAYOFF_DAYS = 14
RETURN_MODE_DAYS = 28

FRANDSEN_2025 = "Frandsen et al., Br J Sports Med 2025"
NIELSEN_2014 = "Nielsen et al., J Orthop Sports Phys Ther 2014"


class Spike(IntEnum):
    """How much longer a run was than the longest of the previous 30 days."""

    OK = 0  # up to 10 % longer
    SMALL = 1  # 10 to 30 % (HR 1.64)
    MODERATE = 2  # 30 to 100 % (HR 1.52)
    LARGE = 3  # over 100 % (HR 2.28)

    @property
    def label(self) -> str:
        return self.name.lower()


SPIKE_HAZARD_RATIO = {Spike.SMALL: 1.64, Spike.MODERATE: 1.52, Spike.LARGE: 2.28}


@dataclass(frozen=True)
class Run:
    started_at: datetime
    distance_m: int


def classify_spike(distance_m: int, longest_m: int) -> Spike:
    """Classify a run against the baseline, in integer metres so boundaries are exact."""
    if distance_m * 100 <= longest_m * 110:
        return Spike.OK
    if distance_m * 100 <= longest_m * 130:
        return Spike.SMALL
    if distance_m <= 2 * longest_m:
        return Spike.MODERATE
    return Spike.LARGE


def spike_baseline(runs: Iterable[Run], at: datetime) -> int | None:
    """The longest run started in [at - 30 d, at); else half the longest of 90 days; else None."""
    runs = [r for r in runs if r.distance_m > 0]
    in_90 = [r.distance_m for r in runs if at - FALLBACK_WINDOW <= r.started_at < at]
    in_30 = [r.distance_m for r in runs if at - SPIKE_WINDOW <= r.started_at < at]
    return baseline_of(max(in_30, default=None), max(in_90, default=None))


def baseline_of(longest_30d_m: int | None, longest_90d_m: int | None) -> int | None:
    """The spike baseline from the two windows' longest runs (as the nightly SQL computes them)."""
    if longest_30d_m:
        return longest_30d_m
    return longest_90d_m // 2 if longest_90d_m else None


def longest_advisable_run_m(baseline_m: int) -> int:
    return baseline_m * ADVISABLE_PERCENT // 100


@dataclass(frozen=True)
class SpikeFinding:
    run: Run
    baseline_m: int
    spike: Spike

    @property
    def percent_longer(self) -> int:
        return round((self.run.distance_m - self.baseline_m) * 100 / self.baseline_m)


def assess_run(run: Run, history: Sequence[Run]) -> SpikeFinding | None:
    """The run against the runs before it; None for a first run (nothing to compare with)."""
    return assess_against(run, spike_baseline(history, run.started_at))


def assess_against(run: Run, baseline_m: int | None) -> SpikeFinding | None:
    """The run against a baseline already found (by SQL, or from a plan); None without one."""
    if not baseline_m:
        return None
    return SpikeFinding(run, baseline_m, classify_spike(run.distance_m, baseline_m))


@dataclass(frozen=True)
class WeeklyChange:
    last_7_days_m: int
    previous_7_days_m: int
    change: float | None  # W0 / W1 - 1, None when W1 is 0
    caution: bool
    reason: str  # why it is or is not a caution


def weekly_change(daily_m: Sequence[int], history_days: int,
                  threshold: float) -> WeeklyChange:
    """W0 = the last 7 days of `daily_m` (oldest first, ending today), W1 = the 7 before."""
    w0 = sum(daily_m[-7:])
    w1 = sum(daily_m[-14:-7])
    change = (w0 / w1 - 1) if w1 else None
    if history_days < WEEKLY_MIN_HISTORY_DAYS:
        return WeeklyChange(w0, w1, change, False, "under 14 days of history")
    if w1 < WEEKLY_MIN_PREVIOUS_M:
        return WeeklyChange(w0, w1, change, False, "under 5 km the week before")
    # Exact arithmetic: 9,100 m after 7,000 m is 30 % exactly, not 30.000000000000004 %.
    caution = bool(w1) and Fraction(w0, w1) - 1 > Fraction(str(threshold))
    return WeeklyChange(w0, w1, change, caution,
                        f"over {threshold:.0%} more" if caution else f"within {threshold:.0%}")


@dataclass(frozen=True)
class Acwr:
    state: str  # "warming_up" (under 28 days), "rebuilding" (chronic under 1 km/day), "ok"
    coupled: float | None
    uncoupled: float | None
    ewma: float | None


def acwr(daily_m: Sequence[int]) -> Acwr:
    """Acute:chronic workload ratios of daily distances (oldest first, missing days as 0)."""
    if len(daily_m) < ACWR_MIN_DAYS:
        return Acwr("warming_up", None, None, None)
    acute = sum(daily_m[-7:]) / 7
    chronic = sum(daily_m[-28:]) / 28
    previous_21 = sum(daily_m[-28:-7]) / 21
    seed = sum(daily_m[:28]) / 28
    acute_ewma = chronic_ewma = seed
    for distance in daily_m[28:]:
        acute_ewma += 2 / (7 + 1) * (distance - acute_ewma)
        chronic_ewma += 2 / (28 + 1) * (distance - chronic_ewma)
    state = "rebuilding" if chronic < CHRONIC_REBUILDING_M_PER_DAY else "ok"
    return Acwr(
        state,
        acute / chronic if chronic else None,
        acute / previous_21 if previous_21 else None,
        acute_ewma / chronic_ewma if chronic_ewma else None,
    )


@dataclass(frozen=True)
class ReturnMode:
    active: bool
    since: date | None  # the first run after the layoff, or the last run before an ongoing one
    until: date | None


def return_mode(run_days: Sequence[date], as_of: date) -> ReturnMode:
    """Return mode lasts 28 days from the first run after 14 or more days without one.

    An ongoing layoff of 14 days or more is return mode too: the next run starts from there.
    """
    days = sorted({day for day in run_days if day <= as_of})
    if not days:
        return ReturnMode(False, None, None)
    if (as_of - days[-1]).days >= LAYOFF_DAYS:
        return ReturnMode(True, days[-1], None)
    comebacks = [day for previous, day in pairwise(days) if (day - previous).days > LAYOFF_DAYS]
    if comebacks and as_of < comebacks[-1] + timedelta(days=RETURN_MODE_DAYS):
        return ReturnMode(True, comebacks[-1], comebacks[-1] + timedelta(days=RETURN_MODE_DAYS))
    return ReturnMode(False, None, None)


def daily_series(distances_by_day: dict[date, int], first: date, last: date) -> list[int]:
    """Distances for every day from first to last, missing days as 0."""
    span = (last - first).days + 1
    return [distances_by_day.get(first + timedelta(days=i), 0) for i in range(max(span, 0))]
