"""Helpers that speak like the phone app: register a runner, sign in, send authorised requests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

PASSWORD = "tarmac-and-trails-2026"
_numbers = itertools.count(1)


@dataclass
class Runner:
    client: Any
    email: str
    access_token: str
    refresh_token: str
    profile: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    def get(self, path: str, **kwargs: Any):
        return self.client.get(path, headers={**self.headers, **kwargs.pop("headers", {})},
                               **kwargs)

    def patch(self, path: str, json: Any, **kwargs: Any):
        return self.client.patch(path, json=json,
                                 headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any):
        return self.client.post(path, json=json,
                                headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    def put(self, path: str, json: Any, **kwargs: Any):
        return self.client.put(path, json=json,
                               headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    def delete(self, path: str, **kwargs: Any):
        return self.client.delete(path, headers={**self.headers, **kwargs.pop("headers", {})},
                                  **kwargs)


def sign_up(client: Any, email: str | None = None, **profile: Any) -> Runner:
    """Register a new runner and sign them in, as the app does on first launch."""
    email = email or f"runner{next(_numbers)}@example.org"
    registered = client.post("/v1/auth/register",
                             json={"email": email, "password": PASSWORD, **profile})
    assert registered.status_code == 201, registered.get_json()
    tokens = client.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert tokens.status_code == 200, tokens.get_json()
    body = tokens.get_json()
    return Runner(client, email, body["access_token"], body["refresh_token"],
                  registered.get_json())


def assert_problem(response: Any, status: int, *fields: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status, naming these fields."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json", response.mimetype
    body = response.get_json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    for name in fields:
        assert name in body.get("errors", {}), f"{name!r} not named in {body}"
    return body


def run(started_at: str = "2026-11-01T07:30:00+00:00", distance_m: int = 8000,
        duration_s: int = 2700, **fields: Any) -> dict[str, Any]:
    """A run check-in body: by default an easy 8 km in 45 minutes."""
    return {"kind": "run", "started_at": started_at, "distance_m": distance_m,
            "duration_s": duration_s, **fields}


def pain(recorded_at: str = "2026-11-01T18:00:00+00:00", location: str = "lower_back",
         severity: int = 3, **fields: Any) -> dict[str, Any]:
    return {"kind": "pain", "recorded_at": recorded_at, "location": location,
            "severity": severity, **fields}


def stretch(recorded_at: str = "2026-11-01T08:30:00+00:00", **fields: Any) -> dict[str, Any]:
    return {"kind": "exercise", "recorded_at": recorded_at, "focus": "stretch",
            "duration_s": 600, **fields}
