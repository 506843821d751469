"""A runner sets their time zone, units and quiet hours, from two phones at once."""

from __future__ import annotations

import pytest

from tests.support.runners import assert_problem, sign_up


def test_a_runner_moves_to_los_angeles_and_switches_to_miles(client):
    runner = sign_up(client)
    response = runner.patch("/v1/me", json={
        "timezone": "America/Los_Angeles", "units": "mi", "display_name": "Sam",
        "birth_year": 1980, "quiet_hours": {"start": "22:00", "end": "06:30"},
    })
    assert response.status_code == 200, response.get_json()
    profile = runner.get("/v1/me").get_json()
    assert profile["timezone"] == "America/Los_Angeles"
    assert profile["units"] == "mi"
    assert profile["birth_year"] == 1980
    assert profile["quiet_hours"] == {"start": "22:00", "end": "06:30"}


def test_new_profiles_have_sensible_quiet_hours(client):
    runner = sign_up(client)
    assert runner.get("/v1/me").get_json()["quiet_hours"] == {"start": "21:30", "end": "07:00"}


def test_bad_profile_values_are_named_and_nothing_changes(client):
    runner = sign_up(client, timezone="Europe/London")
    response = runner.patch("/v1/me", json={
        "timezone": "Mars/Olympus", "units": "furlongs", "birth_year": 1850,
        "quiet_hours": {"start": "25:00", "end": "7am"},
    })
    body = assert_problem(response, 422, "timezone", "units", "birth_year", "quiet_hours")
    assert set(body["errors"]["quiet_hours"]) == {"start", "end"}
    assert runner.get("/v1/me").get_json()["timezone"] == "Europe/London"


def test_server_owned_fields_cannot_be_patched(client):
    runner = sign_up(client)
    response = runner.patch("/v1/me", json={"email": "new@example.org", "id": "abc",
                                            "created_at": "2020-01-01T00:00:00Z"})
    assert_problem(response, 422, "email", "id", "created_at")
    assert runner.get("/v1/me").get_json()["email"] == runner.email


def test_etags_answer_304_when_unchanged_and_412_when_stale(client):
    runner = sign_up(client)
    first = runner.get("/v1/me")
    etag = first.headers["ETag"]

    assert runner.get("/v1/me", headers={"If-None-Match": etag}).status_code == 304
    changed = runner.patch("/v1/me", json={"units": "mi"}, headers={"If-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag

    stale = runner.patch("/v1/me", json={"units": "km"}, headers={"If-Match": etag})
    assert_problem(stale, 412)
    assert runner.get("/v1/me").get_json()["units"] == "mi", "a stale write changes nothing"
    assert runner.get("/v1/me", headers={"If-None-Match": etag}).status_code == 200


def test_if_match_is_optional_and_star_matches_the_profile_there_always_is(client):
    runner = sign_up(client)
    assert runner.patch("/v1/me", json={"units": "mi"}).status_code == 200, "no If-Match needed"
    starred = runner.patch("/v1/me", json={"units": "km"}, headers={"If-Match": "*"})
    assert starred.status_code == 200
    assert_problem(runner.patch("/v1/me", json={"units": "mi"}, headers={"If-Match": '"v1"'}),
                   412)
    assert runner.get("/v1/me").get_json()["units"] == "km"


@pytest.mark.parametrize("if_match", ['""', 'W/""', '"", "v0"'])
def test_an_empty_entity_tag_is_a_tag_that_matches_nothing(client, if_match):
    runner = sign_up(client)
    assert_problem(runner.patch("/v1/me", json={"units": "mi"}, headers={"If-Match": if_match}),
                   412)
    assert runner.get("/v1/me").get_json()["units"] == "km"


def test_athlete_data_is_never_cached(client):
    runner = sign_up(client)
    assert runner.get("/v1/me").headers["Cache-Control"] == "no-store"
