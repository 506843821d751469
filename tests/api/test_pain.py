"""Pain check-ins through the API: triage at once, its notification, and what it pauses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from service.domain.stretch import reminders
from service.models import Notification
from tests.support.runners import assert_problem, pain, run, sign_up


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def put(runner, body, checkin_id=None):
    response = runner.put(f"/v1/checkins/{checkin_id or uuid.uuid4()}", json=body)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def quiet_now(runner) -> None:
    """Quiet hours around the present moment, in the runner's zone."""
    local = datetime.now(ZoneInfo(runner.profile["timezone"]))
    changed = runner.patch("/v1/me", json={"quiet_hours": {
        "start": (local - timedelta(hours=1)).strftime("%H:%M"),
        "end": (local + timedelta(hours=2)).strftime("%H:%M")}})
    assert changed.status_code == 200, changed.get_json()


def awake(client):
    """A runner with no quiet hours, so what is written now is in the inbox now."""
    runner = sign_up(client)
    changed = runner.patch("/v1/me", json={"quiet_hours": {"start": "00:00", "end": "00:00"}})
    assert changed.status_code == 200, changed.get_json()
    return runner


def inbox(runner) -> list[dict]:
    return runner.get("/v1/notifications").get_json()["items"]


def test_a_calm_pain_check_in_has_no_tier_and_raises_nothing(client):
    sam = awake(client)
    checkin = put(sam, pain(ago(minutes=5), severity=3, answers={"fever": False}))
    assert checkin["triage"] == {"tier": "none", "triggers": [], "title": None, "advice": None}
    assert checkin["answers"] == {"fever": False}, "a 'no' is kept; nothing is made up"
    assert inbox(sam) == []


def test_saddle_numbness_is_an_emergency_told_at_once_even_in_quiet_hours(client):
    sam = sign_up(client)
    quiet_now(sam)
    checkin = put(sam, pain(ago(minutes=5), severity=4, answers={"saddle_numbness": True}))

    assert checkin["triage"]["tier"] == "emergency"
    assert checkin["triage"]["triggers"] == ["saddle_numbness"]
    assert "today" in checkin["triage"]["advice"]
    (note,) = inbox(sam)
    assert note["kind"] == "pain_emergency", "in the inbox now, not after quiet hours"
    assert "numbness around the groin" in note["body"] and "emergency department" in note["body"]


def test_a_fever_is_urgent_and_told_at_once_even_in_quiet_hours(client):
    sam = sign_up(client)
    quiet_now(sam)
    checkin = put(sam, pain(ago(minutes=5), severity=4, answers={"fever": True}))
    assert checkin["triage"]["tier"] == "urgent"
    (note,) = inbox(sam)
    assert note["kind"] == "pain_urgent" and "24 to 48 hours" in note["body"]


def test_a_review_tier_waits_for_quiet_hours_to_end(app, client):
    sam = sign_up(client)
    quiet_now(sam)
    checkin = put(sam, pain(ago(minutes=5), severity=4, radiates="below_knee"))
    assert checkin["triage"]["tier"] == "review"
    assert inbox(sam) == [], "a physio appointment can wait for the morning"
    with app.extensions["backstride"].session_factory() as session:
        (note,) = session.query(Notification).all()
        assert note.kind == "pain_review" and note.deliver_after > datetime.now(UTC)


def test_the_same_check_in_sent_again_notifies_once(client):
    sam = sign_up(client)
    body, checkin_id = pain(ago(minutes=5), answers={"fever": True}), uuid.uuid4()
    first = put(sam, body, checkin_id)
    again = put(sam, body, checkin_id)
    assert first["triage"] == again["triage"] and again["triage"]["tier"] == "urgent"
    assert [n["kind"] for n in inbox(sam)] == ["pain_urgent"]


def test_a_persisting_review_tier_is_told_when_it_begins_not_every_day(client):
    sam = awake(client)
    for days in (3, 2, 1):
        put(sam, pain(ago(days=days), severity=7))
    assert [n["kind"] for n in inbox(sam)] == ["pain_review"]


def test_a_batch_carries_each_items_triage(client):
    sam = sign_up(client)
    items = [{"id": str(uuid.uuid4()), **run(ago(hours=3))},
             {"id": str(uuid.uuid4()), **pain(ago(hours=2), answers={"both_legs": True})},
             {"id": str(uuid.uuid4()), **pain(ago(hours=1), answers={"both_legs": "maybe"})}]
    results = sam.post("/v1/checkins/batch", json={"items": items}).get_json()["results"]
    assert results[0]["triage"] is None, "a run has no triage"
    assert results[1]["triage"]["tier"] == "emergency"
    assert results[2]["result"] == "error" and results[2]["triage"] is None
    assert "answers" in results[2]["problem"]["errors"]


def test_an_answer_that_is_not_yes_or_no_is_refused_by_name(client):
    sam = sign_up(client)
    response = sam.put(f"/v1/checkins/{uuid.uuid4()}",
                       json=pain(ago(minutes=1), answers={"night_pain": "often"}))
    body = assert_problem(response, 422, "answers")
    assert "night_pain" in body["errors"]["answers"]
    unknown = sam.put(f"/v1/checkins/{uuid.uuid4()}",
                      json=pain(ago(minutes=1), answers={"dizzy": True}))
    assert "dizzy" in assert_problem(unknown, 422, "answers")["errors"]["answers"]
    answers_on_a_run = sam.put(f"/v1/checkins/{uuid.uuid4()}",
                               json=run(ago(hours=1), answers={"fever": True}))
    assert_problem(answers_on_a_run, 422, "answers")
    assert sam.get("/v1/checkins").get_json()["items"] == [], "nothing half-written"


def test_an_active_tier_pauses_load_advice_and_a_newer_check_in_clears_it(client):
    sam = sign_up(client)
    put(sam, run(ago(days=3), distance_m=10_000, duration_s=3600))
    put(sam, run(ago(days=1), distance_m=8_000, duration_s=2900))
    assert sam.get("/v1/me/load").get_json()["longest_advisable_run_m"] == 11_000

    flagged = put(sam, pain(ago(hours=2), severity=3, answers={"one_leg_numbness": True}))
    load = sam.get("/v1/me/load").get_json()
    assert load["longest_advisable_run_m"] is None
    assert load["advice_paused"]["tier"] == "urgent"
    assert load["advice_paused"]["checkin_id"] == flagged["id"]
    assert "numbness or weakness in one leg" in load["advice_paused"]["reason"]

    put(sam, pain(ago(hours=1), severity=2, answers={"one_leg_numbness": False}))
    load = sam.get("/v1/me/load").get_json()
    assert load["advice_paused"] is None and load["longest_advisable_run_m"] == 11_000


def test_deleting_the_clearing_check_in_brings_the_tier_back(client):
    sam = sign_up(client)
    put(sam, pain(ago(hours=3), severity=8))
    calm = put(sam, pain(ago(hours=1), severity=2))
    assert sam.get("/v1/me/load").get_json()["advice_paused"] is None
    assert sam.delete(f"/v1/checkins/{calm['id']}").status_code == 204
    assert sam.get("/v1/me/load").get_json()["advice_paused"]["tier"] == "review"


def test_stretch_reminders_stop_while_a_tier_is_active(app, client):
    sam = sign_up(client)
    put(sam, pain(ago(hours=2), severity=3, answers={"night_pain": True}))
    put(sam, run(ago(minutes=60), duration_s=2400))
    factory = app.extensions["backstride"].session_factory
    with factory() as session:
        assert reminders.sweep(session, datetime.now(UTC)).reminders == 0
        session.commit()
    put(sam, pain(ago(minutes=30), severity=1, answers={"night_pain": False}))
    with factory() as session:
        assert reminders.sweep(session, datetime.now(UTC)).reminders == 1, "cleared: reminded"
        session.commit()


def test_an_old_check_in_synced_late_is_triaged_but_not_announced(client):
    sam = awake(client)
    late = put(sam, pain(ago(days=20), answers={"fever": True}))
    assert late["triage"]["tier"] == "urgent"
    assert inbox(sam) == [], "advice about three weeks ago would come too late to help"
