"""Coaching by consent: invites, scopes, the roster, the access log, and 404 for everything else."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from service.api import BLUEPRINTS
from service.api.context import READ_ONLY, reads_only, view_function
from service.db import WRITES
from tests.support.runners import assert_problem, pain, run, sign_up

ALL = ["load", "notifications", "pain", "plan", "runs", "shoes"]
# Every coach read, each written to the athlete's access log: they need the writing session.
COACH_READS = {"/v1/coach/athletes": "roster",
               "/v1/coach/athletes/{id}/checkins": "checkins",
               "/v1/coach/athletes/{id}/load": "load",
               "/v1/coach/athletes/{id}/shoes": "shoes",
               "/v1/coach/athletes/{id}/notifications": "notifications",
               "/v1/coach/athletes/{id}/plan": "plan"}


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def link(coach, athlete, scopes=ALL) -> str:
    code = coach.post("/v1/coach/invites").get_json()["code"]
    accepted = athlete.post("/v1/me/coaches", json={"code": code, "scopes": scopes})
    assert accepted.status_code == 201, accepted.get_json()
    return athlete.profile["id"]


def test_an_invite_links_once_with_the_scopes_the_athlete_chose(client):
    coach, ana = sign_up(client), sign_up(client)
    invite = coach.post("/v1/coach/invites")
    assert invite.status_code == 201
    code = invite.get_json()["code"]
    assert len(code) == 11 and code[5] == "-"
    expires = datetime.fromisoformat(invite.get_json()["expires_at"])
    assert timedelta(days=6, hours=23) < expires - datetime.now(UTC) <= timedelta(days=7)

    accepted = ana.post("/v1/me/coaches", json={"code": code.lower(), "scopes": ["runs"]})
    assert accepted.status_code == 201 and accepted.get_json()["scopes"] == ["runs"]
    assert accepted.get_json()["coach_id"] == coach.profile["id"]
    ben = sign_up(client)
    used = ben.post("/v1/me/coaches", json={"code": code, "scopes": ["runs"]})
    assert_problem(used, 422, "code")
    own = coach.post("/v1/me/coaches", json={
        "code": coach.post("/v1/coach/invites").get_json()["code"], "scopes": ["runs"]})
    assert_problem(own, 422, "code")
    unknown_scope = ben.post("/v1/me/coaches", json={
        "code": coach.post("/v1/coach/invites").get_json()["code"], "scopes": ["diary"]})
    assert_problem(unknown_scope, 422, "scopes")


def test_the_athlete_changes_scopes_and_either_side_can_unlink(client):
    coach, ana = sign_up(client), sign_up(client)
    ana_id = link(coach, ana, ["runs", "load"])
    assert coach.get(f"/v1/coach/athletes/{ana_id}/load").status_code == 200

    changed = ana.put(f"/v1/me/coaches/{coach.profile['id']}", json={"scopes": ["runs"]})
    assert changed.status_code == 200 and changed.get_json()["scopes"] == ["runs"]
    assert coach.get(f"/v1/coach/athletes/{ana_id}/load").status_code == 404

    assert ana.delete(f"/v1/me/coaches/{coach.profile['id']}").status_code == 204
    assert coach.get(f"/v1/coach/athletes/{ana_id}/checkins").status_code == 404
    assert coach.get("/v1/coach/athletes").get_json()["items"] == []

    link(coach, ana, ["runs"])
    assert coach.delete(f"/v1/coach/athletes/{ana_id}").status_code == 204
    assert ana.get("/v1/me/coaches").get_json()["items"] == []


def test_consent_is_given_in_the_app_not_by_a_script_token(client):
    coach, ana = sign_up(client), sign_up(client)
    token = ana.post("/v1/me/tokens", json={"name": "script", "scopes": ["profile:read"],
                                            "expires_in_days": 30}).get_json()["token"]
    code = coach.post("/v1/coach/invites").get_json()["code"]
    response = client.post("/v1/me/coaches", json={"code": code, "scopes": ALL},
                           headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 403)


def test_the_roster_puts_who_needs_attention_first_and_shows_only_what_is_granted(client):
    coach = sign_up(client)
    calm, flagged, private = sign_up(client), sign_up(client), sign_up(client)
    for runner in (calm, flagged, private):
        for days in (9, 6, 3):
            runner.put(f"/v1/checkins/{uuid.uuid4()}", json=run(ago(days=days)))
    flagged.put(f"/v1/checkins/{uuid.uuid4()}",
                json=run(ago(days=1), distance_m=16_000, duration_s=5400))
    flagged.put(f"/v1/checkins/{uuid.uuid4()}", json=pain(ago(hours=2), severity=8))
    link(coach, calm)
    link(coach, flagged)
    link(coach, private, ["runs"])

    items = coach.get("/v1/coach/athletes").get_json()["items"]
    assert items[0]["athlete_id"] == flagged.profile["id"]
    assert items[0]["triage_tier"] == "review" and items[0]["latest_spike"] == "moderate"
    assert "pain_review" in items[0]["attention"] and "run_spike_moderate" in items[0]["attention"]
    assert items[0]["last_7_days_m"] == 8000 + 8000 + 16_000
    hidden = next(i for i in items if i["athlete_id"] == private.profile["id"])
    assert hidden["last_run_at"] is not None, "runs granted"
    assert (hidden["last_7_days_m"], hidden["triage_tier"], hidden["unread_warnings"],
            hidden["shoes_needing_attention"]) == (None, None, None, None)
    by_name = coach.get("/v1/coach/athletes", query_string={"sort": "name"}).get_json()["items"]
    assert [i["email"] for i in by_name] == sorted(i["email"] for i in items)


def test_every_coach_read_is_in_the_athletes_access_log(client):
    coach, ana = sign_up(client), sign_up(client, display_name="Ana")
    coach.patch("/v1/me", json={"display_name": "Coach Kim"})
    ana_id = link(coach, ana)
    coach.get("/v1/coach/athletes")
    for resource in ("checkins", "load", "shoes", "notifications"):
        assert coach.get(f"/v1/coach/athletes/{ana_id}/{resource}").status_code == 200
    log = ana.get("/v1/me/access-log").get_json()["items"]
    assert [entry["resource"] for entry in log] == [
        "notifications", "shoes", "load", "checkins", "roster"]
    assert {entry["coach_name"] for entry in log} == {"Coach Kim"}
    assert all("value" not in entry and "items" not in entry for entry in log)
    assert coach.get("/v1/me/access-log").get_json()["items"] == [], "the coach's own log is empty"


def test_a_coach_sees_pain_check_ins_only_with_pain(client):
    coach, ana = sign_up(client), sign_up(client)
    ana.put(f"/v1/checkins/{uuid.uuid4()}", json=run(ago(days=1)))
    ana.put(f"/v1/checkins/{uuid.uuid4()}", json=pain(ago(hours=1)))
    ana_id = link(coach, ana, ["runs"])
    kinds = [c["kind"] for c in coach.get(f"/v1/coach/athletes/{ana_id}/checkins").get_json()[
        "items"]]
    assert kinds == ["run"]
    assert coach.get(f"/v1/coach/athletes/{ana_id}/checkins",
                     query_string={"kind": "pain"}).status_code == 404

    pain_coach = sign_up(client)  # and the mirror: pain without runs
    link(pain_coach, ana, ["pain"])
    kinds = [c["kind"] for c in pain_coach.get(f"/v1/coach/athletes/{ana_id}/checkins")
             .get_json()["items"]]
    assert kinds == ["pain"]
    assert pain_coach.get(f"/v1/coach/athletes/{ana_id}/checkins",
                          query_string={"kind": "run"}).status_code == 404


def test_the_roster_costs_the_same_queries_whatever_its_size(app, client):
    coach = sign_up(client)
    engine = app.extensions["backstride"].engine

    def add_athletes(count: int) -> None:
        for _ in range(count):
            athlete = sign_up(client)
            athlete.post("/v1/shoes", json={"name": "Worn out", "max_distance_m": 500_000,
                                            "initial_distance_m": 500_000})
            athlete.put(f"/v1/checkins/{uuid.uuid4()}", json=run(ago(days=2)))
            athlete.put(f"/v1/checkins/{uuid.uuid4()}", json=pain(ago(hours=3)))
            link(coach, athlete)

    def roster_queries() -> tuple[int, list]:
        statements: list[str] = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            items = coach.get("/v1/coach/athletes").get_json()["items"]
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert all(i["shoes_needing_attention"] and i["triage_tier"] for i in items), items
        return len(statements), items

    add_athletes(2)
    small, items = roster_queries()
    assert len(items) == 2
    add_athletes(10)
    large, items = roster_queries()
    assert len(items) == 12
    assert small == large, f"{small} queries for 2 athletes, {large} for 12"
    assert large <= 14


def test_a_coach_not_granted_pain_learns_nothing_of_it_through_load_or_notifications(client):
    """Ana shares her load and her inbox, not her pain; a red flag she reports stays hers."""
    coach, ana = sign_up(client), sign_up(client)
    link(coach, ana, ["load", "notifications", "runs"])
    ana.put(f"/v1/checkins/{uuid.uuid4()}", json=run(
        (datetime.now(UTC) - timedelta(days=2)).isoformat(), distance_m=10_000))
    flagged = ana.put(f"/v1/checkins/{uuid.uuid4()}", json=pain(
        (datetime.now(UTC) - timedelta(hours=1)).isoformat(), severity=4,
        answers={"sexual_dysfunction": True}))
    assert flagged.get_json()["triage"]["tier"] == "emergency"
    assert ana.get("/v1/me/load").get_json()["advice_paused"]["tier"] == "emergency"
    ana_id = ana.profile["id"]

    load = coach.get(f"/v1/coach/athletes/{ana_id}/load").get_json()
    inbox = coach.get(f"/v1/coach/athletes/{ana_id}/notifications").get_json()
    (entry,) = coach.get("/v1/coach/athletes").get_json()["items"]

    assert load["advice_paused"] is None
    assert load["longest_advisable_run_m"] is None, "no advice to run more, and no reason why"
    assert [n for n in inbox["items"] if n["kind"].startswith("pain_")] == []
    assert entry["unread_warnings"] == len(inbox["items"])
    for body in (load, inbox, entry):
        assert "sexual" not in json.dumps(body).lower(), body

    coach_with_pain = sign_up(client)
    link(coach_with_pain, ana, ["load", "notifications", "pain"])
    shared = coach_with_pain.get(f"/v1/coach/athletes/{ana_id}/load").get_json()
    assert shared["advice_paused"]["tier"] == "emergency"
    assert any(n["kind"] == "pain_emergency" for n in coach_with_pain.get(
        f"/v1/coach/athletes/{ana_id}/notifications").get_json()["items"])


def as_token(coach, *scopes: str):
    """The coach's script: a personal token of these scopes, speaking for the coach."""
    made = coach.post("/v1/me/tokens", json={"name": "coach script", "scopes": list(scopes)})
    assert made.status_code == 201, made.get_json()
    return replace(coach, access_token=made.get_json()["token"])


def test_a_coach_token_without_pain_read_sees_no_pain_though_the_athlete_granted_it(client):
    """Pain takes two consents: the athlete's `pain` grant and the coach's `pain:read` token."""
    coach, ana = sign_up(client), sign_up(client)
    ana_id = link(coach, ana)
    ana.put(f"/v1/checkins/{uuid.uuid4()}", json=run(ago(days=2), distance_m=10_000))
    flagged = ana.put(f"/v1/checkins/{uuid.uuid4()}", json=pain(
        ago(hours=1), severity=4, answers={"sexual_dysfunction": True}))
    assert flagged.get_json()["triage"]["tier"] == "emergency"

    def reads(reader):
        (entry,) = reader.get("/v1/coach/athletes").get_json()["items"]
        checkins = reader.get(f"/v1/coach/athletes/{ana_id}/checkins").get_json()["items"]
        only_pain = reader.get(f"/v1/coach/athletes/{ana_id}/checkins",
                               query_string={"kind": "pain"})
        load = reader.get(f"/v1/coach/athletes/{ana_id}/load").get_json()
        inbox = reader.get(f"/v1/coach/athletes/{ana_id}/notifications").get_json()["items"]
        return entry, checkins, only_pain, load, inbox

    entry, checkins, only_pain, load, inbox = reads(as_token(coach, "coach:read"))
    assert entry["triage_tier"] is None and not any(a.startswith("pain_")
                                                    for a in entry["attention"])
    assert [c["kind"] for c in checkins] == ["run"]
    assert only_pain.status_code == 404
    assert load["advice_paused"] is None
    assert [n for n in inbox if n["kind"].startswith("pain_")] == []
    assert entry["unread_warnings"] == len(inbox)
    assert "sexual" not in json.dumps([entry, checkins, load, inbox]).lower()

    entry, checkins, only_pain, load, inbox = reads(as_token(coach, "coach:read", "pain:read"))
    assert entry["triage_tier"] == "emergency" and "pain_emergency" in entry["attention"]
    assert sorted(c["kind"] for c in checkins) == ["pain", "run"]
    assert only_pain.status_code == 200
    assert load["advice_paused"]["tier"] == "emergency"
    assert any(n["kind"] == "pain_emergency" for n in inbox)
    assert reads(coach)[0] == entry, "a signed-in session holds every scope"


def rules_and_methods(app):
    """Every (method, rule, view function) of the API's own blueprints (not the docs)."""
    ours = {blueprint.name for blueprint in BLUEPRINTS}
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint.partition(".")[0] not in ours:
                continue
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, rule.rule, view_function(rule.endpoint, method)


def test_views_that_write_are_never_on_the_read_only_session(app):
    """Marking a coach read read_only would put its access log outside the read's transaction."""
    views = list(rules_and_methods(app))
    coach_reads = {rule.replace("<uuid:athlete_id>", "{id}") for method, rule, _ in views
                   if method == "GET" and rule.startswith("/v1/coach/")}
    assert coach_reads == set(COACH_READS)
    for method, rule, view in views:
        writes = method != "GET" or rule.startswith("/v1/coach/")
        if writes:
            assert not reads_only(view), f"{method} {rule} writes: it must not be read_only"
        else:
            assert reads_only(view), (f"{method} {rule}: mark it @blp.read_only() if it only "
                                      "reads, or name it here if it writes")


@pytest.mark.parametrize("path", COACH_READS)
def test_a_coach_read_and_its_access_log_entry_are_one_transaction(app, client, path):
    coach, ana = sign_up(client), sign_up(client)
    ana_id = link(coach, ana)
    engine = app.extensions["backstride"].engine
    executed, committed = [], []

    def on_execute(connection, _cursor, statement, *_args):
        if statement.startswith("BEGIN"):  # SQLite's, sent as the transaction begins
            return
        executed.append((statement, connection.get_execution_options().get(WRITES, False),
                         connection.get_transaction()))

    def on_commit(connection):
        committed.append(connection.get_transaction())

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    try:
        response = coach.get(path.format(id=ana_id))
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)

    assert response.status_code == 200, response.get_json()
    (log_write,) = [e for e in executed if "INSERT INTO access_log" in e[0]]
    transaction = log_write[2]
    assert transaction is not None and transaction in committed
    assert all(writes for _, writes, _ in executed), "the whole request on the writing session"
    assert {t for _, _, t in executed} == {transaction}, "the read and the log: one transaction"
    log = ana.get("/v1/me/access-log").get_json()["items"]
    assert [entry["resource"] for entry in log] == [COACH_READS[path]]


def test_a_coach_read_marked_read_only_by_mistake_fails_instead_of_logging_outside(
        app, client, monkeypatch):
    coach, ana = sign_up(client), sign_up(client)
    link(coach, ana)
    with app.test_request_context():
        roster = view_function("coach.Roster", "GET")
    monkeypatch.setattr(roster, READ_ONLY, True, raising=False)

    assert_problem(coach.get("/v1/coach/athletes"), 500)


def test_without_pain_the_coachs_view_of_advice_is_the_same_whatever_the_tier(client):
    """A number for an athlete with no tier and null for one with a tier told the tier."""
    coach = sign_up(client)
    views = {}
    for name, answers in (("none", {}), ("urgent", {"fever": True}),
                          ("review", {"had_pain_for_weeks": 8})):
        athlete = sign_up(client)
        link(coach, athlete, ["load", "runs"])
        athlete.put(f"/v1/checkins/{uuid.uuid4()}", json=run(ago(days=3), distance_m=10_000))
        triaged = athlete.put(f"/v1/checkins/{uuid.uuid4()}", json=pain(
            ago(hours=2), severity=3, answers=answers)).get_json()
        assert triaged["triage"]["tier"] == name
        views[name] = coach.get(f"/v1/coach/athletes/{athlete.profile['id']}/load").get_json()

    advice = {name: (view["longest_advisable_run_m"], view["advice_paused"])
              for name, view in views.items()}
    assert advice == {"none": (None, None), "urgent": (None, None), "review": (None, None)}
