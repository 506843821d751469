"""The app shows the catalogue and a routine for after today's run."""

from __future__ import annotations

import uuid

from tests.support.runners import assert_problem, pain, sign_up


def test_the_catalogue_and_one_routine(client):
    runner = sign_up(client)
    listed = runner.get("/v1/routines").get_json()["items"]
    assert len(listed) >= 16
    bird_dog = runner.get("/v1/routines/bird-dog").get_json()
    assert bird_dog["name"] == "Bird dog" and bird_dog["evidence"] == "E"
    assert_problem(runner.get("/v1/routines/handstand"), 404)


def test_the_suggestion_follows_recent_pain(client):
    from datetime import UTC, datetime

    runner = sign_up(client)
    assert runner.get("/v1/routines/suggested").get_json()["based_on"] == []
    now = datetime.now(UTC).isoformat()
    for location in ("hip", "hip", "upper_back"):
        runner.put(f"/v1/checkins/{uuid.uuid4()}", json=pain(now, location))
    suggestion = runner.get("/v1/routines/suggested").get_json()
    assert suggestion["based_on"] == ["hip", "upper_back"]
    assert suggestion["items"][0]["area"] == "hips"
    assert 3 <= len(suggestion["items"]) <= 4
