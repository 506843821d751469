"""A runner keeps track of their pairs: new, pre-owned, default, retired."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from service.models import IdempotencyRecord
from tests.support.runners import assert_problem, run, sign_up


def add_shoe(runner, **fields):
    response = runner.post("/v1/shoes", json={"name": "Daily trainers",
                                              "first_used_on": "2026-10-01", **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_new_pair_has_sensible_limits_and_no_distance(client):
    runner = sign_up(client)
    response = runner.post("/v1/shoes", json={"name": "Blue trainers", "brand": "Acme"})
    assert response.status_code == 201
    shoe = response.get_json()
    assert response.headers["Location"].endswith(f"/v1/shoes/{shoe['id']}")
    assert response.headers["ETag"]
    assert shoe["max_distance_m"] == 800_000 and shoe["max_age_days"] == 365
    assert shoe["distance_m"] == 0 and shoe["age_days"] == 0
    assert shoe["first_used_on"] == datetime.now(UTC).date().isoformat()


def test_distance_is_the_pre_owned_distance_plus_every_run(client):
    runner = sign_up(client)
    shoe = add_shoe(runner, initial_distance_m=120_000)
    for day, metres in ((2, 8000), (4, 12_500)):
        runner.put(f"/v1/checkins/{uuid.uuid4()}",
                   json=run(f"2026-11-0{day}T07:00:00+00:00", metres, shoe_id=shoe["id"]))
    deleted = uuid.uuid4()
    runner.put(f"/v1/checkins/{deleted}", json=run(distance_m=5000, shoe_id=shoe["id"]))
    runner.delete(f"/v1/checkins/{deleted}")

    assert runner.get(f"/v1/shoes/{shoe['id']}").get_json()["distance_m"] == 140_500


def test_new_runs_without_a_shoe_go_on_the_one_default_pair(client):
    runner = sign_up(client)
    first = add_shoe(runner, name="Old faithful", is_default=True)
    second = add_shoe(runner, name="New pair", is_default=True)

    listed = {s["name"]: s["is_default"] for s in runner.get("/v1/shoes").get_json()["items"]}
    assert listed == {"Old faithful": False, "New pair": True}
    created = runner.put(f"/v1/checkins/{uuid.uuid4()}", json=run()).get_json()
    assert created["shoe_id"] == second["id"]
    named = runner.put(f"/v1/checkins/{uuid.uuid4()}", json=run(shoe_id=first["id"])).get_json()
    assert named["shoe_id"] == first["id"]


@pytest.mark.parametrize(("fields", "named"), [
    ({"max_distance_m": 479_999}, "max_distance_m"),
    ({"max_distance_m": 1_000_001}, "max_distance_m"),
    ({"max_age_days": 89}, "max_age_days"),
    ({"max_age_days": 731}, "max_age_days"),
    ({"initial_distance_m": -1}, "initial_distance_m"),
    ({"first_used_on": "2099-01-01"}, "first_used_on"),
    ({"name": ""}, "name"),
    ({"distance_m": 5}, "distance_m"),
    ({"athlete_id": str(uuid.uuid4())}, "athlete_id"),
])
def test_bad_shoe_values_are_named_and_nothing_is_written(client, fields, named):
    runner = sign_up(client)
    response = runner.post("/v1/shoes", json={"name": "Trainers", **fields})
    assert_problem(response, 422, named)
    assert runner.get("/v1/shoes").get_json()["items"] == []


def test_a_retired_pair_takes_no_new_runs_but_keeps_its_history(client):
    runner = sign_up(client)
    shoe = add_shoe(runner, is_default=True)
    runner.put(f"/v1/checkins/{uuid.uuid4()}", json=run("2026-10-20T07:00:00+00:00"))
    retired = runner.post(f"/v1/shoes/{shoe['id']}/retire",
                          json={"retired_at": "2026-10-25T00:00:00+00:00"})
    assert retired.status_code == 200
    assert retired.get_json()["is_default"] is False

    after = runner.put(f"/v1/checkins/{uuid.uuid4()}",
                       json=run("2026-10-26T07:00:00+00:00", shoe_id=shoe["id"]))
    before = runner.put(f"/v1/checkins/{uuid.uuid4()}",
                        json=run("2026-10-24T07:00:00+00:00", shoe_id=shoe["id"]))
    assert_problem(after, 422, "shoe_id")
    assert before.status_code == 201, "a late-synced run from before retirement is fine"
    assert runner.get("/v1/shoes").get_json()["items"] == []
    kept = runner.get("/v1/shoes", query_string={"include_retired": "true"}).get_json()["items"]
    assert [s["distance_m"] for s in kept] == [16_000]


def test_deleting_a_pair_with_runs_retires_it_instead(client):
    runner = sign_up(client)
    unused = add_shoe(runner, name="Never worn")
    used = add_shoe(runner, name="Worn")
    runner.put(f"/v1/checkins/{uuid.uuid4()}", json=run(shoe_id=used["id"]))

    assert runner.delete(f"/v1/shoes/{unused['id']}").status_code == 204
    assert_problem(runner.get(f"/v1/shoes/{unused['id']}"), 404)
    kept = runner.delete(f"/v1/shoes/{used['id']}")
    assert kept.status_code == 200
    assert kept.get_json()["retired_at"] is not None
    assert kept.get_json()["distance_m"] == 8000


def test_a_stale_etag_does_not_overwrite_a_change_from_another_phone(client):
    runner = sign_up(client)
    shoe = add_shoe(runner)
    etag = runner.get(f"/v1/shoes/{shoe['id']}").headers["ETag"]
    assert runner.patch(f"/v1/shoes/{shoe['id']}", json={"name": "Renamed"},
                        headers={"If-Match": etag}).status_code == 200
    stale = runner.patch(f"/v1/shoes/{shoe['id']}", json={"name": "Other"},
                         headers={"If-Match": etag})
    assert_problem(stale, 412)
    assert runner.get(f"/v1/shoes/{shoe['id']}").get_json()["name"] == "Renamed"


def test_if_match_on_a_pair_that_does_not_exist_is_404_as_without_it(client):
    """RFC 9110 §13.2.1: preconditions are ignored when the request fails without them."""
    runner = sign_up(client)
    missing = uuid.uuid4()
    for tag in ("*", '"v1"'):
        assert_problem(runner.patch(f"/v1/shoes/{missing}", json={"name": "Other"},
                                    headers={"If-Match": tag}), 404)
        assert_problem(runner.delete(f"/v1/shoes/{missing}", headers={"If-Match": tag}), 404)
    assert_problem(runner.patch(f"/v1/shoes/{missing}", json={"name": "Other"}), 404)
    assert_problem(runner.delete(f"/v1/shoes/{missing}"), 404)

    shoe = add_shoe(runner)
    renamed = runner.patch(f"/v1/shoes/{shoe['id']}", json={"name": "Renamed"},
                           headers={"If-Match": "*"})
    assert renamed.status_code == 200, "`*` matches a pair that exists"
    assert runner.delete(f"/v1/shoes/{shoe['id']}", headers={"If-Match": "*"}).status_code == 204


def test_a_retried_create_with_the_same_key_makes_one_pair(client):
    runner = sign_up(client)
    body = {"name": "Race flats", "first_used_on": "2026-10-01"}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = runner.post("/v1/shoes", json=body, headers=key)
    again = runner.post("/v1/shoes", json=body, headers=key)
    other_body = runner.post("/v1/shoes", json={**body, "name": "Other"}, headers=key)

    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert_problem(other_body, 422, "Idempotency-Key")
    assert len(runner.get("/v1/shoes").get_json()["items"]) == 1


def test_idempotency_keys_belong_to_one_athlete(client):
    one, two = sign_up(client), sign_up(client)
    key = {"Idempotency-Key": "same-key"}
    body = {"name": "Trainers", "first_used_on": "2026-10-01"}
    a = one.post("/v1/shoes", json=body, headers=key).get_json()
    b = two.post("/v1/shoes", json=body, headers=key).get_json()
    assert a["id"] != b["id"]


def test_a_failed_create_is_not_remembered_under_its_key(client):
    runner = sign_up(client)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    assert_problem(runner.post("/v1/shoes", json={"name": ""}, headers=key), 422, "name")
    assert runner.post("/v1/shoes", json={"name": "Fixed"}, headers=key).status_code == 201


def test_another_athletes_shoes_are_404_everywhere_and_untouched(client):
    owner, stranger = sign_up(client), sign_up(client)
    shoe = add_shoe(owner)
    path = f"/v1/shoes/{shoe['id']}"

    assert_problem(stranger.get(path), 404)
    assert_problem(stranger.patch(path, json={"name": "Mine now"}), 404)
    assert_problem(stranger.delete(path), 404)
    assert_problem(stranger.post(f"{path}/retire", json={}), 404)
    assert_problem(stranger.put(f"/v1/checkins/{uuid.uuid4()}", json=run(shoe_id=shoe["id"])),
                   404, "shoe_id")
    assert stranger.get("/v1/shoes").get_json()["items"] == []
    untouched = owner.get(path).get_json()
    assert (untouched["name"], untouched["retired_at"], untouched["distance_m"]) == (
        "Daily trainers", None, 0)


def test_retiring_in_the_future_is_refused(client):
    runner = sign_up(client)
    shoe = add_shoe(runner)
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    assert_problem(runner.post(f"/v1/shoes/{shoe['id']}/retire", json={"retired_at": later}),
                   422, "retired_at")


def test_a_shoe_shows_its_wear_forecast_and_status(client):
    runner = sign_up(client)
    today = datetime.now(UTC).date()
    shoe = add_shoe(runner, first_used_on=(today - timedelta(days=200)).isoformat(),
                    initial_distance_m=600_000)
    for days_ago in range(1, 29):  # 5 km a day for four weeks: 140 km
        started = datetime.combine(today - timedelta(days=days_ago), datetime.min.time(),
                                   tzinfo=UTC).replace(hour=7).isoformat()
        runner.put(f"/v1/checkins/{uuid.uuid4()}", json=run(started, 5000, 1800,
                                                          shoe_id=shoe["id"]))

    read = runner.get(f"/v1/shoes/{shoe['id']}").get_json()

    assert read["distance_m"] == 740_000 and read["wear_ratio"] == 0.925
    assert read["rate_m_per_day"] == pytest.approx(4821.4, abs=0.1), "135 km in the 28 days"
    assert read["replace_by"] == (today + timedelta(days=13)).isoformat(), "60 km left"
    assert read["status"] == "plan"


def test_still_fine_quiets_the_inspect_status(client):
    runner = sign_up(client)
    today = datetime.now(UTC).date()
    shoe = add_shoe(runner, first_used_on=(today - timedelta(days=250)).isoformat())
    assert runner.get(f"/v1/shoes/{shoe['id']}").get_json()["status"] == "inspect"

    looked = runner.post(f"/v1/shoes/{shoe['id']}/inspected")

    assert looked.status_code == 200
    assert looked.get_json()["inspected_on"] == today.isoformat()
    assert looked.get_json()["status"] == "ok"
    assert_problem(sign_up(client).post(f"/v1/shoes/{shoe['id']}/inspected"), 404)


# Found in review.
def test_a_pair_that_barely_moves_is_forecast_by_age_not_overflow(client):
    runner = sign_up(client)
    today = datetime.now(UTC).date()
    shoe = runner.post("/v1/shoes", json={
        "name": "Barely used", "first_used_on": (today - timedelta(days=30)).isoformat()})
    shoe_id = shoe.get_json()["id"]
    started = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    assert runner.put(f"/v1/checkins/{uuid.uuid4()}",
                      json=run(started, 5, 1800, shoe_id=shoe_id)).status_code == 201
    listed = runner.get("/v1/shoes")
    assert listed.status_code == 200
    assert listed.get_json()["items"][0]["replace_by"] == (
        today - timedelta(days=30) + timedelta(days=365)).isoformat()


# Found in review.
def test_an_expired_idempotency_key_can_be_used_again(app, client):
    runner = sign_up(client)
    key = {"Idempotency-Key": "reused-after-a-day"}
    first = runner.post("/v1/shoes", json={"name": "First"}, headers=key)
    with app.extensions["backstride"].session_factory() as session:
        session.execute(update(IdempotencyRecord).values(
            expires_at=datetime.now(UTC) - timedelta(minutes=1)))
        session.commit()
    second = runner.post("/v1/shoes", json={"name": "Second"}, headers=key)
    assert second.status_code == 201 and second.get_json()["id"] != first.get_json()["id"]


def test_inspecting_a_retired_pair_is_a_documented_422(client):
    # Found by the stateful fuzzing: the 422 was answered but not in the spec.
    from tests.support.runners import assert_problem, sign_up
    runner = sign_up(client)
    shoe = runner.post("/v1/shoes", json={"name": "Old pair"}).get_json()
    assert runner.post(f"/v1/shoes/{shoe['id']}/retire").status_code == 200
    assert_problem(runner.post(f"/v1/shoes/{shoe['id']}/inspected"), 422, "retired_at")
    spec = client.get("/openapi.json").get_json()
    assert "422" in spec["paths"]["/v1/shoes/{shoe_id}/inspected"]["post"]["responses"]
