"""Pain triage: a tier and what to do, never a diagnosis. Pure functions on plain data.

Tiers, most pressing first (docs/design.md, "Pain triage"; see assess() for how review and
the inflammatory screen share a place):
- emergency (same day, emergency department): bladder or bowel change, saddle numbness, new sexual
  dysfunction, symptoms in both legs, progressive leg weakness or foot drop, gait disturbance,
  major trauma (NICE NG59; cauda equina pathways);
- urgent (a doctor in 24 to 48 h): fever or chills, unexplained weight loss, history of cancer,
  immunosuppression, new back pain at 50 or over or under 20, constant pain unrelieved by rest,
  persistent night pain, pain in the thoracic spine, numbness or weakness in one leg;
- review (a physio or GP; pause increases): pain below the knee, pain on check-ins spanning more
  than 6 weeks or not improving after 4, severity 7 or more, rising over 3 check-ins;
- inflammatory screen (mention the pattern to a GP): back pain for more than 3 months and either
  onset before 45 with 4 of: onset before 35, waking in the second half of the night, buttock
  pain, better with movement, better with anti-inflammatories, family history (NICE NG65); or 4 of
  the 5 ASAS items (Sieper 2009): onset before 40, a gradual onset, better with exercise, not
  better with rest, pain at night or on waking that eases on getting up.
How long the pain has lasted is the longer of what the check-ins show and what the athlete said
(`had_pain_for_weeks`, counted on from the day they said it), so a runner who has had it for a
year is not made to wait for a year of check-ins. The screen's answers describe the pain's
pattern, so within an episode an answer holds until it is answered again; red-flag answers do not
carry over: each check-in's own answers set the emergency and urgent tiers, so a newer check-in
without them clears the tier.
An unanswered question (None) is not a "no": it triggers nothing, and nothing is inferred from it.
A report of severity 0 ("no pain today") ends an episode: the history-based triggers start again
after it, while its red-flag answers still count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

EMERGENCY, URGENT, REVIEW, INFLAMMATORY, NONE = (
    "emergency", "urgent", "review", "inflammatory_screen", "none")
TIERS = (EMERGENCY, URGENT, REVIEW, INFLAMMATORY, NONE)

EMERGENCY_FLAGS = ("bladder_bowel_change", "saddle_numbness", "sexual_dysfunction", "both_legs",
                   "progressive_weakness", "gait_disturbance", "major_trauma")
URGENT_FLAGS = ("fever", "weight_loss", "cancer_history", "immunosuppression", "night_pain",
                "unrelieved_by_rest", "one_leg_numbness")
INFLAMMATORY_FEATURES = ("waking_second_half_night", "buttock_pain", "better_with_movement",
                         "better_with_anti_inflammatories", "family_history", "gradual_onset")
THORACIC = ("mid_back", "upper_back")
# The age red flag is about back pain: hip or leg pain counts only when it travels.
BACK = ("lower_back", "mid_back", "upper_back", "sacroiliac", "buttock")
# Answers about the pain's pattern, which hold across an episode until answered again.
PATTERN = (*INFLAMMATORY_FEATURES, "onset_age", "timing")
# Review triggers that say only that pain has lasted: the inflammatory screen, more specific
# about long-lasting pain, takes their place. The others (how bad, where, rising) keep review.
DURATION_TRIGGERS = ("more_than_6_weeks", "not_improving_after_4_weeks")
MORNING_OR_NIGHT = ("next_morning", "at_night")
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
    had_pain_for_weeks: int | None = None
    gradual_onset: bool | None = None
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
    if age is not None and (age >= 50 or age < 20) and _is_new_back_pain(latest, history, age):
        urgent.append("new_pain_at_50_or_over" if age >= 50 else "new_pain_under_20")
    if urgent:
        return Triage(URGENT, tuple(urgent))
    review = _review(latest, history)
    # Three months of pain always meets "more than 6 weeks", so the screen's more specific advice
    # takes the place of a review that rests on duration alone; severe pain, pain below the knee
    # or rising pain keep the review, which is seen sooner.
    inflammatory = _inflammatory(latest, history)
    if inflammatory and not set(review) - set(DURATION_TRIGGERS):
        return Triage(INFLAMMATORY, inflammatory)
    if review:
        return Triage(REVIEW, review)
    return Triage(NONE, ())


def _answered_yes(report: Report, names: Sequence[str]) -> tuple[str, ...]:
    return tuple(name for name in names if getattr(report, name) is True)


def _is_new_back_pain(latest: Report, history: list[Report], age: int) -> bool:
    """Back pain, no earlier report of pain in the 6 weeks before it, and nothing the athlete
    said that dates it further back (how long they have had it, or an onset age years ago)."""
    travels = latest.radiates not in (None, "none")
    if (latest.location not in BACK and not travels) or latest.severity == 0:
        return False
    if latest.had_pain_for_weeks is not None and \
            timedelta(weeks=latest.had_pain_for_weeks) > PERSISTENT:
        return False
    if latest.onset_age is not None and latest.onset_age < age - 1:
        return False
    painful = [report for report in history[:-1] if report.severity > 0]
    return not painful or latest.on - painful[-1].on > PERSISTENT


def _review(latest: Report, history: list[Report]) -> tuple[str, ...]:
    triggers = []
    if latest.radiates == "below_knee":
        triggers.append("pain_below_the_knee")
    if latest.severity >= SEVERE:
        triggers.append("severity_7_or_more")
    episode = _episode(history)
    if _lasted(latest, episode) > PERSISTENT:
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


def _lasted(latest: Report, episode: list[Report]) -> timedelta:
    """How long the pain has lasted: the check-ins' span, or what the athlete said (counted on
    from the day they said it), whichever is longer."""
    if latest.severity == 0:
        return timedelta()
    said = [timedelta(weeks=report.had_pain_for_weeks) + (latest.on - report.on)
            for report in episode if report.had_pain_for_weeks is not None]
    return max([episode[-1].on - episode[0].on, *said])


def _pattern(latest: Report, episode: list[Report]) -> Report:
    """The latest report with the pattern answers it left out filled in from earlier in the
    episode (the newest answer to each)."""
    known: dict[str, object] = {}
    for report in reversed(episode):
        for name in PATTERN:
            if name not in known and getattr(report, name) is not None:
                known[name] = getattr(report, name)
    return replace(latest, **known)


def _inflammatory(latest: Report, history: list[Report]) -> tuple[str, ...]:
    episode = _episode(history)
    if latest.location not in BACK or _lasted(latest, episode) <= INFLAMMATORY_DURATION:
        return ()
    pattern = _pattern(latest, episode)
    return _nice_ng65(pattern) or _asas(pattern)


def _nice_ng65(latest: Report) -> tuple[str, ...]:
    onset = latest.onset_age
    if onset is None or onset >= 45:
        return ()
    features = [name for name in _answered_yes(latest, INFLAMMATORY_FEATURES)
                if name != "gradual_onset"]
    if onset < 35:
        features.append("onset_before_35")
    return tuple(features) if len(features) >= 4 else ()


def _asas(latest: Report) -> tuple[str, ...]:
    """ASAS inflammatory back pain criteria, 4 of 5 (Sieper et al., Ann Rheum Dis 2009).

    "Eases when you move about, but not with rest" answers two items at once (better with
    exercise, not better with rest); morning or night pain that eases with movement is the fifth
    ("pain at night, better on getting up"), as is waking in the second half of the night.
    """
    items: list[str] = []
    if latest.onset_age is not None and latest.onset_age < 40:
        items.append("onset_before_40")
    if latest.gradual_onset is True:
        items.append("gradual_onset")
    if latest.better_with_movement is True:
        items += ["better_with_movement", "not_better_with_rest"]
    if latest.waking_second_half_night is True or (
            latest.better_with_movement is True and latest.timing in MORNING_OR_NIGHT):
        items.append("night_or_morning_pain_easing_on_getting_up")
    return tuple(items) if len(items) >= 4 else ()

