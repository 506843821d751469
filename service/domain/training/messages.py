"""What a load warning says: the run or week, the numbers, the study, what to do next."""

from __future__ import annotations

from datetime import date
from typing import Any

from service.domain.notify.rules import day_name, format_distance
from service.domain.training import rules as load


def run_spike(finding: load.SpikeFinding, run_id: str, run_day: date,
              units: str) -> tuple[str, str, dict[str, Any]]:
    run_m, baseline_m = finding.run.distance_m, finding.baseline_m
    advisable_m = load.longest_advisable_run_m(baseline_m)
    title = f"Your {format_distance(run_m, units)} run was a big step up"
    body = (
        f"Your run on {day_name(run_day)} ({format_distance(run_m, units)}) was "
        f"{finding.percent_longer}% longer than your longest run of the 30 days before it "
        f"({format_distance(baseline_m, units)}). Runs more than 10% longer than that have been "
        f"linked to a higher rate of running injuries ({load.FRANDSEN_2025}). "
        f"Keep your next long run under {format_distance(advisable_m, units)} and build up in "
        f"smaller steps."
    )
    data = {
        "rule": "run_spike", "run_id": run_id, "class": finding.spike.label,
        "distance_m": run_m, "baseline_m": baseline_m,
        "percent_longer": finding.percent_longer, "threshold_percent": 10,
        "hazard_ratio": load.SPIKE_HAZARD_RATIO.get(finding.spike),
        "longest_advisable_run_m": advisable_m, "units": units,
        "source": load.FRANDSEN_2025, "evidence": "E",
    }
    return title, body, data


def weekly_jump(change: load.WeeklyChange, through: date, units: str,
                threshold: float) -> tuple[str, str, dict[str, Any]]:
    percent = round(change.change * 100)
    title = f"This week was {percent}% more than the last"
    body = (
        f"You ran {format_distance(change.last_7_days_m, units)} in the 7 days to "
        f"{day_name(through)}, {percent}% more than the "
        f"{format_distance(change.previous_7_days_m, units)} of the 7 days before. Weekly "
        f"increases of more than {threshold:.0%} have been linked to running injuries in "
        f"newer runners ({load.NIELSEN_2014}). Consider holding next week near this week's "
        f"distance."
    )
    data = {
        "rule": "weekly_jump", "last_7_days_m": change.last_7_days_m,
        "previous_7_days_m": change.previous_7_days_m, "percent_more": percent,
        "threshold_percent": round(threshold * 100), "units": units,
        "source": load.NIELSEN_2014, "evidence": "E (weak)",
    }
    return title, body, data
