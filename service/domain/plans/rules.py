"""Planned runs judged before they happen, a safer version of a plan, done against planned. Pure.

docs/design.md, "Plans". A planned run is judged by the functions that judge a run that happened
(`training.rules`: `assess_run`, `weekly_change`, `return_mode`), against the history it will
have on its day: the runs done and the runs planned before it. Conventions (C) of our own:

- A planned run has a day but no time of day, so every run, done or planned, counts at noon of
  its local day: "the 30 days before" a planned run are the 30 calendar days before its day, and
  two runs on one day do not count as each other's baseline.
- Judged are the planned runs from today on, except today's when a run is already done today
  (that day is history now).
- The weekly change is judged on every day from the first planned run to the last, as the nightly
  analysis judges every day; a caution on a rest day belongs to the latest planned run of its 7
  days.
- Return mode is reported, not flagged: the rules give it no limit of its own (after a break the
  spike baseline is already half the longest run of 90 days).
- A planned day is done when what was run is within 20 % of the plan, as TrainingPeaks colours
  a day green from 80 to 120 % of what was planned; shorter, longer or missed otherwise.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction

from service.domain.accounts.rules import in_quiet_hours
from service.domain.training import rules as load

KINDS = ("easy", "long", "tempo", "intervals", "race")
LONG_KINDS = ("long", "race")
MAX_DISTANCE_M = 500_000  # as a run check-in (checkins.rules); catches unit mistakes
MIN_DISTANCE_M = 100
DAYS_BACK = 366  # how far in the past a planned run may lie (adherence of an old plan)
DAYS_AHEAD = 731  # and ahead: two years, so a typo of the year is caught (C)
# Done: within 20 % of the planned distance (TrainingPeaks: green from 80 to 120 %).
DONE_LOW, DONE_HIGH = Fraction(4, 5), Fraction(6, 5)
# A safer version rounds the distances it shortens down to 100 m, and leaves out a run it would
# have to shorten below 1 km (C).
ROUND_M = 100
SHORTEST_PROPOSED_M = 1000
# The notice about a flagged run goes out at 18:00 local the day before (C): time to change the
# plan, not yet bedtime. If that is in quiet hours, 90 minutes before they begin (as the evening
# stretch nudge), if that is after noon.
NOTICE_TIME = time(18, 0)
NOTICE_BEFORE_QUIET = timedelta(minutes=90)
NOTICE_EARLIEST = time(12, 0)

DONE, SHORTER, LONGER, MISSED, PLANNED = "done", "shorter", "longer", "missed", "planned"


@dataclass(frozen=True)
class Planned:
    """A planned run: a local day and a distance; the id is the client's."""

    id: Hashable
    day: date
    distance_m: int
    kind: str | None = None


@dataclass(frozen=True)
class Done:
    """A run that happened, on the athlete's local day."""

    day: date
    distance_m: int


def _at(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def upcoming(done: Iterable[Done], planned: Iterable[Planned], today: date) -> list[Planned]:
    """The planned runs still to be judged, by day (then as given): from today on, except today's
    when a run is done today already."""
    ran_today = any(run.day == today and run.distance_m > 0 for run in done)
    ahead = [p for p in planned if p.day > today or (p.day == today and not ran_today)]
    return sorted(ahead, key=lambda p: p.day)


# -- the preflight check -----------------------------------------------------------------------


@dataclass(frozen=True)
class Judged:
    """One planned run against the history it will have on its day."""

    run: Planned
    spike: load.SpikeFinding | None  # None: no run in the 90 days before, nothing to compare
    baseline_days: int | None  # 30, or 90 when none in 30 (the baseline is then half its longest)
    weekly: load.WeeklyChange  # the 7 days to `weekly_through`
    weekly_through: date  # its own day, or a rest day after it whose 7 days are a caution
    return_mode: load.ReturnMode

    @property
    def spike_flagged(self) -> bool:
        return self.spike is not None and self.spike.spike > load.Spike.OK

    @property
    def weekly_flagged(self) -> bool:
        return self.weekly.caution

    @property
    def flagged(self) -> bool:
        return self.spike_flagged or self.weekly_flagged


@dataclass(frozen=True)
class Preflight:
    judged: tuple[Judged, ...]

    @property
    def flags(self) -> list[Judged]:
        return [j for j in self.judged if j.flagged]

    @property
    def unjudged(self) -> list[Judged]:
        """Planned runs with no run in the 90 days before: the spike rule has nothing to go on."""
        return [j for j in self.judged if j.spike is None]


class _Timeline:
    """Runs done and planned as the load rules read them: the longest run and the distance of
    each local day, and the first run day (for the weekly rule's 14 days of history)."""

    def __init__(self, done: Iterable[Done], first_run_day: date | None) -> None:
        self.longest: dict[date, int] = {}
        self.daily: dict[date, int] = defaultdict(int)
        self.first = first_run_day
        for run in done:
            self.add(run.day, run.distance_m)

    def add(self, day: date, distance_m: int) -> None:
        if distance_m <= 0:  # the spike rule ignores runs of 0 m; so does this
            return
        self.longest[day] = max(self.longest.get(day, 0), distance_m)
        self.daily[day] += distance_m
        if self.first is None or day < self.first:
            self.first = day

    def _longest_before(self, day: date, window: timedelta) -> int | None:
        days = range(1, window.days + 1)
        return max((self.longest[day - timedelta(days=k)] for k in days
                    if day - timedelta(days=k) in self.longest), default=None)

    def baseline(self, day: date) -> tuple[int | None, int | None]:
        """The spike baseline of a run on `day` (`load.baseline_of` over the windows
        `load.spike_baseline` reads: [noon - 30 d, noon) is the 30 days before), and its window."""
        in_30 = self._longest_before(day, load.SPIKE_WINDOW)
        baseline = load.baseline_of(in_30, self._longest_before(day, load.FALLBACK_WINDOW))
        return baseline, (30 if in_30 else 90) if baseline else None

    def spike(self, day: date, distance_m: int) -> tuple[load.SpikeFinding | None, int | None]:
        baseline, window = self.baseline(day)
        return load.assess_against(load.Run(_at(day), distance_m), baseline), window

    def weekly(self, day: date, threshold: float) -> load.WeeklyChange:
        history_days = (day - self.first).days + 1 if self.first and self.first <= day else 0
        return load.weekly_change(load.daily_series(self.daily, day - timedelta(days=13), day),
                                  history_days, threshold)

    def return_mode(self, day: date) -> load.ReturnMode:
        return load.return_mode([d for d, m in self.daily.items() if m > 0], day)


def judge(done: Sequence[Done], planned: Sequence[Planned], today: date, threshold: float, *,
          first_run_day: date | None = None) -> Preflight:
    """Judge each upcoming planned run: its spike class, the weekly change, return mode.

    `done` needs the runs of the 90 days before the first upcoming day at least (the spike's
    fallback window); `first_run_day` is the athlete's first run ever, for the weekly rule's 14
    days of history (the earliest of `done` if not given).
    """
    ahead = upcoming(done, planned, today)
    timeline = _Timeline(done, first_run_day)
    for run in ahead:
        timeline.add(run.day, run.distance_m)
    judged: dict[Hashable, Judged] = {}
    for run in ahead:
        finding, window = timeline.spike(run.day, run.distance_m)
        judged[run.id] = Judged(run, finding, window, timeline.weekly(run.day, threshold),
                                run.day, timeline.return_mode(run.day))
    if ahead:
        run_days = {run.day for run in ahead}
        day = ahead[0].day
        while day <= ahead[-1].day:
            if day not in run_days:
                change = timeline.weekly(day, threshold)
                owner = next((r for r in reversed(ahead)
                              if day - timedelta(days=6) <= r.day <= day), None)
                if change.caution and owner is not None and not judged[owner.id].weekly.caution:
                    judged[owner.id] = Judged(owner, judged[owner.id].spike,
                                              judged[owner.id].baseline_days, change, day,
                                              judged[owner.id].return_mode)
            day += timedelta(days=1)
    return Preflight(tuple(judged[run.id] for run in ahead))


# -- the goal and a safer version --------------------------------------------------------------


@dataclass(frozen=True)
class Goal:
    """What a plan builds to: its last race, else its longest run (the latest of them)."""

    run_id: Hashable
    day: date
    distance_m: int
    kind: str  # "race" or "peak_long_run"


def goal_of(runs: Sequence[Planned]) -> Goal | None:
    races = [run for run in runs if run.kind == "race"]
    if races:
        race = max(races, key=lambda run: (run.day, run.distance_m))
        return Goal(race.id, race.day, race.distance_m, "race")
    if not runs:
        return None
    peak = max(runs, key=lambda run: (run.distance_m, run.day))
    return Goal(peak.id, peak.day, peak.distance_m, "peak_long_run")


RAISED, SHORTENED, LEFT_OUT = "raised", "shortened", "left_out"


@dataclass(frozen=True)
class Change:
    run: Planned  # as planned
    distance_m: int  # as proposed; 0 when left out
    change: str  # raised, shortened, left_out
    because: str  # "build_up" (raised), "run_spike" or "weekly_jump" (what limited it)


@dataclass(frozen=True)
class Safer:
    goal: Goal | None
    reached: bool  # the proposal reaches the goal on its day with nothing flagged
    reachable_m: int | None  # the longest safe run on the goal's day on this plan's days
    already_safe: bool  # nothing in the plan was flagged: the proposal is the plan
    proposal: tuple[Planned, ...]  # the upcoming runs as proposed (those left out are not)
    changes: tuple[Change, ...] = field(default=())


def safer(done: Sequence[Done], planned: Sequence[Planned], today: date, threshold: float, *,
          first_run_day: date | None = None, goal: Goal | None = None) -> Safer:
    """A version of the plan that reaches its goal with no run above `ok` and no caution, or the
    honest answer that on this plan's days the goal cannot be reached safely by its date.

    The rule (docs/design.md, "Plans"): keep the plan's days and kinds; the goal run keeps its day
    and distance. Working back from the goal, each step needs a run of at least 100/110 of the
    next in the 30 days before it. Where a planned run there is long enough already (and can be
    reached), it is kept; else for a race the longest run of its last 30 days (the plan's peak:
    the taper after it is kept), and before that the latest long run, is raised to what is needed
    (rounded up to 100 m). Then the earliest day that breaks a rule is mended, again and again: a
    run longer than 110 % of its baseline is shortened to it; a 7-day window over the threshold
    gives way in its latest runs first, easy ones before long ones, those needed for the build-up
    next and the goal last; or, when bringing the 7 days before it under 5 km (below which the
    weekly rule does not apply) is the smaller change, those give way. A shortened run is rounded
    down to 100 m, and left out under 1 km. If
    the goal had to give way, the answer is that it cannot be reached safely by its date, with
    the longest safe run on its day; either way the proposal is judged again with `judge`.
    """
    ahead = upcoming(done, planned, today)
    goal = goal or goal_of(ahead)
    if goal is None:
        return Safer(None, False, None, True, ())
    before = judge(done, planned, today, threshold, first_run_day=first_run_day)
    if not before.flags and any(run.id == goal.run_id and run.distance_m == goal.distance_m
                                for run in ahead):
        return Safer(goal, True, goal.distance_m, True, tuple(ahead))
    long_ids = _long_runs(ahead, goal)
    needs = _ladder(done, ahead, goal, long_ids)
    proposed, because = _repair(done, ahead, goal, needs, long_ids, threshold,
                                first_run_day)
    proposal = tuple(Planned(run.id, run.day, proposed[run.id], run.kind) for run in ahead
                     if proposed[run.id] > 0)
    reachable = proposed.get(goal.run_id, 0)
    after = judge(done, proposal, today, threshold, first_run_day=first_run_day)
    safe = not after.flags
    changes = tuple(
        Change(run, proposed[run.id],
               RAISED if proposed[run.id] > run.distance_m
               else LEFT_OUT if proposed[run.id] == 0 else SHORTENED,
               "build_up" if proposed[run.id] > run.distance_m
               else because.get(run.id, "build_up"))
        for run in ahead if proposed[run.id] != run.distance_m)
    return Safer(goal, safe and reachable == goal.distance_m, reachable if safe else None,
                 False, proposal, changes)


def _long_runs(ahead: Sequence[Planned], goal: Goal) -> set[Hashable]:
    """The runs that carry the build-up: long runs and races, or where no run has a kind, each
    calendar week's longest (the latest of equals); and the goal."""
    ids = {run.id for run in ahead if run.kind in LONG_KINDS}
    if not any(run.kind for run in ahead):
        weeks: dict[date, Planned] = {}
        for run in ahead:
            monday = run.day - timedelta(days=run.day.weekday())
            best = weeks.get(monday)
            if best is None or (run.distance_m, run.day) >= (best.distance_m, best.day):
                weeks[monday] = run
        ids |= {run.id for run in weeks.values()}
    return ids | {goal.run_id}


def _needed_baseline(distance_m: int) -> int:
    """The least baseline against which `distance_m` is `ok`: 100 d <= 110 L."""
    return math.ceil(distance_m * 100 / load.ADVISABLE_PERCENT)


def _envelope(done: Sequence[Done], ahead: Sequence[Planned],
              long_ids: set[Hashable]) -> dict[Hashable, int]:
    """The most each planned run could be by the spike rule alone, were every long run before it
    at its own most (the easy runs as planned): how far the build-up can go on these days."""
    timeline = _Timeline(done, None)
    most: dict[Hashable, int] = {}
    day_runs: dict[date, list[Planned]] = defaultdict(list)
    for run in ahead:
        day_runs[run.day].append(run)
    for day in sorted(day_runs):
        baseline, _ = timeline.baseline(day)
        cap = load.longest_advisable_run_m(baseline) if baseline else MAX_DISTANCE_M
        for run in day_runs[day]:
            most[run.id] = cap
        for run in day_runs[day]:
            timeline.add(day, cap if run.id in long_ids else min(run.distance_m, cap))
    return most


def _ladder(done: Sequence[Done], ahead: Sequence[Planned], goal: Goal,
            long_ids: set[Hashable]) -> dict[Hashable, int]:
    """What each build-up run must reach for the goal to be `ok`, working back from the goal.

    A step is kept as planned where a run in the 30 days before is long enough already (and can
    itself be reached); else the plan's peak (for the goal) or the latest long run (before that)
    is raised. When the goal is out of reach, each step asks for the most it can be, so the
    proposal gets as close as the rules allow."""
    most = _envelope(done, ahead, long_ids)
    needs: dict[Hashable, int] = {}
    day, need, first_step = goal.day, min(goal.distance_m, most[goal.run_id]), True
    while True:
        required = _needed_baseline(need)
        start = day - timedelta(days=30)
        if any(start <= run.day < day and run.distance_m >= required for run in done):
            break  # what was run already carries it
        window = [run for run in ahead if start <= run.day < day]
        if not window:
            break
        candidates = [run for run in window if run.id in long_ids] or window
        if first_step and goal.kind == "race":  # keep the taper: nothing after the peak
            peak = max(candidates, key=lambda run: (run.distance_m, run.day))
            candidates = [run for run in candidates if run.day <= peak.day]
            window = [run for run in window if run.day <= peak.day]
        enough = [run for run in window if most[run.id] >= run.distance_m >= required]
        able = [run for run in candidates if most[run.id] >= required]
        if enough:
            chosen = max(enough, key=lambda run: run.day)
        elif able:
            chosen = max(able, key=lambda run: run.day)
        else:  # out of reach: as far as it goes
            chosen = max(candidates, key=lambda run: (most[run.id], run.day))
            required = most[chosen.id]
        needs[chosen.id] = max(needs.get(chosen.id, 0), required)
        day, need, first_step = chosen.day, needs[chosen.id], False
    return needs


MAX_REPAIRS_PER_RUN = 40


def _repair(done: Sequence[Done], ahead: Sequence[Planned], goal: Goal,
            needs: dict[Hashable, int], long_ids: set[Hashable], threshold: float,
            first_run_day: date | None) -> tuple[dict[Hashable, int], dict[Hashable, str]]:
    """The plan with the raises, then the earliest excess mended again and again (see `safer`).

    Mending the earliest never undoes an earlier day: a shorter run only lowers the baselines and
    the 7-day sums after it."""
    values = {run.id: max(run.distance_m, _rounded_up(needs.get(run.id, 0))) for run in ahead}
    values[goal.run_id] = goal.distance_m
    # What gives way first in a 7-day window over the threshold: the latest of its runs that are
    # neither long nor needed for the build-up, then long runs, then needed ones, then the goal.
    rank = {run.id: 3 if run.id == goal.run_id else 2 if run.id in needs
            else 1 if run.id in long_ids else 0 for run in ahead}
    because: dict[Hashable, str] = {}
    limit = 1 + Fraction(str(threshold))
    start: date | None = None  # every day before it keeps to the rules
    for _ in range(MAX_REPAIRS_PER_RUN * len(ahead) + 10):
        excess = _earliest_excess(done, ahead, values, threshold, limit, first_run_day, start)
        if excess is None:
            break
        rule, metres, runs = excess
        if rule == "run_spike":
            (run,) = runs
            values[run.id] = metres if run.id == goal.run_id else _shortened(metres, needs.get(
                run.id, 0))
            because[run.id], start = rule, run.day
            continue
        for run in sorted(runs, key=lambda r: (rank[r.id], -r.day.toordinal())):
            if metres <= 0:
                break
            before = values[run.id]
            if run.id == goal.run_id:
                values[run.id] = max(before - metres, 0)
            else:
                values[run.id] = _shortened(max(before - metres, 0), 0)
            because[run.id] = rule
            metres -= before - values[run.id]
            start = run.day if start is None else min(start, run.day)
    return values, because


def _shortened(metres: int, need: int) -> int:
    """A shortened run: down to 100 m (but not below what the build-up needs, if it allows),
    left out under 1 km."""
    rounded = metres // ROUND_M * ROUND_M
    if rounded < need <= metres:
        rounded = need
    return rounded if rounded >= SHORTEST_PROPOSED_M else 0


def _earliest_excess(done: Sequence[Done], ahead: Sequence[Planned], values: dict[Hashable, int],
                     threshold: float, limit: Fraction, first_run_day: date | None,
                     start: date | None = None) -> tuple[str, int, list[Planned]] | None:
    """The first day (from `start`, before which all is known to be well) on which the plan breaks
    a rule: ("run_spike", the most allowed, [the run])
    or ("weekly_jump", the metres too many, [the planned runs of its 7 days, or of the 7 before
    when bringing those under 5 km is the smaller change]); None if none."""
    timeline = _Timeline(done, first_run_day)
    by_day: dict[date, list[Planned]] = defaultdict(list)
    for run in ahead:
        if values[run.id] > 0:
            by_day[run.day].append(run)
    if not by_day:
        return None
    days = sorted(by_day)
    day = days[0] if start is None else max(days[0], start)
    for earlier in days:  # known to keep to the rules: only their runs are needed
        if earlier >= day:
            break
        for run in by_day[earlier]:
            timeline.add(earlier, values[run.id])
    while day <= days[-1]:
        todays = by_day.get(day, [])
        baseline, _ = timeline.baseline(day)
        if baseline:
            most = load.longest_advisable_run_m(baseline)
            over = [run for run in todays if values[run.id] > most]
            if over:
                return "run_spike", most, [over[0]]
        for run in todays:
            timeline.add(day, values[run.id])
        week = [run for back in range(7) for run in by_day.get(day - timedelta(days=back), [])]
        if week and timeline.weekly(day, threshold).caution:
            previous = sum(timeline.daily.get(day - timedelta(days=k), 0) for k in range(7, 14))
            current = sum(timeline.daily.get(day - timedelta(days=k), 0) for k in range(7))
            excess = current - math.floor(previous * limit)
            # Under 5 km the week before, the rule does not apply: when that is the smaller
            # change and planned runs make it up, the week before gives way instead.
            before = [run for back in range(7, 14)
                      for run in by_day.get(day - timedelta(days=back), [])]
            under = previous - (load.WEEKLY_MIN_PREVIOUS_M - 1)
            if under < excess and sum(values[run.id] for run in before) >= under:
                return "weekly_jump", under, before
            return "weekly_jump", excess, week
        day += timedelta(days=1)
    return None


def _rounded_up(metres: int) -> int:
    return -(-metres // ROUND_M) * ROUND_M


# -- done against planned ----------------------------------------------------------------------


@dataclass(frozen=True)
class DayMatch:
    day: date
    planned_m: int
    done_m: int
    status: str  # done, shorter, longer, missed; planned for today (not yet run) and later


def match(planned: Iterable[Planned], done: Iterable[Done], today: date) -> list[DayMatch]:
    """Each planned day against what was run that day, oldest first."""
    planned_by_day: dict[date, int] = defaultdict(int)
    for run in planned:
        planned_by_day[run.day] += run.distance_m
    done_by_day: dict[date, int] = defaultdict(int)
    for run in done:
        done_by_day[run.day] += run.distance_m
    return [DayMatch(day, metres, done_by_day.get(day, 0),
                     status_of(metres, done_by_day.get(day, 0), day, today))
            for day, metres in sorted(planned_by_day.items())]


def status_of(planned_m: int, done_m: int, day: date, today: date) -> str:
    if done_m <= 0:
        return MISSED if day < today else PLANNED
    ratio = Fraction(done_m, planned_m)
    if ratio < DONE_LOW:
        return SHORTER
    if ratio > DONE_HIGH:
        return LONGER
    return DONE


def counts(days: Iterable[DayMatch]) -> dict[str, int]:
    totals = {DONE: 0, SHORTER: 0, LONGER: 0, MISSED: 0}
    for day in days:
        if day.status in totals:
            totals[day.status] += 1
    return totals


# -- when the notice goes out ------------------------------------------------------------------


def notice_time(quiet_start: time, quiet_end: time) -> time:
    """The local time, the day before a flagged run, at which its notice goes out (see above)."""
    if not in_quiet_hours(NOTICE_TIME, quiet_start, quiet_end):
        return NOTICE_TIME
    earlier = (datetime.combine(date(2000, 1, 1), quiet_start) - NOTICE_BEFORE_QUIET).time()
    if earlier >= NOTICE_EARLIEST and earlier < quiet_start \
            and not in_quiet_hours(earlier, quiet_start, quiet_end):
        return earlier
    return NOTICE_TIME  # quiet from before 13:30: the delivery waits for their end, as ever
