"""The request line and header limits under gunicorn itself: a request merely too long gets the
app's problem document (gunicorn's own limits sit a little above the app's, service.api.edge)."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest

from service.api import edge
from tests.processes.clients import live_api

pytestmark = pytest.mark.processes


def ask(base: str, path: str, headers: dict[str, str] | None = None
        ) -> tuple[int, str, dict | None]:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        raw = response.read()
        kind = response.getheader("Content-Type", "")
        return response.status, kind, json.loads(raw) if "json" in kind else None
    finally:
        connection.close()


def test_gunicorn_lets_the_app_answer_414_and_431_as_problem_documents(tmp_path):
    assert edge.MAX_REQUEST_LINE < edge.GUNICORN_REQUEST_LINE
    assert edge.MAX_FIELD_SIZE < edge.GUNICORN_FIELD_SIZE
    assert edge.MAX_FIELDS < edge.GUNICORN_FIELDS
    with live_api(tmp_path) as base:
        status, kind, body = ask(base, "/v1/checkins?since=" + "a" * 8100)
        assert (status, kind) == (414, "application/problem+json"), (status, kind)
        assert body["status"] == 414
        status, kind, body = ask(base, "/v1/me", {"X-Padding": "a" * 8100})
        assert (status, kind, body["status"]) == (431, "application/problem+json", 431)
        many = {f"X-Extra-{n}": "1" for n in range(edge.MAX_FIELDS + 1)}
        status, kind, body = ask(base, "/v1/me", many)
        assert (status, kind, body["status"]) == (431, "application/problem+json", 431)
        assert ask(base, "/v1/me", {"X-Padding": "a" * 4000})[0] == 401
