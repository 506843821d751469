"""A runner checks their load before the weekend's long run."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from tests.support.runners import assert_problem, run, sign_up

AS_OF = date(2026, 3, 10)  # a Tuesday


def log(runner, day: date, metres: int, hour: int = 7):
    started = datetime(day.year, day.month, day.day, hour, tzinfo=UTC).isoformat()
    response = runner.put(f"/v1/checkins/{uuid.uuid4()}",
                          json=run(started, metres, max(1200, metres * 330 // 1000)))
    assert response.status_code == 201, response.get_json()


def test_load_shows_weeks_the_latest_spike_and_the_longest_advisable_run(client):
    sam = sign_up(client)
    for days_before in range(40, 3, -2):  # every other day, 8 km
        log(sam, AS_OF - timedelta(days=days_before), 8000)
    log(sam, AS_OF, 12_000)

    load = sam.get("/v1/me/load", query_string={"as_of": AS_OF.isoformat()}).get_json()

    assert load["as_of"] == "2026-03-10" and load["units"] == "km"
    assert len(load["weeks"]) == 8 and load["weeks"][-1]["week_start"] == "2026-03-09"
    assert load["weeks"][-1]["distance_m"] == 12_000, "Monday rest, Tuesday 12 km"
    assert load["weeks"][-2]["distance_m"] == 24_000  # Wed, Fri, Sun... runs of week 2 March
    latest = load["latest_run"]
    assert (latest["distance_m"], latest["baseline_m"], latest["spike"], latest["percent_longer"]
            ) == (12_000, 8000, "moderate", 50)
    assert load["longest_advisable_run_m"] == 13_200, "10 % over the 12 km just run"
    assert load["acwr"]["state"] == "ok" and load["acwr"]["coupled"] is not None
    assert load["return_mode"] == {"active": False, "since": None, "until": None}
    assert load["weekly_change"]["last_7_days_m"] == 28_000


def test_a_new_runner_has_an_empty_load_and_no_error(client):
    new = sign_up(client)
    load = new.get("/v1/me/load").get_json()
    assert load["latest_run"] is None and load["longest_advisable_run_m"] is None
    assert load["acwr"] == {"state": "warming_up", "coupled": None, "uncoupled": None,
                            "ewma": None}
    assert all(week["distance_m"] == 0 for week in load["weeks"])


def test_a_comeback_after_three_weeks_off_is_return_mode(client):
    sam = sign_up(client)
    log(sam, AS_OF - timedelta(days=30), 10_000)
    log(sam, AS_OF - timedelta(days=5), 5000)
    mode = sam.get("/v1/me/load", query_string={"as_of": AS_OF.isoformat()}).get_json()
    assert mode["return_mode"]["active"] is True
    assert mode["return_mode"]["since"] == (AS_OF - timedelta(days=5)).isoformat()


def test_as_of_in_the_future_or_malformed_is_422(client):
    sam = sign_up(client)
    tomorrow = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
    assert_problem(sam.get("/v1/me/load", query_string={"as_of": tomorrow}), 422, "as_of")
    assert_problem(sam.get("/v1/me/load", query_string={"as_of": "last tuesday"}), 422, "as_of")


def test_load_is_only_ever_your_own(client):
    sam, other = sign_up(client), sign_up(client)
    log(sam, AS_OF, 30_000)
    theirs = other.get("/v1/me/load", query_string={"as_of": AS_OF.isoformat()}).get_json()
    assert theirs["latest_run"] is None


# Found in review.
def test_return_mode_sees_a_layoff_longer_than_the_report_window(client):
    runner = sign_up(client)
    now = datetime.now(UTC)
    for days_ago in (200, 0):
        runner.put(f"/v1/checkins/{uuid.uuid4()}",
                   json=run((now - timedelta(days=days_ago)).isoformat()))
    mode = runner.get("/v1/me/load").get_json()["return_mode"]
    assert mode["active"] is True and mode["since"] == now.date().isoformat()
