"""Who may read an athlete's data: every athlete-scoped read against every kind of caller."""

from __future__ import annotations

import pytest

from tests.api.test_coaching import link
from tests.support.runners import sign_up

# resource -> (the coach's path under /v1/coach/athletes/{id}, the grant it needs, own path)
RESOURCES = {
    "checkins": ("checkins?kind=run", "runs", "/v1/checkins?kind=run"),
    "pain": ("checkins?kind=pain", "pain", "/v1/checkins?kind=pain"),
    "load": ("load", "load", "/v1/me/load"),
    "shoes": ("shoes", "shoes", "/v1/shoes"),
    "notifications": ("notifications", "notifications", "/v1/notifications"),
    "plan": ("plan", "plan", "/v1/plan"),
}
ALL_GRANTS = ["load", "notifications", "pain", "plan", "runs", "shoes"]
CALLERS = {"owner": 200, "coach_with_scope": 200, "coach_without_scope": 404,
           "coach_with_every_other_scope": 404, "unlinked_coach": 404, "another_athlete": 404,
           "no_token": 401}


@pytest.fixture
def cast(client):
    athlete, with_scope, without_scope = sign_up(client), sign_up(client), sign_up(client)
    unlinked, stranger = sign_up(client), sign_up(client)
    link(with_scope, athlete, ALL_GRANTS)
    link(without_scope, athlete, [])
    link(unlinked, sign_up(client), ALL_GRANTS)
    return {"athlete": athlete, "coach_with_scope": with_scope,
            "coach_without_scope": without_scope, "unlinked_coach": unlinked,
            "another_athlete": stranger}


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("caller", CALLERS)
def test_access(client, cast, resource, caller):
    coach_path, grant, own_path = RESOURCES[resource]
    athlete = cast["athlete"]
    path = f"/v1/coach/athletes/{athlete.profile['id']}/{coach_path}"
    if caller == "owner":
        response = athlete.get(own_path)
        assert athlete.get(path).status_code == 404, "an athlete is not their own coach"
    elif caller == "no_token":
        response = client.get(path)
    elif caller == "coach_with_every_other_scope":
        coach = sign_up(client)
        link(coach, athlete, [g for g in ALL_GRANTS if g != grant])
        response = coach.get(path)
    else:
        response = cast[caller].get(path)
    assert response.status_code == CALLERS[caller], (caller, resource, response.get_json())
    if response.status_code == 404:
        assert response.get_json()["detail"] == "No such athlete.", "one answer for every refusal"
