"""Pain triage: a tier and what to do, never a diagnosis. Pure functions on plain data.

Tiers, most pressing first (DESIGN.md, "Pain triage"; the inflammatory screen is checked before
review, see assess()):
- emergency (same day, emergency department): bladder or bowel change, saddle numbness, new sexual
  dysfunction, symptoms in both legs, progressive leg weakness or foot drop, gait disturbance,
  major trauma (NICE NG59; cauda equina pathways);
- urgent (a doctor in 24 to 48 h): fever or chills, unexplained weight loss, history of cancer,
  immunosuppression, new pain at 50 or over or under 20, constant pain unrelieved by rest,
  persistent night pain, pain in the thoracic spine, numbness or weakness in one leg;
- review (a physio or GP; pause increases): pain below the knee, pain on check-ins spanning more
  than 6 weeks or not improving after 4, severity 7 or more, rising over 3 check-ins;
- inflammatory screen (ask a GP about inflammatory back pain): onset before 45, more than 3 months,
  and 4 of: onset before 35, waking in the second half of the night, buttock pain, better with
  movement, better with anti-inflammatories, family history (NICE NG65).
An unanswered question (None) is not a "no": it triggers nothing, and nothing is inferred from it.
A report of severity 0 ("no pain today") ends an episode: the history-based triggers start again
after it, while its red-flag answers still count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

EMERGENCY, URGENT, REVIEW, INFLAMMATORY, NONE = (
    "emergency", "urgent", "review", "inflammatory_screen", "none")
TIERS = (EMERGENCY, URGENT, REVIEW, INFLAMMATORY, NONE)

EMERGENCY_FLAGS = ("bladder_bowel_change", "saddle_numbness", "sexual_dysfunction", "both_legs",
                   "progressive_weakness", "gait_disturbance", "major_trauma")
URGENT_FLAGS = ("fever", "weight_loss", "cancer_history", "immunosuppression", "night_pain",
                "unrelieved_by_rest", "one_leg_numbness")
INFLAMMATORY_FEATURES = ("waking_second_half_night", "buttock_pain", "better_with_movement",
                         "better_with_anti_inflammatories", "family_history")
THORACIC = ("mid_back", "upper_back")
PERSISTENT = timedelta(weeks=6)
NOT_IMPROVING = timedelta(weeks=4)
INFLAMMATORY_DURATION = timedelta(days=91)
SEVERE = 7


@dataclass(frozen=True)
class Report:
    """One pain check-in: where, how bad, and the answers the athlete gave (None: not answered)."""

    on: date
    location: str
    severity: int
    radiates: str | None = None
    timing: str | None = None
    bladder_bowel_change: bool | None = None
    saddle_numbness: bool | None = None
    sexual_dysfunction: bool | None = None
    both_legs: bool | None = None
    progressive_weakness: bool | None = None
    gait_disturbance: bool | None = None
    major_trauma: bool | None = None
    fever: bool | None = None
    weight_loss: bool | None = None
    cancer_history: bool | None = None
    immunosuppression: bool | None = None
    night_pain: bool | None = None
    unrelieved_by_rest: bool | None = None
    one_leg_numbness: bool | None = None
    onset_age: int | None = None
    waking_second_half_night: bool | None = None
    buttock_pain: bool | None = None
    better_with_movement: bool | None = None
    better_with_anti_inflammatories: bool | None = None
    family_history: bool | None = None


@dataclass(frozen=True)
class Triage:
    tier: str
    triggers: tuple[str, ...]  # the answers or patterns that set the tier, for the message


def assess(latest: Report, earlier: Sequence[Report], age: int | None) -> Triage:
    """The tier for the latest report, given the reports before it (any order) and the age."""
    history = sorted([*earlier, latest], key=lambda r: r.on)
    emergency = _answered_yes(latest, EMERGENCY_FLAGS)
    if emergency:
        return Triage(EMERGENCY, emergency)
    urgent = list(_answered_yes(latest, URGENT_FLAGS))
    if latest.location in THORACIC:
        urgent.append("thoracic_pain")
    if age is not None and (age >= 50 or age < 20) and _is_new(history):
        urgent.append("new_pain_at_50_or_over" if age >= 50 else "new_pain_under_20")
    if urgent:
        return Triage(URGENT, tuple(urgent))
    # Before review: three months of pain always meets "more than 6 weeks", and the specific
    # advice (ask about inflammatory back pain) says more than the general one.
    inflammatory = _inflammatory(latest, history, age)
    if inflammatory:
        return Triage(INFLAMMATORY, inflammatory)
    review = _review(latest, history)
    if review:
        return Triage(REVIEW, review)
    return Triage(NONE, ())


def _answered_yes(report: Report, names: Sequence[str]) -> tuple[str, ...]:
    return tuple(name for name in names if getattr(report, name) is True)


def _is_new(history: list[Report]) -> bool:
    """Pain, and no earlier report of pain in the 6 weeks before it: the pain is new."""
    painful = [report for report in history[:-1] if report.severity > 0]
    return history[-1].severity > 0 and (
        not painful or history[-1].on - painful[-1].on > PERSISTENT)


def _review(latest: Report, history: list[Report]) -> tuple[str, ...]:
    triggers = []
    if latest.radiates == "below_knee":
        triggers.append("pain_below_the_knee")
    if latest.severity >= SEVERE:
        triggers.append("severity_7_or_more")
    episode = _episode(history)
    if episode[-1].on - episode[0].on > PERSISTENT:
        triggers.append("more_than_6_weeks")
    elif episode[-1].on - episode[0].on >= NOT_IMPROVING and \
            episode[-1].severity >= episode[0].severity:
        triggers.append("not_improving_after_4_weeks")
    last_three = episode[-3:]
    if len(last_three) == 3 and last_three[0].severity < last_three[1].severity \
            < last_three[2].severity:
        triggers.append("rising_over_3_check_ins")
    return tuple(triggers)


def _episode(history: list[Report]) -> list[Report]:
    """The latest run of reports of pain with no gap of more than 6 weeks between them."""
    start = len(history) - 1
    while (start > 0 and history[start - 1].severity > 0
           and history[start].on - history[start - 1].on <= PERSISTENT):
        start -= 1
    return history[start:] if history[-1].severity > 0 else history[-1:]


def _inflammatory(latest: Report, history: list[Report], age: int | None) -> tuple[str, ...]:
    onset = latest.onset_age
    if onset is None or onset >= 45:
        return ()
    episode = _episode(history)
    if episode[-1].on - episode[0].on <= INFLAMMATORY_DURATION:
        return ()
    features = list(_answered_yes(latest, INFLAMMATORY_FEATURES))
    if onset < 35:
        features.append("onset_before_35")
    return tuple(features) if len(features) >= 4 else ()

