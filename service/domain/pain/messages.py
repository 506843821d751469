"""What a triage tier says: the answers behind it and what to do. Never a diagnosis."""

from __future__ import annotations

from typing import Any

from service.domain.notify.rules import listed
from service.domain.pain import rules as triage

TRIGGER_TEXT = {
    "bladder_bowel_change": "a change in bladder or bowel control",
    "saddle_numbness": "numbness around the groin, buttocks or inner thighs",
    "sexual_dysfunction": "a new change in sexual function",
    "both_legs": "symptoms in both legs",
    "progressive_weakness": "leg weakness that is getting worse, or a dropping foot",
    "gait_disturbance": "difficulty walking normally",
    "major_trauma": "a fall or an accident",
    "fever": "a fever or chills",
    "weight_loss": "weight loss you cannot explain",
    "cancer_history": "a history of cancer",
    "immunosuppression": "a weakened immune system or medicines that suppress it",
    "night_pain": "pain at night that keeps on",
    "unrelieved_by_rest": "pain that rest does not ease",
    "one_leg_numbness": "numbness or weakness in one leg",
    "thoracic_pain": "pain in your upper or mid back",
    "new_pain_at_50_or_over": "new back pain at 50 or over",
    "new_pain_under_20": "new back pain under 20",
    "pain_below_the_knee": "pain that travels below the knee",
    "severity_7_or_more": "pain of 7 or more out of 10",
    "more_than_6_weeks": "pain for more than 6 weeks",
    "not_improving_after_4_weeks": "pain that has not eased in 4 weeks",
    "rising_over_3_check_ins": "pain that rose over your last 3 check-ins",
    "onset_before_35": "pain that began before 35",
    "waking_second_half_night": "waking with pain in the second half of the night",
    "buttock_pain": "pain in the buttocks",
    "better_with_movement": "pain that eases when you move",
    "better_with_anti_inflammatories": "pain that eases with anti-inflammatory medicine",
    "family_history": "family members with a similar back problem",
    "gradual_onset": "pain that came on gradually",
    "onset_before_40": "pain that began before 40",
    "not_better_with_rest": "pain that does not ease with rest alone",
    "night_or_morning_pain_easing_on_getting_up": "pain at night or on waking that eases once "
                                                  "you are up",
}

# Tier -> (title, what to do and how soon).
TRIAGE_ADVICE = {
    triage.EMERGENCY: (
        "Please get medical help today",
        "Together with back pain, this needs to be checked by a doctor today: go to an "
        "emergency department now, or call your local emergency number. Please do not run "
        "until a doctor has seen you."),
    triage.URGENT: (
        "Please see a doctor in the next day or two",
        "Together with back pain, this should be checked by a doctor within 24 to 48 hours: "
        "please book an appointment today. Until then, rest or keep to easy walking."),
    triage.REVIEW: (
        "Book a physio or GP appointment",
        "It is worth having a physiotherapist or GP look at your back in the next week or "
        "two. Until then, keep your running where it is rather than adding more; we have "
        "paused advice to run more and stretch reminders."),
    triage.INFLAMMATORY: (
        "Mention this pattern to your GP",
        "Back pain with this pattern is worth raising with a GP: some long-lasting back pain "
        "has causes that are looked after differently, and a GP can tell whether any checks "
        "are needed. Please book a routine appointment in the next few weeks and show them "
        "these answers; keep moving as you are able."),
}
TRIAGE_SOURCES = {
    triage.EMERGENCY: "NICE NG59 (2016, updated 2020): signs that need same-day referral",
    triage.URGENT: "NICE NG59 (2016, updated 2020)",
    triage.REVIEW: "NICE NG59 (2016, updated 2020)",
    triage.INFLAMMATORY: "NICE NG65 (2017); ASAS criteria (Sieper et al. 2009)",
}


def pain_triage(result: triage.Triage) -> tuple[str, str, dict[str, Any]]:
    """What to do about a tier, naming the answers or patterns behind it; nothing for none."""
    title, advice = TRIAGE_ADVICE[result.tier]
    told = listed([TRIGGER_TEXT[name] for name in result.triggers])
    body = f"You told us about {told}. {advice}"
    if result.tier == triage.INFLAMMATORY:
        body = f"Your check-ins show {told}, over more than 3 months. {advice}"
    elif result.tier == triage.REVIEW:
        body = f"Your check-ins show {told}. {advice}"
    data = {"rule": f"pain_{result.tier}", "tier": result.tier,
            "triggers": list(result.triggers), "source": TRIAGE_SOURCES[result.tier],
            "evidence": "E (guideline)"}
    return title, body, data
