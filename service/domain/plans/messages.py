"""What a flagged planned run says: in the answer to a plan write, and the day before it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from service.domain.notify.rules import day_name, format_distance
from service.domain.plans import rules as plans
from service.domain.training import rules as load

KIND = "plan_preflight"


def flag(judged: plans.Judged, threshold: float) -> dict[str, Any]:
    """A judged run's findings: each rule that flags it, with its numbers and source."""
    spike = None
    if judged.spike is not None:
        finding = judged.spike
        spike = {
            "class": finding.spike.label, "flagged": judged.spike_flagged,
            "baseline_m": finding.baseline_m, "baseline_days": judged.baseline_days,
            "percent_longer": finding.percent_longer, "threshold_percent": 10,
            "hazard_ratio": load.SPIKE_HAZARD_RATIO.get(finding.spike),
            "longest_advisable_run_m": load.longest_advisable_run_m(finding.baseline_m),
            "source": load.FRANDSEN_2025, "evidence": "E",
        }
    change = judged.weekly
    weekly = {
        "flagged": judged.weekly_flagged, "through": judged.weekly_through,
        "last_7_days_m": change.last_7_days_m, "previous_7_days_m": change.previous_7_days_m,
        "percent_more": round(change.change * 100) if change.change is not None else None,
        "threshold_percent": round(threshold * 100), "reason": change.reason,
        "source": load.NIELSEN_2014, "evidence": "E (weak)",
    }
    rules = [name for name, on in (("run_spike", judged.spike_flagged),
                                   ("weekly_jump", judged.weekly_flagged)) if on]
    return {
        "planned_run_id": str(judged.run.id), "date": judged.run.day,
        "distance_m": judged.run.distance_m, "kind": judged.run.kind, "rules": rules,
        "spike": spike, "weekly": weekly,
        "return_mode": {"active": judged.return_mode.active,
                        "since": judged.return_mode.since, "until": judged.return_mode.until,
                        "evidence": "C"},
    }


def tomorrow(judged: plans.Judged, units: str, threshold: float) -> tuple[str, str, dict[str, Any]]:
    """The notice the day before a flagged run: what is planned, why it is flagged, what to do."""
    run, planned = judged.run, format_distance(judged.run.distance_m, units)
    sentences = []
    if judged.spike_flagged:
        finding = judged.spike
        baseline = format_distance(finding.baseline_m, units)
        against = (f"your longest run of the last 30 days, {baseline}"
                   if judged.baseline_days == 30 else
                   f"half your longest run of the last 90 days (none in the last 30), {baseline}")
        advisable = format_distance(load.longest_advisable_run_m(finding.baseline_m), units)
        sentences += [
            f"Tomorrow's planned {planned} is {finding.percent_longer}% longer than {against}.",
            f"Runs more than 10% longer than that have been linked to a higher rate of running "
            f"injuries ({load.FRANDSEN_2025}).",
            f"Consider keeping it under {advisable}.",
        ]
        title = f"Tomorrow's {planned}: a big step up"
    if judged.weekly_flagged:
        change = judged.weekly
        when = ("With it, your last 7 days come to" if judged.weekly_through == run.day
                else f"By {day_name(judged.weekly_through)}, your last 7 days come to")
        sentences += [
            f"{when} {format_distance(change.last_7_days_m, units)}, "
            f"{round(change.change * 100)}% more than the "
            f"{format_distance(change.previous_7_days_m, units)} of the 7 days before.",
            f"Weekly increases of more than {threshold:.0%} have been linked to running injuries "
            f"in newer runners ({load.NIELSEN_2014}).",
        ]
        if not judged.spike_flagged:
            title = f"Tomorrow's {planned} makes a big week"
    if judged.return_mode.active:
        sentences.append("You are coming back after a break: build up gently.")
    sentences.append("A safer version of your plan, reaching the same goal if it can be done "
                     "safely, is one tap away in the app.")
    data = {"rule": KIND, **flag(judged, threshold), "units": units}
    return title, " ".join(sentences), _plain(data)


def dedupe_key(judged: plans.Judged) -> str:
    """One notice per planned run and day: moved to another day, it is told again."""
    return f"{KIND}:{judged.run.id}:{judged.run.day.isoformat()}"


def day_before(day: date) -> date:
    return day - timedelta(days=1)


def _plain(value: Any) -> Any:
    """JSON-ready: days as ISO strings (notification data is stored as JSON)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def safer_summary(proposal: plans.Safer, units: str) -> str:
    """One sentence on what the safer version does, for the app to show above it."""
    if proposal.goal is None:
        return "No planned runs from today on: nothing to make safer."
    goal = format_distance(proposal.goal.distance_m, units)
    what = "race" if proposal.goal.kind == "race" else "longest run"
    on = f"{what} of {goal} on {proposal.goal.day.isoformat()}"
    if proposal.already_safe:
        return f"Your plan keeps to the rules already, up to its {on}."
    changed = len(proposal.changes)
    if proposal.reached:
        return (f"This version reaches your {on} with {changed} planned runs changed, no run "
                f"more than 10% longer than the longest of the 30 days before it and no week "
                f"over the weekly threshold.")
    if proposal.reachable_m:
        return (f"Your {on} cannot be reached safely by that date on these days: the most the "
                f"rules allow that day is {format_distance(proposal.reachable_m, units)}. This "
                f"version builds up to it with {changed} planned runs changed.")
    return (f"Your {on} cannot be reached safely by that date on these days. Move the date, or "
            f"start with what you comfortably run now.")
