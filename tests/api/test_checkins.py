"""A phone with patchy signal uploads runs, pain and stretches, retrying whatever got no answer."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from service.models import Checkin
from tests.support.runners import assert_problem, pain, run, sign_up, stretch


def put(runner, body, checkin_id=None, **kwargs):
    return runner.put(f"/v1/checkins/{checkin_id or uuid.uuid4()}", json=body, **kwargs)


def history(runner, **query):
    return runner.get("/v1/checkins", query_string={"limit": 500, **query}).get_json()["items"]


def test_the_same_upload_twice_changes_nothing_and_a_changed_one_updates(client):
    runner = sign_up(client)
    checkin_id = uuid.uuid4()

    created = put(runner, run(), checkin_id)
    again = put(runner, run(), checkin_id)
    edited = put(runner, run(distance_m=8400, surface="road", notes="felt fine"), checkin_id)

    assert created.status_code == 201
    assert (again.status_code, again.get_json()) == (200, created.get_json())
    assert again.headers["ETag"] == created.headers["ETag"]
    assert edited.status_code == 200
    assert edited.get_json()["version"] == created.get_json()["version"] + 1
    assert edited.get_json()["distance_m"] == 8400
    assert len(history(runner)) == 1


def test_the_same_instant_with_another_offset_is_the_same_upload(client):
    runner = sign_up(client)
    checkin_id = uuid.uuid4()
    put(runner, run("2026-11-01T07:30:00+00:00"), checkin_id)
    again = put(runner, run("2026-11-01T08:30:00+01:00"), checkin_id)
    assert again.get_json()["version"] == 1


def test_a_run_belongs_to_the_athletes_local_day(client):
    runner = sign_up(client, timezone="America/Los_Angeles")
    late_evening = put(runner, run("2026-03-01T23:30:00-08:00")).get_json()
    assert late_evening["local_date"] == "2026-03-01", "07:30 UTC next day is still Sunday in LA"
    assert late_evening["started_at"] == "2026-03-02T07:30:00Z", "stored and written in UTC"


def test_every_kind_is_recorded_with_its_own_fields(client):
    runner = sign_up(client)
    assert put(runner, pain(side="left", timing="next_morning", radiates="buttock",
                            morning_stiffness_min=20)).status_code == 201
    assert put(runner, stretch(routine_ids=["knee-to-chest", "glute-bridge"])).status_code == 201
    kinds = sorted(c["kind"] for c in history(runner))
    assert kinds == ["exercise", "pain"]
    assert history(runner, kind="pain")[0]["radiates"] == "buttock"


FUTURE = (datetime.now(UTC) + timedelta(hours=25)).isoformat()


@pytest.mark.parametrize(("body", "named"), [
    (run(distance_m=0), "distance_m"),
    (run(distance_m=500_001), "distance_m"),
    (run(duration_s=0), "duration_s"),
    (run(duration_s=48 * 3600 + 1), "duration_s"),
    (run(distance_m=10_000, duration_s=1199), "duration_s"),  # 1:59.9 min/km
    (run(started_at=FUTURE), "started_at"),
    (run(started_at="2026-11-01T07:30:00"), "started_at"),  # no offset
    (run(surface="sand"), "surface"),
    (run(effort=11), "effort"),
    (run(location="lower_back"), "location"),  # a pain field on a run
    (run(owner="someone-else"), "owner"),
    (run(athlete_id=str(uuid.uuid4())), "athlete_id"),
    (run(created_at="2026-11-01T07:30:00+00:00"), "created_at"),
    ({"kind": "run", "distance_m": 5000}, "started_at"),
    (pain(severity=11), "severity"),
    (pain(severity=-1), "severity"),
    (pain(location="knee"), "location"),
    ({"kind": "nap", "recorded_at": "2026-11-01T07:30:00+00:00"}, "kind"),
    (stretch(focus="jogging"), "focus"),
])
def test_bad_input_is_named_and_nothing_is_written(client, body, named):
    runner = sign_up(client)
    assert_problem(put(runner, body), 422, named)
    assert history(runner) == []


def test_a_runs_moving_time_is_kept_and_can_never_be_longer_than_its_elapsed_time(client):
    sam = sign_up(client)
    paused = sam.put(f"/v1/checkins/{uuid.uuid4()}", json=run(duration_s=3000, moving_s=2700))
    assert paused.status_code == 201
    assert (paused.get_json()["duration_s"], paused.get_json()["moving_s"]) == (3000, 2700)
    assert sam.put(f"/v1/checkins/{uuid.uuid4()}", json=run()).get_json()["moving_s"] is None
    longer = sam.put(f"/v1/checkins/{uuid.uuid4()}", json=run(duration_s=3000, moving_s=3001))
    assert_problem(longer, 422, "moving_s")


def test_a_pace_of_exactly_two_minutes_per_km_is_accepted(client):
    runner = sign_up(client)
    assert put(runner, run(distance_m=10_000, duration_s=1200)).status_code == 201


def test_a_check_in_cannot_change_its_kind_or_its_id(client):
    runner = sign_up(client)
    checkin_id = uuid.uuid4()
    put(runner, run(), checkin_id)
    assert_problem(put(runner, pain(), checkin_id), 422, "kind")
    assert_problem(put(runner, {**run(), "id": str(uuid.uuid4())}, checkin_id), 422, "id")


def test_a_deleted_check_in_is_gone_for_good_and_deleting_twice_is_harmless(client):
    runner = sign_up(client)
    checkin_id = uuid.uuid4()
    put(runner, run(), checkin_id)

    assert runner.delete(f"/v1/checkins/{checkin_id}").status_code == 204
    assert runner.delete(f"/v1/checkins/{checkin_id}").status_code == 204
    assert_problem(runner.get(f"/v1/checkins/{checkin_id}"), 410)
    assert_problem(put(runner, run(), checkin_id), 410)
    assert history(runner) == []


def test_stale_etags_are_refused_on_put_and_delete(client):
    runner = sign_up(client)
    checkin_id = uuid.uuid4()
    etag = put(runner, run(), checkin_id).headers["ETag"]
    put(runner, run(distance_m=9000), checkin_id, headers={"If-Match": etag})

    assert_problem(put(runner, run(distance_m=7000), checkin_id, headers={"If-Match": etag}), 412)
    assert_problem(runner.delete(f"/v1/checkins/{checkin_id}", headers={"If-Match": etag}), 412)
    assert runner.get(f"/v1/checkins/{checkin_id}").get_json()["distance_m"] == 9000
    assert runner.get(f"/v1/checkins/{checkin_id}",
                      headers={"If-None-Match": runner.get(
                          f"/v1/checkins/{checkin_id}").headers["ETag"]}).status_code == 304


def test_if_match_on_a_check_in_that_does_not_exist_is_412_and_creates_nothing(client):
    """RFC 9110 §13.1.1: `*` is false when there is nothing there, and so is any tag; a
    DELETE that would be 404 without If-Match stays 404 (§13.2.1)."""
    runner = sign_up(client)
    checkin_id = uuid.uuid4()
    for tag in ("*", '"v1"'):
        assert_problem(put(runner, run(), checkin_id, headers={"If-Match": tag}), 412)
        assert_problem(runner.delete(f"/v1/checkins/{checkin_id}", headers={"If-Match": tag}),
                       404)
    assert_problem(runner.get(f"/v1/checkins/{checkin_id}"), 404)
    assert history(runner) == []

    assert put(runner, run(), checkin_id).status_code == 201, "without If-Match PUT creates"
    updated = put(runner, run(distance_m=9000), checkin_id, headers={"If-Match": "*"})
    assert updated.status_code == 200, "`*` matches a check-in that exists"
    assert runner.delete(f"/v1/checkins/{checkin_id}", headers={"If-Match": "*"}).status_code \
        == 204


def test_the_same_batch_sent_three_times_leaves_one_copy_of_each(client):
    runner = sign_up(client)
    items = [{"id": str(uuid.uuid4()), **run(f"2026-10-{day:02d}T07:00:00+00:00")}
             for day in range(1, 21)]
    items += [{"id": str(uuid.uuid4()), **pain()}, {"id": str(uuid.uuid4()), **stretch()}]

    results = [runner.post("/v1/checkins/batch", json={"items": items}).get_json()["results"]
               for _ in range(3)]

    assert {r["result"] for r in results[0]} == {"created"}
    assert {r["result"] for r in results[1]} == {r["result"] for r in results[2]} == {"unchanged"}
    assert sorted(c["id"] for c in history(runner)) == sorted(i["id"] for i in items)


def test_one_bad_item_does_not_sink_the_batch(client):
    runner = sign_up(client)
    good = {"id": str(uuid.uuid4()), **run()}
    bad = {"id": str(uuid.uuid4()), **run(distance_m=-5)}
    not_even_an_object = "run 5k"
    duplicate = dict(good)

    response = runner.post("/v1/checkins/batch",
                           json={"items": [good, bad, not_even_an_object, duplicate]})

    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["result"] for r in results] == ["created", "error", "error", "error"]
    assert "distance_m" in results[1]["problem"]["errors"]
    assert results[1]["id"] == bad["id"] and results[1]["problem"]["status"] == 422
    assert results[2]["id"] is None
    assert "id" in results[3]["problem"]["errors"]
    assert [c["id"] for c in history(runner)] == [good["id"]]


def test_batches_are_bounded(client):
    runner = sign_up(client)
    too_many = [{"id": str(uuid.uuid4()), **run()} for _ in range(501)]
    assert_problem(runner.post("/v1/checkins/batch", json={"items": too_many}), 422, "items")
    assert_problem(runner.post("/v1/checkins/batch", json={"items": []}), 422, "items")
    assert_problem(runner.post("/v1/checkins/batch", json={"items": "lots"}), 422, "items")
    assert history(runner) == []


def test_a_retried_batch_with_its_key_replays_the_first_answer(client):
    runner = sign_up(client)
    body = {"items": [{"id": str(uuid.uuid4()), **run()}]}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = runner.post("/v1/checkins/batch", json=body, headers=key)
    again = runner.post("/v1/checkins/batch", json=body, headers=key)
    assert again.get_json() == first.get_json()
    assert again.get_json()["results"][0]["result"] == "created", "the first answer, replayed"


def test_history_filters_by_kind_and_time_and_pages_newest_first(client):
    runner = sign_up(client)
    for day in range(1, 8):
        put(runner, run(f"2026-10-{day:02d}T07:00:00+00:00"))
    put(runner, pain("2026-10-03T20:00:00+00:00"))

    runs = history(runner, kind="run", **{"from": "2026-10-02T00:00:00Z",
                                          "to": "2026-10-05T00:00:00Z"})
    assert [r["started_at"][:10] for r in runs] == ["2026-10-04", "2026-10-03", "2026-10-02"]

    seen, cursor = [], None
    while True:
        page = runner.get("/v1/checkins", query_string={
            "limit": 3, **({"cursor": cursor} if cursor else {})}).get_json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        assert page["has_more"] is (cursor is not None)
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 8
    assert_problem(runner.get("/v1/checkins", query_string={"from": "yesterday"}), 422, "from")
    assert_problem(runner.get("/v1/checkins", query_string={"since": "-1"}), 422, "since")


def test_another_athletes_check_ins_are_404_everywhere_and_untouched(client):
    owner, stranger = sign_up(client), sign_up(client)
    checkin_id = uuid.uuid4()
    put(owner, run(), checkin_id)
    path = f"/v1/checkins/{checkin_id}"

    assert_problem(stranger.get(path), 404)
    assert_problem(put(stranger, run(distance_m=1000), checkin_id), 404)
    assert_problem(stranger.delete(path), 404)
    batch = stranger.post("/v1/checkins/batch",
                          json={"items": [{"id": str(checkin_id), **run(distance_m=1000)}]})
    assert batch.get_json()["results"][0]["problem"]["status"] == 404
    assert history(stranger) == []
    assert stranger.get("/v1/checkins", query_string={"since": "0"}).get_json()["items"] == []
    mine = owner.get(path).get_json()
    assert (mine["distance_m"], mine["version"], mine["deleted"]) == (8000, 1, False)


def test_athlete_data_is_never_cached(client):
    runner = sign_up(client)
    assert put(runner, run()).headers["Cache-Control"] == "no-store"
    assert runner.get("/v1/checkins").headers["Cache-Control"] == "no-store"


def test_two_uploads_of_the_same_check_in_at_once_leave_one_row(app):
    runner = sign_up(app.test_client())
    checkin_id = uuid.uuid4()
    threads_n = 6
    barrier = threading.Barrier(threads_n)
    statuses: list[int] = []

    def upload():
        client = app.test_client()
        barrier.wait()
        response = client.put(f"/v1/checkins/{checkin_id}", json=run(), headers=runner.headers)
        statuses.append(response.status_code)

    threads = [threading.Thread(target=upload) for _ in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] * (threads_n - 1) + [201], statuses
    assert len(history(runner)) == 1
    feed = runner.get("/v1/checkins", query_string={"since": "0"}).get_json()
    assert len(feed["items"]) == 1, "one change, not one per upload"


# Found in review.
def test_dates_from_the_year_one_are_refused_not_crashed_on(client):
    runner = sign_up(client, timezone="America/Los_Angeles")
    ancient = "0001-01-01T00:00:00+05:00"
    assert_problem(runner.put(f"/v1/checkins/{uuid.uuid4()}", json=run(ancient)), 422,
                   "started_at")
    good = {"id": str(uuid.uuid4()), **run()}
    batch = runner.post("/v1/checkins/batch", json={"items": [
        {"id": str(uuid.uuid4()), **run("0001-01-01T00:00:00Z")}, good]})
    assert [r["result"] for r in batch.get_json()["results"]] == ["error", "created"]
    assert_problem(runner.get("/v1/checkins", query_string={"from": ancient}), 422, "from")
    assert_problem(runner.get("/v1/me/load", query_string={"as_of": "0001-01-01"}), 422,
                   "as_of")
    shoe = runner.post("/v1/shoes", json={"name": "Old"}).get_json()
    assert_problem(runner.post(f"/v1/shoes/{shoe['id']}/retire",
                               json={"retired_at": ancient}), 422, "retired_at")


# Found in review.
def test_a_crafted_cursor_is_a_422(client):
    runner = sign_up(client)
    crafted = base64.urlsafe_b64encode(
        json.dumps(["2020-01-01T00:00:00+00:00", 5]).encode()).decode().rstrip("=")
    assert_problem(runner.get("/v1/checkins", query_string={"cursor": crafted}), 422, "cursor")


# Found in review.
def test_a_nul_character_is_never_a_server_error(client):
    runner = sign_up(client)
    response = runner.put(f"/v1/checkins/{uuid.uuid4()}", json=run(notes="sore\u0000back"))
    assert response.status_code in (201, 422), response.get_data(as_text=True)
    if response.status_code == 422:  # PostgreSQL text cannot hold NUL
        assert_problem(response, 422)
        assert runner.get("/v1/checkins").get_json()["items"] == []


# Found by fuzzing.
def test_a_conditional_delete_of_a_deleted_check_in_answers_the_documented_410(client):
    runner = sign_up(client)
    checkin_id = uuid.uuid4()
    etag = runner.put(f"/v1/checkins/{checkin_id}", json=run()).headers["ETag"]
    assert runner.delete(f"/v1/checkins/{checkin_id}").status_code == 204

    again = runner.delete(f"/v1/checkins/{checkin_id}", headers={"If-Match": etag})
    assert_problem(again, 410)
    spec = client.get("/openapi.json").get_json()
    assert "410" in spec["paths"]["/v1/checkins/{checkin_id}"]["delete"]["responses"]


def test_a_run_written_looks_up_its_webhook_subscribers_once_for_both_kinds_of_event(app,
                                                                                     client):
    """The check-in's event and the shoes' status share one look-up of who listens."""
    from sqlalchemy import event, select

    from service.models.webhooks import ShoeStatusSeen, WebhookEvent

    runner = sign_up(client)
    hook = runner.post("/v1/webhooks", json={
        "url": "https://hooks.example.org/runs",
        "event_types": ["checkin.created", "shoe.status_changed"]})
    assert hook.status_code == 201, hook.get_json()
    shoe = runner.post("/v1/shoes", json={"name": "Daily trainers", "is_default": True})
    assert shoe.status_code == 201, shoe.get_json()
    engine = app.extensions["backstride"].engine
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        answer = put(runner, run((datetime.now(UTC) - timedelta(hours=2)).isoformat()))
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert answer.status_code == 201, answer.get_json()
    lookups = [s for s in statements if s.lstrip().startswith("SELECT")
               and "FROM webhook_endpoints" in s]
    assert len(lookups) == 1, lookups
    with app.extensions["backstride"].session_factory() as session:
        types = list(session.scalars(select(WebhookEvent.type)))
        seen = list(session.scalars(select(ShoeStatusSeen.shoe_id)))
    assert types == ["checkin.created"]
    assert [str(shoe_id) for shoe_id in seen] == [shoe.get_json()["id"]]


def test_a_new_checkin_records_whether_the_app_or_a_token_sent_it(app, client):
    """How a run arrived decides whether its stretch reminder may come at once (the app's own
    sync) or waits for quiet hours; it is written with the row, in single and batch writes,
    and a retry or an update leaves it as it was."""
    ana = sign_up(client)
    pat = ana.post("/v1/me/tokens", json={"name": "script", "scopes": ["checkins:write"]})
    assert pat.status_code == 201, pat.get_json()
    by_token = {"Authorization": f"Bearer {pat.get_json()['token']}"}
    app_single, app_batch, token_single = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert ana.put(f"/v1/checkins/{app_single}", json=run()).status_code == 201
    assert ana.post("/v1/checkins/batch", json={"items": [
        {"id": str(app_batch), **run("2026-11-02T07:30:00+00:00")}]}).status_code == 200
    assert client.put(f"/v1/checkins/{token_single}", json=run("2026-11-03T07:30:00+00:00"),
                      headers=by_token).status_code == 201
    assert client.put(f"/v1/checkins/{app_single}", json=run(distance_m=9000),
                      headers=by_token).status_code == 200  # an update by token

    engine = app.extensions["backstride"].engine
    with engine.connect() as connection:
        via = dict(connection.execute(select(Checkin.id, Checkin.arrived_via)).all())
    assert via == {app_single: "app", app_batch: "app", token_single: "token"}
