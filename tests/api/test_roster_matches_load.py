"""The roster reads many athletes set-based; each entry must say what that athlete's own load
report says, computed run by run. Random histories, drawn to reach the rules' edges: new runners
under 14 days of history, comebacks whose spike baseline is half the longest run of 90 days,
deleted runs, several runs a day, time zones either side of UTC."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.api.test_coaching import ALL, link
from tests.support.runners import run, sign_up

ZONES = ["Europe/London", "Pacific/Auckland", "America/Los_Angeles", "Asia/Kolkata", "UTC"]


def history(rng: random.Random, now: datetime) -> tuple[list[dict], list[str]]:
    """Check-ins of one athlete, and the ids of the runs to delete afterwards."""
    shape = rng.choice(["steady", "new", "comeback", "jump", "quiet"])
    days = {"steady": range(100, 0, -1), "new": range(rng.randint(8, 13), 0, -1),
            "comeback": [*range(90, 45, -1), *range(rng.randint(1, 13), 0, -1)],
            "jump": range(40, 0, -1), "quiet": range(100, 60, -1)}[shape]
    items, deleted = [], []
    for back in days:
        for _ in range(rng.choice([0, 0, 1, 1, 1, 2])):
            at = now - timedelta(days=back, hours=rng.uniform(0, 20), minutes=rng.randint(0, 59))
            distance = rng.randint(2_000, 12_000)
            if shape == "jump" and back <= 7:
                distance = rng.randint(8_000, 25_000)
            item = {"id": str(uuid.uuid4()), **run(at.isoformat(), distance_m=distance,
                                                      duration_s=distance * 6 // 10)}
            items.append(item)
            if rng.random() < 0.05:
                deleted.append(item["id"])
    if days and rng.random() < 0.5:  # a long one last: a spike, often
        at = now - timedelta(hours=rng.uniform(1, 60))
        distance = rng.randint(12_000, 32_000)
        items.append({"id": str(uuid.uuid4()), **run(at.isoformat(), distance_m=distance,
                                                      duration_s=distance * 6 // 10)})
    return items, deleted


@pytest.mark.parametrize("seed", range(3))
def test_each_roster_entry_says_what_its_athletes_load_report_says(client, seed):
    rng = random.Random(seed)
    now = datetime.now(UTC)
    coach = sign_up(client, timezone="Europe/London")
    athletes = []
    for _ in range(12):
        athlete = sign_up(client, timezone=rng.choice(ZONES))
        items, deleted = history(rng, now)
        for start in range(0, len(items), 500):
            answer = athlete.post("/v1/checkins/batch", json={"items": items[start:start + 500]})
            assert answer.status_code == 200, answer.get_json()
            assert all(r["result"] != "error" for r in answer.get_json()["results"])
        for checkin_id in deleted:
            assert athlete.delete(f"/v1/checkins/{checkin_id}").status_code == 204
        link(coach, athlete, ALL)
        athletes.append(athlete.profile["id"])

    roster = {e["athlete_id"]: e for e in coach.get("/v1/coach/athletes").get_json()["items"]}
    assert sorted(roster) == sorted(athletes)
    seen = {"caution": 0, "spike": 0}
    for athlete_id in athletes:
        entry = roster[athlete_id]
        report = coach.get(f"/v1/coach/athletes/{athlete_id}/load").get_json()
        weekly, latest = report["weekly_change"], report["latest_run"]
        assert (entry["last_7_days_m"], entry["previous_7_days_m"]) == (
            weekly["last_7_days_m"], weekly["previous_7_days_m"]), athlete_id
        assert ("weekly_jump" in entry["attention"]) == weekly["caution"], (entry, weekly)
        recent = latest is not None and (
            datetime.fromisoformat(latest["started_at"]) > now - timedelta(days=14))
        assert entry["latest_spike"] == (latest["spike"] if recent else None), (entry, latest)
        assert entry["last_run_at"] == (latest["started_at"] if latest else None)
        seen["caution"] += weekly["caution"]
        seen["spike"] += entry["latest_spike"] not in (None, "ok")
    # The draw reached the rules that matter, or the comparison above proved little.
    assert seen["caution"] and seen["spike"], seen
