"""Every error, whatever caused it, is a problem document; server errors reveal nothing."""

from __future__ import annotations

from service.api import create_app
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
