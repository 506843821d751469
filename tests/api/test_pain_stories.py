"""Five kinds of story runners tell about their backs, told to the API as the phone would.

Each story is a series of check-ins dated relative to now; what matters is what the runner is told:
the tier, the notification (or none), and what keeps going or stops.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kombu import Connection

from tests.api.test_pain import awake, inbox, put, quiet_now
from tests.support.runners import pain, run

NO_RED_FLAGS = {name: False for name in (
    "bladder_bowel_change", "saddle_numbness", "sexual_dysfunction", "both_legs",
    "progressive_weakness", "gait_disturbance", "major_trauma", "fever", "weight_loss",
    "cancer_history", "immunosuppression", "night_pain", "unrelieved_by_rest",
    "one_leg_numbness")}


def days_ago(days: float, hour: int = 7) -> datetime:
    return (datetime.now(UTC) - timedelta(days=days)).replace(hour=hour, minute=0, second=0,
                                                              microsecond=0)


def tiers(runner) -> list[str]:
    return [item["triage"]["tier"] for item in reversed(
        runner.get("/v1/checkins", query_string={"kind": "pain"}).get_json()["items"])]


def test_pain_a_few_minutes_into_every_run_has_no_tier_and_a_core_and_hip_routine(client):
    ana = awake(client)
    for days in range(20, 0, -3):
        start = days_ago(days)
        put(ana, run(start.isoformat(), distance_m=6000, duration_s=2100, surface="road"))
        put(ana, pain((start + timedelta(minutes=10)).isoformat(), severity=3,
                      timing="during_run", answers=NO_RED_FLAGS))

    assert set(tiers(ana)) == {"none"}
    assert [n for n in inbox(ana) if n["kind"].startswith("pain_")] == []
    assert ana.get("/v1/me/load").get_json()["advice_paused"] is None
    routine = ana.get("/v1/routines/suggested").get_json()
    focuses = {item["focus"] for item in routine["items"]}
    assert "core" in focuses and "glute-bridge" in [item["id"] for item in routine["items"]], \
        "core work, and a hip extensor strength move"


def test_pain_after_raising_weekly_distance_becomes_review_only_if_it_persists(client):
    settles, persists = awake(client), awake(client)
    for runner in (settles, persists):
        for days in range(42, 14, -2):  # 4 weeks of 5 km every other day...
            put(runner, run(days_ago(days).isoformat(), distance_m=5000, duration_s=1800))
        for days in range(14, 0, -1):  # ...then every day: a big weekly jump
            put(runner, run(days_ago(days).isoformat(), distance_m=5000, duration_s=1800))
    for days, severity in ((13, 4), (9, 3), (5, 2), (1, 1)):
        put(settles, pain(days_ago(days, hour=18).isoformat(), severity=severity,
                          timing="after_run"))
    for days in (34, 27, 20, 13, 6, 1):
        put(persists, pain(days_ago(days, hour=18).isoformat(), severity=3, timing="after_run"))

    assert set(tiers(settles)) == {"none"}, "pain that eases within weeks: no tier"
    assert tiers(persists) == ["none", "none", "none", "none", "review", "review"]
    latest = persists.get("/v1/checkins", query_string={"kind": "pain", "limit": 1}).get_json()
    assert latest["items"][0]["triage"]["triggers"] == ["not_improving_after_4_weeks"]
    assert [n["kind"] for n in inbox(persists)] == ["pain_review"], "told once, when it began"
    assert persists.get("/v1/me/load").get_json()["advice_paused"]["tier"] == "review"


def test_morning_only_pain_for_months_better_with_movement_from_30_is_an_inflammatory_screen(
        client):
    """Only what the story says: mornings, better once moving, since 30, for months."""
    ben = awake(client)
    answers = {"onset_age": 30, "better_with_movement": True}
    for days in range(100, -1, -14):
        put(ben, pain(days_ago(days).isoformat(), severity=4, timing="next_morning",
                      morning_stiffness_min=45, answers={**NO_RED_FLAGS, **answers}))

    assert tiers(ben)[-1] == "inflammatory_screen"
    assert "inflammatory_screen" not in tiers(ben)[:-1], "not before three months have passed"
    (note,) = [n for n in inbox(ben) if n["kind"].startswith("pain_")]
    assert note["kind"] == "pain_inflammatory_screen"
    assert "GP" in note["body"] and "eases when you move" in note["body"]

    # A runner new to the app who says how long it has been needs no months of check-ins.
    ida = awake(client)
    first = put(ida, pain(days_ago(0).isoformat(), severity=4, timing="next_morning",
                          answers={**NO_RED_FLAGS, **answers, "had_pain_for_weeks": 20}))
    assert first["triage"]["tier"] == "inflammatory_screen"


def test_pain_down_one_leg_below_the_knee_is_review(client):
    cas = awake(client)
    checkin = put(cas, pain(days_ago(0, hour=0).isoformat(), location="lower_back",
                            side="left", severity=5, radiates="below_knee",
                            answers=NO_RED_FLAGS))
    assert checkin["triage"]["tier"] == "review"
    assert checkin["triage"]["triggers"] == ["pain_below_the_knee"]
    assert "physiotherapist or GP" in checkin["triage"]["advice"]


def test_saddle_numbness_is_an_emergency_delivered_at_once(app, client):
    dee = awake(client)
    quiet_now(dee)
    checkin = put(dee, pain((datetime.now(UTC) - timedelta(minutes=2)).isoformat(),
                            severity=6, answers={**NO_RED_FLAGS, "saddle_numbness": True}))

    assert checkin["triage"]["tier"] == "emergency"
    (note,) = inbox(dee)
    assert note["kind"] == "pain_emergency", "in the inbox at once, quiet hours or not"
    assert "today" in note["body"] and "emergency department" in note["body"]
    assert _push_hint_for(app, note["id"]), "a push.deliver message is waiting for the workers"


def _push_hint_for(app, notification_id: str) -> bool:
    """Whether the broker holds a push.deliver message for this notification."""
    url = app.extensions["backstride"].settings.broker_url
    with Connection(url) as connection:
        queue = connection.SimpleQueue("push")
        try:
            for _ in range(1000):
                try:
                    message = queue.get(timeout=2)
                except queue.Empty:
                    return False
                message.ack()
                task, args = message.headers.get("task"), message.payload[0]
                if task == "push.deliver" and args == [notification_id]:
                    return True
            return False
        finally:
            queue.close()


def test_the_insights_speak_of_this_runners_own_numbers(client):
    eve = awake(client)
    for days in range(60, 0, -2):
        start = days_ago(days)
        surface = "road" if days % 4 == 0 else "trail"
        put(eve, run(start.isoformat(), distance_m=7000, duration_s=2400, surface=surface))
        if surface == "road":
            put(eve, pain((start + timedelta(hours=5)).isoformat(), severity=3))
    body = eve.get("/v1/me/insights").get_json()
    surface = next(c for c in body["comparisons"] if c["id"] == "surface")
    road, trail, treadmill = surface["groups"]
    assert road["count"] == 15 and road["with_pain"] == 15 and road["rate"] == 1.0
    assert trail["count"] == 15 and trail["rate"] == 0.0
    assert treadmill == {"label": "on a treadmill", "count": 0, "with_pain": 0, "rate": None}
    assert surface["enough_data"] and "15 of 15 runs on road (100%)" in surface["summary"]
    wear = next(c for c in body["comparisons"] if c["id"] == "shoe_wear")
    assert not wear["enough_data"] and wear["summary"].startswith("Not enough data yet")
