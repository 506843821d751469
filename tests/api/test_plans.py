"""Plans: a marathon runner warned the day before a long run that jumps, a coach writing a plan
with and without the athlete's grant, a spreadsheet's CSV, and a morning runner's reminder.

The API runs on the real clock, so each story puts its runner in a fixed-offset time zone where
it is evening (or sets quiet hours around now), and counts its days from the runner's today.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from jsonschema import Draft202012Validator
from sqlalchemy import select

from service.domain.plans import notices
from service.domain.stretch import reminders
from service.models import Notification
from service.models.webhooks import WebhookEvent
from tests.api.test_coaching import link
from tests.support.runners import assert_problem, run, sign_up

THRESHOLD = 0.3


def zone_where_it_is(hour: int) -> str:
    """A fixed-offset zone whose local hour is `hour` now (Etc/GMT-5 is UTC+5)."""
    offset = (hour - datetime.now(UTC).hour) % 24
    if offset > 14:
        offset -= 24
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "")


def local_today(zone: str) -> date:
    return datetime.now(ZoneInfo(zone)).date()


def ran(runner, zone: str, day: date, metres: int) -> None:
    started = datetime.combine(day, time(7), tzinfo=ZoneInfo(zone))
    response = runner.put(f"/v1/checkins/{uuid.uuid4()}",
                          json=run(started.isoformat(), metres, metres * 330 // 1000))
    assert response.status_code == 201, response.get_json()


def marathon(start: date) -> list[dict]:
    """16 weeks from `start`: easy on day 1, tempo on day 3, the long run on day 6; the long run
    stays at 16 km for three weeks and jumps to 20 km in week 4; the race ends week 16."""
    long_km = [16, 16, 16, 20, 20, 22, 24, 26, 28, 30, 32, 32, 28, 24, 16]
    items = []
    for week in range(16):
        monday = start + timedelta(weeks=week)
        items += [{"id": str(uuid.uuid4()), "date": (monday + timedelta(days=1)).isoformat(),
                   "distance_m": 6000, "kind": "easy"},
                  {"id": str(uuid.uuid4()), "date": (monday + timedelta(days=3)).isoformat(),
                   "distance_m": 8000, "kind": "tempo", "notes": "20 min at threshold"}]
        last = week == 15
        items.append({"id": str(uuid.uuid4()), "date": (monday + timedelta(days=6)).isoformat(),
                      "distance_m": 42_195 if last else long_km[week] * 1000,
                      "kind": "race" if last else "long"})
    return items


def session_of(app):
    return app.extensions["backstride"].session_factory()


def test_a_marathon_runner_is_warned_of_the_week_4_long_run_from_the_plan_to_the_day_before(
        app, client):
    zone = zone_where_it_is(19)  # past the 18:00 notice time, before quiet hours at 21:30
    today = local_today(zone)
    start = today - timedelta(days=26)  # so week 4's long run is tomorrow
    ana = sign_up(client, timezone=zone)
    items = marathon(start)
    done = [item for item in items if date.fromisoformat(item["date"]) <= today]
    assert len(done) == 11, "weeks 1 to 3, and week 4's easy and tempo runs"
    for item in done:  # she has run the plan so far, as written on paper
        ran(ana, zone, date.fromisoformat(item["date"]), item["distance_m"])

    hook = ana.post("/v1/webhooks", json={"url": "https://hooks.example.org/plan",
                                          "event_types": ["warning.plan_preflight"]})
    assert hook.status_code == 201, hook.get_json()
    key = {"Idempotency-Key": str(uuid.uuid4())}
    written = ana.post("/v1/plan/batch", json={"items": items}, headers=key)
    assert written.status_code == 200, written.get_json()
    answer = written.get_json()
    assert [r["result"] for r in answer["results"]] == ["created"] * 48
    tomorrow = today + timedelta(days=1)
    flag = answer["preflight"]["flags"][0]
    assert (flag["date"], flag["distance_m"], flag["kind"], flag["rules"]) == (
        tomorrow.isoformat(), 20_000, "long", ["run_spike"])
    spike = flag["spike"]
    assert (spike["class"], spike["baseline_m"], spike["baseline_days"], spike["percent_longer"],
            spike["longest_advisable_run_m"]) == ("small", 16_000, 30, 25, 17_600)
    assert "Frandsen" in spike["source"] and spike["evidence"] == "E"
    assert flag["weekly"]["flagged"] is False
    assert flag["weekly"]["last_7_days_m"] == 34_000 and flag["weekly"]["previous_7_days_m"] \
        == 30_000
    race = items[-1]
    assert any(f["planned_run_id"] == race["id"] for f in answer["preflight"]["flags"]), \
        "42.2 km four weeks after 32 km is a spike too"

    again = ana.post("/v1/plan/batch", json={"items": items}, headers=key)
    assert again.get_json() == answer, "the same key answers the same"
    fresh = ana.post("/v1/plan/batch", json={"items": items},
                     headers={"Idempotency-Key": str(uuid.uuid4())}).get_json()
    assert {r["result"] for r in fresh["results"]} == {"unchanged"}

    plan = ana.get("/v1/plan").get_json()
    assert plan["counts"] == {"done": 11, "shorter": 0, "longer": 0, "missed": 0}
    assert plan["goal"] == {"planned_run_id": race["id"], "date": race["date"],
                            "distance_m": 42_195, "kind": "race"}
    load = ana.get("/v1/me/load").get_json()["plan"]
    assert load["next_run"]["date"] == tomorrow.isoformat()
    assert load["next_run"]["distance_m"] == 20_000
    assert load["counts"]["done"] == 6 and all(d["status"] == "done" for d in load["days"])

    safer = ana.get("/v1/plan/safer").get_json()
    assert safer["goal"]["planned_run_id"] == race["id"] and not safer["already_safe"]
    assert all(item["distance_m"] <= 17_600 for item in safer["items"]
               if item["date"] == tomorrow.isoformat())

    with session_of(app) as session:
        assert notices.sweep(session, datetime.now(UTC), THRESHOLD) == 1
        assert notices.sweep(session, datetime.now(UTC), THRESHOLD) == 0, "once"
        session.commit()
    inbox = ana.get("/v1/notifications").get_json()["items"]
    (notice,) = [n for n in inbox if n["kind"] == "plan_preflight"]
    assert notice["body"].startswith(
        "Tomorrow's planned 20.0 km is 25% longer than your longest run of the last 30 days, "
        "16.0 km."), notice["body"]
    assert notice["data"]["planned_run_id"] == flag["planned_run_id"]
    with session_of(app) as session:
        (event,) = session.scalars(select(WebhookEvent.payload).where(
            WebhookEvent.type == "warning.plan_preflight"))
    assert event["data"]["planned_run_id"] == flag["planned_run_id"]
    assert event["data"]["notification_id"] == notice["id"]
    components = client.get("/openapi.json").get_json()["components"]
    mapping = components["schemas"]["Notification"]["properties"]["data"]["discriminator"][
        "mapping"]
    variant = {"$ref": mapping["plan_preflight"], "components": components}
    assert [e.message for e in Draft202012Validator(variant).iter_errors(notice["data"])] == []


def test_the_notice_waits_for_quiet_hours_to_end(app, client):
    zone = zone_where_it_is(19)
    today = local_today(zone)
    ben = sign_up(client, timezone=zone)
    assert ben.patch("/v1/me", json={"quiet_hours": {"start": "16:00", "end": "07:00"}}
                     ).status_code == 200
    for back in (3, 10, 17):
        ran(ben, zone, today - timedelta(days=back), 10_000)
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert ben.put(f"/v1/plan/{uuid.uuid4()}", json={"date": tomorrow, "distance_m": 15_000}
                   ).status_code == 201
    with session_of(app) as session:
        assert notices.sweep(session, datetime.now(UTC), THRESHOLD) == 1
        (after,) = session.scalars(select(Notification.deliver_after)).all()
        session.commit()
    assert after.astimezone(ZoneInfo(zone)).time() == time(7, 0)
    assert ben.get("/v1/notifications").get_json()["items"] == []


def test_one_planned_run_by_put_is_idempotent_with_etags(client):
    cy = sign_up(client)
    day = (local_today("UTC") + timedelta(days=3)).isoformat()
    run_id = uuid.uuid4()
    body = {"date": day, "distance_m": 8000, "kind": "easy"}
    created = cy.put(f"/v1/plan/{run_id}", json=body)
    assert created.status_code == 201 and created.headers["ETag"] == '"v1"'
    assert created.get_json()["preflight"]["unjudged"][0]["planned_run_id"] == str(run_id)
    same = cy.put(f"/v1/plan/{run_id}", json=body)
    assert same.status_code == 200 and same.get_json()["version"] == 1
    stale = cy.put(f"/v1/plan/{run_id}", json={**body, "distance_m": 9000},
                   headers={"If-Match": '"v7"'})
    assert_problem(stale, 412)
    moved = cy.put(f"/v1/plan/{run_id}", json={**body, "distance_m": 9000},
                   headers={"If-Match": '"v1"'})
    assert moved.status_code == 200 and moved.get_json()["version"] == 2
    assert cy.get(f"/v1/plan/{run_id}").get_json()["written_by"] == "athlete"
    assert_problem(cy.put(f"/v1/plan/{run_id}", json={**body, "kind": "jog"}), 422, "kind")
    assert_problem(cy.put(f"/v1/plan/{run_id}", json={**body, "date": "2031-01-01"}), 422,
                   "date")
    assert_problem(cy.put(f"/v1/plan/{uuid.uuid4()}", json={**body, "id": str(run_id)}), 422,
                   "id")
    assert_problem(sign_up(client).get(f"/v1/plan/{run_id}"), 404)
    assert cy.delete(f"/v1/plan/{run_id}", headers={"If-Match": '"v2"'}).status_code == 204
    assert_problem(cy.get(f"/v1/plan/{run_id}"), 404)


def test_a_coach_writes_a_plan_only_with_the_plan_grant(client):
    coach, dee, eve, stranger = (sign_up(client) for _ in range(4))
    dee_id = link(coach, dee, ["runs", "plan"])
    eve_id = link(coach, eve, ["runs", "load"])
    day = (local_today("UTC") + timedelta(days=2)).isoformat()
    body = {"items": [{"id": str(uuid.uuid4()), "date": day, "distance_m": 10_000,
                       "kind": "long"}]}

    written = coach.post(f"/v1/coach/athletes/{dee_id}/plan/batch", json=body)
    assert written.status_code == 200, written.get_json()
    assert written.get_json()["results"][0]["result"] == "created"
    (mine,) = dee.get("/v1/plan").get_json()["items"]
    assert mine["written_by"] == "coach" and mine["coach_id"] == coach.profile["id"]
    run_id = mine["id"]
    put = coach.put(f"/v1/coach/athletes/{dee_id}/plan/{run_id}",
                    json={"date": day, "distance_m": 11_000, "kind": "long"})
    assert put.status_code == 200 and put.get_json()["version"] == 2
    assert coach.get(f"/v1/coach/athletes/{dee_id}/plan").get_json()["items"][0][
        "distance_m"] == 11_000
    log = dee.get("/v1/me/access-log").get_json()["items"]
    assert {(e["resource"], e["action"]) for e in log} == {("plan", "write"), ("plan", "read")}
    assert sum(e["action"] == "write" for e in log) == 2

    refused = coach.post(f"/v1/coach/athletes/{eve_id}/plan/batch", json=body)
    assert_problem(refused, 403)
    assert "plan" in refused.get_json()["detail"]
    assert_problem(coach.put(f"/v1/coach/athletes/{eve_id}/plan/{uuid.uuid4()}",
                             json={"date": day, "distance_m": 5000}), 403)
    assert eve.get("/v1/plan").get_json()["items"] == [], "nothing was written"
    assert_problem(coach.get(f"/v1/coach/athletes/{eve_id}/plan"), 404)
    assert_problem(stranger.post(f"/v1/coach/athletes/{dee_id}/plan/batch", json=body), 404)
    assert_problem(coach.put(f"/v1/coach/athletes/{dee_id}/plan/{run_id}",
                             json={"date": day, "distance_m": 5000},
                             headers={"If-Match": '"v1"'}), 412)

    roster = {e["athlete_id"]: e for e in coach.get("/v1/coach/athletes").get_json()["items"]}
    assert roster[dee_id]["plan_last_14_days"] == {"done": 0, "shorter": 0, "longer": 0,
                                                    "missed": 0}
    assert roster[eve_id]["plan_last_14_days"] is None
    assert coach.get(f"/v1/coach/athletes/{eve_id}/load").get_json()["plan"] is None


def test_a_personal_token_needs_plan_scopes(client):
    fay = sign_up(client)
    token = fay.post("/v1/me/tokens", json={"name": "sheet sync", "scopes": ["plan:read"]}
                     ).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/plan", headers=headers).status_code == 200
    day = (local_today("UTC") + timedelta(days=2)).isoformat()
    assert_problem(client.put(f"/v1/plan/{uuid.uuid4()}", headers=headers,
                              json={"date": day, "distance_m": 5000}), 403)


def upload(runner, text: str, **query):
    return runner.client.post("/v1/plan/file", headers=runner.headers, query_string=query,
                              data={"file": (io.BytesIO(text.encode()), "plan.csv")},
                              content_type="multipart/form-data")


def test_a_spreadsheets_csv_is_a_plan_and_its_problems_name_row_and_column(client):
    gus = sign_up(client)
    today = local_today("UTC")
    days = [(today + timedelta(days=n)).isoformat() for n in (1, 2, 4, 6)]
    sheet = (f"Date;Distance (km);Kind;Notes\n{days[0]};5,5;easy;\n{days[1]};;rest;\n"
             f"{days[2]};8 km;Tempo;hills\n{days[3]};14;long run;\n")
    first = upload(gus, sheet)
    assert first.status_code == 200, first.get_json()
    answer = first.get_json()
    assert [(r["row"], r["result"]) for r in answer["results"]] == [
        (2, "created"), (4, "created"), (5, "created")]
    assert answer["rest_days"] == 1
    planned = gus.get("/v1/plan").get_json()["items"]
    assert [(p["date"], p["distance_m"], p["kind"]) for p in planned] == [
        (days[0], 5500, "easy"), (days[2], 8000, "tempo"), (days[3], 14_000, "long")]
    assert {r["result"] for r in upload(gus, sheet).get_json()["results"]} == {"unchanged"}

    bad = upload(gus, f"date,distance_km\n{days[0]},5\n14/03/2026,6\n{days[1]},six\n")
    problem = assert_problem(bad, 422)
    assert problem["detail"].startswith("Row 3, column date:")
    assert set(problem["errors"]["rows"]) == {"3", "4"}
    assert "distance_km" in problem["errors"]["rows"]["4"]
    assert_problem(upload(gus, "when,how far\n2026-01-01,5\n"), 422)
    assert len(gus.get("/v1/plan").get_json()["items"]) == 3, "a refused file writes nothing"


def test_a_morning_runners_reminder_goes_when_her_app_syncs_inside_quiet_hours(app, client):
    """Her run ended at "05:50" and the phone synced at "06:05", inside quiet hours: the
    reminder goes now. The same from a script (a token) waits for quiet hours to end."""
    now = datetime.now(UTC)
    zone = zone_where_it_is(6)
    local = now.astimezone(ZoneInfo(zone))
    quiet = {"start": (local - timedelta(hours=3)).strftime("%H:%M"),
             "end": (local + timedelta(hours=1)).strftime("%H:%M")}
    hana, ivy = sign_up(client, timezone=zone), sign_up(client, timezone=zone)
    for runner in (hana, ivy):
        assert runner.patch("/v1/me", json={"quiet_hours": quiet}).status_code == 200
    started = (now - timedelta(minutes=45)).isoformat()  # ended 15 minutes ago
    assert hana.put(f"/v1/checkins/{uuid.uuid4()}", json=run(started, 8000, 1800)
                    ).status_code == 201
    token = ivy.post("/v1/me/tokens", json={"name": "watch bridge",
                                            "scopes": ["checkins:write"]}).get_json()["token"]
    assert client.put(f"/v1/checkins/{uuid.uuid4()}", json=run(started, 8000, 1800),
                      headers={"Authorization": f"Bearer {token}"}).status_code == 201

    with session_of(app) as session:
        assert reminders.sweep(session, datetime.now(UTC)).reminders == 2
        session.commit()
    (hers,) = hana.get("/v1/notifications").get_json()["items"]
    assert hers["kind"] == "stretch_reminder"
    assert ivy.get("/v1/notifications").get_json()["items"] == [], "waits for quiet hours"


def test_a_reminder_due_after_the_sync_keeps_to_quiet_hours(app, client):
    """Synced a minute after the run ended, the reminder is due ten minutes later: the clock
    causes it, not the sync, and it waits for quiet hours to end."""
    now = datetime.now(UTC)
    zone = zone_where_it_is(6)
    local = now.astimezone(ZoneInfo(zone))
    jo = sign_up(client, timezone=zone)
    assert jo.patch("/v1/me", json={"quiet_hours": {
        "start": (local - timedelta(hours=3)).strftime("%H:%M"),
        "end": (local + timedelta(hours=2)).strftime("%H:%M")}}).status_code == 200
    started = (now - timedelta(minutes=31)).isoformat()  # ended a minute ago
    assert jo.put(f"/v1/checkins/{uuid.uuid4()}", json=run(started, 8000, 1800)
                  ).status_code == 201
    with session_of(app) as session:
        assert reminders.sweep(session, now + timedelta(minutes=10)).reminders == 1
        (after,) = session.scalars(select(Notification.deliver_after)).all()
        session.commit()
    assert after > now + timedelta(hours=1)
