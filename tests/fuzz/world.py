"""The accounts and data the fuzzer runs against, and the ids it may put in paths.

Generated ids never exist, so without help every `/{id}` operation would only ever answer 404.
A world holds a runner with a few weeks of history, shoes, a pain report that raised a warning, a
device and tokens, and a coach linked to that runner with every scope, so that the coach's reads
answer 200 too. Ids come in two kinds: `kept` ones that any non-deleting operation may use (the
world stays as it was seeded, whatever the fuzzer sends), and `expendable` ones that only DELETE
uses, so that the success path of every delete runs without emptying the world for the others.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask

from tests.support.runners import Runner, pain, run, sign_up, stretch

ALL_GRANTS = ["load", "notifications", "pain", "runs", "shoes"]


@dataclass
class World:
    app: Flask
    athlete: Runner
    coach: Runner
    kept: dict[str, list[str]] = field(default_factory=dict)
    expendable: dict[str, list[str]] = field(default_factory=dict)

    def runner_for(self, path: str) -> Runner:
        """The coach calls the coach's operations; the runner calls everything else."""
        return self.coach if path.startswith("/v1/coach/") else self.athlete

    def ids_for(self, method: str, parameter: str) -> list[str]:
        pool = self.expendable if method.upper() == "DELETE" else self.kept
        return pool.get(parameter, [])


def build(app: Flask) -> World:
    client = app.test_client()
    athlete = sign_up(client, display_name="Fuzz Runner", timezone="Europe/London")
    coach = sign_up(client, display_name="Fuzz Coach")
    world = World(app, athlete, coach)
    link(coach, athlete, ALL_GRANTS)
    world.kept["athlete_id"] = [athlete.profile["id"]]
    # A second athlete the coach may drop, and a second and third coach: one whose grants the
    # runner may change (not the main coach's: that would turn the coach's reads into 404s), one
    # the runner may remove.
    extra_athlete = sign_up(client)
    link(coach, extra_athlete, ["runs"])
    world.expendable["athlete_id"] = [extra_athlete.profile["id"]]
    grants_coach, removable_coach = sign_up(client), sign_up(client)
    link(grants_coach, athlete, ["runs"])
    link(removable_coach, athlete, ["load"])
    world.kept["coach_id"] = [grants_coach.profile["id"]]
    world.expendable["coach_id"] = [removable_coach.profile["id"]]

    shoes = [_created(athlete.post("/v1/shoes", json={"name": name, "is_default": n == 0}))
             for n, name in enumerate(["Daily trainers", "Trail pair", "Old pair", "Spare"])]
    world.kept["shoe_id"], world.expendable["shoe_id"] = shoes[:2], shoes[2:]
    world.kept["checkin_id"] = _history(athlete, shoes[0])
    world.expendable["checkin_id"] = [_put(athlete, run(_ago(days=1))) for _ in range(2)]
    world.kept["notification_id"] = [n["id"] for n in
                                     athlete.get("/v1/notifications").get_json()["items"]]
    assert world.kept["notification_id"], "the severe pain report raised a warning"
    world.kept["routine_id"] = [r["id"] for r in athlete.get("/v1/routines").get_json()["items"]]
    world.expendable["device_id"] = [
        _created(athlete.post("/v1/devices", json={"kind": "expo",
                                                   "token": f"ExponentPushToken[{n}]"}))
        for n in range(2)]
    world.expendable["token_id"] = [
        _created(athlete.post("/v1/me/tokens", json={"name": f"script {n}",
                                                     "scopes": ["checkins:read"]}))
        for n in range(2)]
    return world


def link(coach: Runner, athlete: Runner, grants: list[str]) -> None:
    code = coach.post("/v1/coach/invites").get_json()["code"]
    accepted = athlete.post("/v1/me/coaches", json={"code": code, "scopes": grants})
    assert accepted.status_code == 201, accepted.get_json()


def _history(athlete: Runner, shoe_id: str) -> list[str]:
    """Six weeks of runs, a long one yesterday, a stretch, and pain that raised a warning."""
    ids = [_put(athlete, run(_ago(days=day), distance_m=7000 + 250 * (day % 5), shoe_id=shoe_id,
                             surface="road"))
           for day in range(2, 44, 2) if day % 6]
    ids.append(_put(athlete, run(_ago(hours=20), distance_m=16000, shoe_id=shoe_id)))
    ids.append(_put(athlete, stretch(_ago(hours=19))))
    ids.append(_put(athlete, pain(_ago(days=3), severity=3)))
    # Urgent answers skip quiet hours, so the warning is in the inbox whatever the time of day.
    ids.append(_put(athlete, pain(_ago(hours=18), severity=8, timing="after_run",
                                  answers={"fever": True})))
    return ids


def _put(athlete: Runner, body: dict[str, Any]) -> str:
    checkin_id = str(uuid.uuid4())
    response = athlete.put(f"/v1/checkins/{checkin_id}", json=body)
    assert response.status_code == 201, response.get_json()
    return checkin_id


def _created(response: Any) -> str:
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()
