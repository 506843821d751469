"""Every error, whatever caused it, is a problem document; server errors reveal nothing."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from flask import abort
from werkzeug.exceptions import default_exceptions

import service.domain
from service.api import create_app
from service.domain import errors
from service.domain.errors import DomainError
from tests.conftest import make_settings
from tests.support.runners import assert_problem


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
