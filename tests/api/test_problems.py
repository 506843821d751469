"""Every error, whatever caused it, is a problem document; server errors reveal nothing."""

from __future__ import annotations

import importlib
import json
import pkgutil
import uuid

import pytest
from flask import abort
from werkzeug.exceptions import default_exceptions

import service.domain
from service.api import create_app
from service.domain import errors
from service.domain.errors import DomainError
from tests.conftest import make_settings
from tests.support.runners import assert_problem, sign_up


def test_unknown_paths_and_wrong_methods_are_problems(client):
    assert_problem(client.get("/v1/nothing-here"), 404)
    wrong_method = client.delete("/v1/auth/token")
    assert_problem(wrong_method, 405)
    assert "POST" in wrong_method.headers["Allow"]


def test_malformed_json_is_a_400_problem(client):
    response = client.post("/v1/auth/token", data="{not json",
                           content_type="application/json")
    assert_problem(response, 400)


def test_a_json_array_where_an_object_belongs_is_a_422(client):
    response = client.post("/v1/auth/token", json=["email", "password"])
    assert_problem(response, 422)


def test_an_unexpected_error_is_a_500_problem_without_the_stack_trace(settings):
    app = create_app(settings)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals: /srv/app/service/thing.py line 42")

    response = app.test_client().get("/boom")
    body = assert_problem(response, 500)
    text = response.get_data(as_text=True)
    assert "secret internals" not in text and "Traceback" not in text, body


def test_an_unreachable_database_is_a_503_with_retry_after(tmp_path):
    # A real connection attempt to a port where nothing listens: the database is "down".
    settings = make_settings("postgresql://backstride@127.0.0.1:9/nowhere", tmp_path)
    client = create_app(settings).test_client()

    response = client.post("/v1/auth/token", json={"email": "a@example.org", "password": "x"})

    assert_problem(response, 503)
    assert int(response.headers["Retry-After"]) > 0


def test_readiness_names_what_is_down(tmp_path, database):
    ready = create_app(make_settings(database.url, tmp_path)).test_client().get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {"database": "ok", "broker": "ok"}

    broken = make_settings(database.url, tmp_path, broker_url="redis://127.0.0.1:9/0")
    response = create_app(broken).test_client().get("/readyz")
    body = assert_problem(response, 503)
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"] != "ok"
    assert "broker" in body["detail"]


def test_liveness_does_not_touch_the_database(tmp_path):
    settings = make_settings("postgresql://backstride@127.0.0.1:9/nowhere", tmp_path)
    assert create_app(settings).test_client().get("/healthz").get_json() == {"status": "ok"}


def _domain_errors() -> list[type[DomainError]]:
    """Every DomainError subclass, wherever in the domain it is declared."""
    for module in pkgutil.walk_packages(service.domain.__path__, "service.domain."):
        importlib.import_module(module.name)
    found: list[type[DomainError]] = []
    todo: list[type[DomainError]] = [DomainError]
    while todo:
        for kind in todo.pop().__subclasses__():
            if kind not in found:
                found.append(kind)
                todo.append(kind)
    return found


# The statuses service.api.problems.DOMAIN_STATUS gives each kind of refusal (and its subclasses).
DOMAIN_ERROR_STATUS: dict[type[DomainError], int] = {
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Gone: 410,
    errors.Invalid: 422,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
}
LEAK = "secret internals: /srv/app/service/thing.py line 42"
RAISED = [pytest.param(kind, id=kind.__name__) for kind in _domain_errors()] + [
    pytest.param(code, id=f"{code}-{kind.__name__}")
    for code, kind in sorted(default_exceptions.items()) if code >= 400
]


@pytest.mark.parametrize("raised", RAISED)
def test_every_domain_and_http_error_is_a_problem_document(app, raised):
    if isinstance(raised, int):
        expected = raised

        def cause() -> None:
            abort(raised, LEAK)
    else:
        expected = next((DOMAIN_ERROR_STATUS[base] for base in raised.__mro__
                         if base in DOMAIN_ERROR_STATUS), None)
        assert expected, f"{raised.__name__} has no status: add one here and in DOMAIN_STATUS"

        def cause() -> None:
            raise raised(LEAK, field="field")

    app.add_url_rule("/raise", "raise", cause)

    response = app.test_client().get("/raise")

    assert response.status_code == expected, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.get_json()
    assert body["status"] == expected
    assert body["type"] and body["title"] and body["detail"], body
    if expected >= 500:
        assert LEAK not in response.get_data(as_text=True), body


def test_json_nested_deeper_than_the_bound_is_a_400_problem_not_a_500(client):
    for body in ("[" * 50_000, "[" * 65 + "]" * 65,
                 '{"email": ' + '{"a": ' * 64 + "1" + "}" * 64 + "}"):
        response = client.post("/v1/auth/token", data=body, content_type="application/json")
        detail = assert_problem(response, 400)["detail"]
        assert "64" in detail, detail
    at_the_bound = "[" * 64 + "]" * 64  # deep enough for any body of ours, and no deeper
    assert_problem(client.post("/v1/auth/token", data=at_the_bound,
                               content_type="application/json"), 422)


def test_text_that_is_not_unicode_is_a_422_naming_its_field(client):
    runner = sign_up(client)
    body = ('{"kind": "run", "started_at": "2026-11-01T07:30:00+00:00", "duration_s": 2700, '
            '"distance_m": 8000, "notes": "sore \\ud800 calf"}')
    response = runner.put(f"/v1/checkins/{uuid.uuid4()}", None, data=body,
                          content_type="application/json")
    assert_problem(response, 422, "notes")
    # json.dumps writes a lone surrogate as the escape "\\udfff", as a hostile client would.
    batch = json.dumps({"items": [{"id": str(uuid.uuid4()), "kind": "pain",
                                   "recorded_at": "2026-11-01T18:00:00Z",
                                   "location": "lower_back", "severity": 2,
                                   "answers": {"\udfff": True}}]})
    assert "\\udfff" in batch
    errors = assert_problem(runner.post("/v1/checkins/batch", data=batch,
                                        content_type="application/json"), 422)["errors"]
    assert "items" in errors, errors
    assert runner.get("/v1/checkins").get_json()["items"] == []


def test_a_body_that_is_not_json_on_a_json_route_is_a_415_problem(client):
    body = '{"email": "a@example.org", "password": "tarmac-and-trails-2026"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded",
                         "multipart/form-data; boundary=x"):
        response = client.post("/v1/auth/token", data=body, content_type=content_type)
        assert_problem(response, 415)
    assert client.post("/v1/auth/token", data=body,
                       content_type="application/json; charset=utf-8").status_code == 401
    assert client.post("/v1/auth/token", data=body,
                       content_type="application/problem+json").status_code == 401


def test_the_spec_names_the_415_of_every_operation_with_a_json_body(client):
    spec = client.get("/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                assert "415" in operation["responses"], (method, path)


@pytest.mark.parametrize(("path", "body", "named"), [
    ("/v1/checkins/{id}", {"kind": "run", "started_at": "2026-11-01T07:30:00+00:00",
                           "duration_s": 2700, "distance_m": 5000.5}, "distance_m"),
    ("/v1/checkins/{id}", {"kind": "run", "started_at": "2026-11-01T07:30:00+00:00",
                           "duration_s": 2700.25, "distance_m": 5000}, "duration_s"),
    ("/v1/checkins/{id}", {"kind": "pain", "recorded_at": "2026-11-01T18:00:00+00:00",
                           "location": "lower_back", "severity": 2.5}, "severity"),
    ("/v1/shoes", {"name": "Blue", "max_distance_m": 700000.9}, "max_distance_m"),
    ("/v1/checkins/{id}", {"kind": "run", "started_at": "2026-11-01T07:30:00+00:00",
                           "duration_s": "2700", "distance_m": 5000}, "duration_s"),
])
def test_a_fraction_or_a_string_where_a_whole_number_belongs_is_refused_not_truncated(
        client, path, body, named):
    runner = sign_up(client)
    url = path.replace("{id}", str(uuid.uuid4()))
    answer = runner.put(url, json=body) if "{id}" in path else runner.post(url, json=body)
    assert_problem(answer, 422, named)


def test_a_request_line_or_header_too_long_is_a_problem_document_from_the_app(client):
    too_long = client.get("/v1/checkins?since=" + "a" * 9000)
    assert_problem(too_long, 414)
    big_header = client.get("/v1/me", headers={"X-Padding": "a" * 9000})
    assert_problem(big_header, 431)
    assert client.get("/v1/me", headers={"X-Padding": "a" * 4000}).status_code == 401


@pytest.mark.parametrize("path", ["/v1/auth/register", "/v1/auth/token", "/v1/auth/refresh"])
def test_the_routes_that_need_no_account_refuse_deep_json_and_lone_surrogates(client, path):
    assert_problem(client.post(path, data="[" * 50_000, content_type="application/json"), 400)
    field = "refresh_token" if path.endswith("refresh") else "email"
    body = json.dumps({field: "runner\ud800@example.org", "password": "tarmac-and-trails-2026"})
    assert_problem(client.post(path, data=body, content_type="application/json"), 422, field)
