"""Edges found in review: races, overflows, late syncs and hostile input never 500 or slip."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from service.models import IdempotencyRecord
from tests.support.runners import assert_problem, run, sign_up


def test_two_refreshes_racing_with_one_token_cannot_both_win(app):
    runner = sign_up(app.test_client())
    barrier = threading.Barrier(2)
    answers: list = []

    def refresh():
        client = app.test_client()
        barrier.wait()
        answers.append(client.post("/v1/auth/refresh",
                                   json={"refresh_token": runner.refresh_token}))

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 401], statuses
    winner = next(a for a in answers if a.status_code == 200).get_json()
    again = app.test_client().post("/v1/auth/refresh",
                                   json={"refresh_token": winner["refresh_token"]})
    assert again.status_code == 401, "the reuse revoked the family the winner is in"


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


def test_return_mode_sees_a_layoff_longer_than_the_report_window(client):
    runner = sign_up(client)
    now = datetime.now(UTC)
    for days_ago in (200, 0):
        runner.put(f"/v1/checkins/{uuid.uuid4()}",
                   json=run((now - timedelta(days=days_ago)).isoformat()))
    mode = runner.get("/v1/me/load").get_json()["return_mode"]
    assert mode["active"] is True and mode["since"] == now.date().isoformat()


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


def test_a_crafted_cursor_is_a_422(client):
    runner = sign_up(client)
    crafted = base64.urlsafe_b64encode(
        json.dumps(["2020-01-01T00:00:00+00:00", 5]).encode()).decode().rstrip("=")
    assert_problem(runner.get("/v1/checkins", query_string={"cursor": crafted}), 422, "cursor")


def test_a_nul_character_is_never_a_server_error(client):
    runner = sign_up(client)
    response = runner.put(f"/v1/checkins/{uuid.uuid4()}", json=run(notes="sore\u0000back"))
    assert response.status_code in (201, 422), response.get_data(as_text=True)
    if response.status_code == 422:  # PostgreSQL text cannot hold NUL
        assert_problem(response, 422)
        assert runner.get("/v1/checkins").get_json()["items"] == []


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
