"""What an athlete's own check-ins say about their pain: counts and rates, never causes.

Each comparison splits the athlete's runs (or days) into groups and counts how often pain was
reported after them. Conventions (C): pain "after" a run is a pain check-in of severity 1 or more
within 24 hours of its end (72 hours for a run spike, as the issue asks); a group needs at least
5 runs or days before its rate is shown, and a comparison needs two such groups. Days without a
pain check-in count as pain-free only if the athlete checked in something else that day.
The wording says "went together", never "caused": one person's diary cannot tell which is which.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from service.domain.training import rules as load

MIN_PER_GROUP = 5
AFTER_RUN = timedelta(hours=24)
AFTER_SPIKE = timedelta(hours=72)
WORN = 0.8


@dataclass(frozen=True)
class RunFact:
    id: uuid.UUID
    started_at: datetime
    ended_at: datetime
    distance_m: int
    surface: str | None
    shoe_id: uuid.UUID | None


@dataclass(frozen=True)
class PainFact:
    recorded_at: datetime
    local_date: date
    severity: int


@dataclass(frozen=True)
class ShoeFact:
    initial_distance_m: int
    max_distance_m: int


@dataclass(frozen=True)
class Group:
    label: str
    count: int
    with_pain: int

    @property
    def rate(self) -> float | None:
        """Share with pain, or None below the minimum (a rate of 1 in 2 says nothing)."""
        return round(self.with_pain / self.count, 3) if self.count >= MIN_PER_GROUP else None


@dataclass(frozen=True)
class Comparison:
    id: str
    question: str
    unit: str  # "runs" or "days"
    groups: list[Group]

    @property
    def enough_data(self) -> bool:
        return sum(group.rate is not None for group in self.groups) >= 2

    @property
    def summary(self) -> str:
        if not self.enough_data:
            return (f"Not enough data yet: this needs at least {MIN_PER_GROUP} {self.unit} in "
                    f"each of two groups ({self._counts()} so far).")
        parts = [f"{group.with_pain} of {group.count} {self.unit} {group.label} "
                 f"({round(group.rate * 100)}%)" for group in self.groups
                 if group.rate is not None]
        lead = "after" if self.unit == "runs" else "on"
        return (f"Pain was reported {lead} {'; '.join(parts)}. This shows how often they went "
                f"together in your check-ins, not what leads to what.")

    def _counts(self) -> str:
        return ", ".join(f"{group.count} {group.label}" for group in self.groups)


def pain_after(moment: datetime, pains: Sequence[PainFact], window: timedelta) -> bool:
    return any(moment <= p.recorded_at <= moment + window and p.severity > 0 for p in pains)


def by_surface(runs: Sequence[RunFact], pains: Sequence[PainFact]) -> Comparison:
    groups = []
    for label, surfaces in (("on road", {"road"}), ("on trail", {"trail"}),
                            ("on a treadmill", {"treadmill"})):
        chosen = [run for run in runs if run.surface in surfaces]
        groups.append(Group(label, len(chosen),
                            sum(pain_after(run.ended_at, pains, AFTER_RUN) for run in chosen)))
    return Comparison("surface", "Pain within 24 h after road runs, compared with trail or "
                      "treadmill runs", "runs", groups)


def by_shoe_wear(runs: Sequence[RunFact], every_run_in_shoes: Sequence[RunFact],
                 pains: Sequence[PainFact], shoes: dict[uuid.UUID, ShoeFact]) -> Comparison:
    """Runs in shoes past 80 % of their distance (as it stood at the start of the run) or not."""
    worn_ids = _worn_runs(every_run_in_shoes, shoes)
    in_shoes = [run for run in runs if run.shoe_id in shoes]
    worn = [run for run in in_shoes if run.id in worn_ids]
    fresh = [run for run in in_shoes if run.id not in worn_ids]
    return Comparison("shoe_wear", "Pain within 24 h after runs in shoes past 80 % of their "
                      "distance, compared with runs in newer shoes", "runs", [
                          Group("in shoes past 80 % wear", len(worn),
                                sum(pain_after(r.ended_at, pains, AFTER_RUN) for r in worn)),
                          Group("in newer shoes", len(fresh),
                                sum(pain_after(r.ended_at, pains, AFTER_RUN) for r in fresh))])


def _worn_runs(runs: Sequence[RunFact], shoes: dict[uuid.UUID, ShoeFact]) -> set[uuid.UUID]:
    worn: set[uuid.UUID] = set()
    distance = {shoe_id: shoe.initial_distance_m for shoe_id, shoe in shoes.items()}
    for run in sorted(runs, key=lambda r: r.started_at):
        shoe = shoes.get(run.shoe_id) if run.shoe_id else None
        if shoe is None:
            continue
        if distance[run.shoe_id] >= shoe.max_distance_m * WORN:
            worn.add(run.id)
        distance[run.shoe_id] += run.distance_m
    return worn


def by_spike(runs: Sequence[RunFact], earlier: Sequence[RunFact],
             pains: Sequence[PainFact]) -> Comparison:
    """Runs over 10 % longer than the 30 days' longest (docs/design.md, "Run spike") or not."""
    history = [load.Run(r.started_at, r.distance_m) for r in sorted(
        [*earlier, *runs], key=lambda r: r.started_at)]
    spikes, others = [], []
    for run in runs:
        before = [r for r in history if r.started_at < run.started_at]
        finding = load.assess_run(load.Run(run.started_at, run.distance_m), before)
        if finding is None:
            continue
        (spikes if finding.spike > load.Spike.OK else others).append(run)
    return Comparison("run_spike", "Pain within 72 h after a run more than 10 % longer than "
                      "your longest of the 30 days before, compared with other runs", "runs", [
                          Group("after a big step up", len(spikes),
                                sum(pain_after(r.ended_at, pains, AFTER_SPIKE) for r in spikes)),
                          Group("after other runs", len(others),
                                sum(pain_after(r.ended_at, pains, AFTER_SPIKE) for r in others))])


def by_stretching(check_in_days: set[date], exercise_days: set[date],
                  pains: Sequence[PainFact]) -> Comparison:
    """Days that follow a day with a stretch or core session, against days that do not."""
    pain_days = {p.local_date for p in pains if p.severity > 0}
    after, not_after = [], []
    for day in check_in_days:
        (after if day - timedelta(days=1) in exercise_days else not_after).append(day)
    return Comparison("stretching", "Pain on days after a stretch or core session, compared "
                      "with days after none", "days", [
                          Group("after a stretch or core session", len(after),
                                sum(day in pain_days for day in after)),
                          Group("after none", len(not_after),
                                sum(day in pain_days for day in not_after))])
