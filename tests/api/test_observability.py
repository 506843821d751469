"""What ops see of the API: a request id on every answer and log line, and Prometheus metrics."""

from __future__ import annotations

import io
import json
import logging
import uuid

import pytest
import structlog
from prometheus_client import REGISTRY

from service import logs
from tests.support.runners import PASSWORD, sign_up

LATENCY_COUNT = "backstride_http_request_duration_seconds_count"


@pytest.fixture
def log_lines():
    """The JSON lines logged during the test, as dicts (read them after the requests)."""
    stream = io.StringIO()
    handler = logs.configure("json", stream=stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logging.getLogger().removeHandler(handler)
    structlog.contextvars.clear_contextvars()


def requests_seen(route: str, status: str, method: str = "GET") -> float:
    value = REGISTRY.get_sample_value(LATENCY_COUNT,
                                      {"method": method, "route": route, "status": status})
    return value or 0.0


def test_a_proxys_request_id_is_kept_and_a_missing_or_forged_one_replaced(client):
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a9c"})
    made = client.get("/healthz")
    forged = client.get("/healthz", headers={"X-Request-ID": 'x" level="error'})
    endless = client.get("/healthz", headers={"X-Request-ID": "a" * 500})

    assert kept.headers["X-Request-ID"] == "lb-7f3a9c"
    for answer in (made, forged, endless):
        assert len(answer.headers["X-Request-ID"]) == 32, answer.headers["X-Request-ID"]
    assert len({made.headers["X-Request-ID"], forged.headers["X-Request-ID"]}) == 2


def test_each_request_logs_one_line_with_its_route_status_and_duration(client, log_lines):
    sam = sign_up(client)
    shoe_id = uuid.uuid4()
    answer = sam.get(f"/v1/shoes/{shoe_id}", headers={"X-Request-ID": "phone-42"})

    line = next(line for line in log_lines() if line.get("request_id") == "phone-42")
    assert answer.status_code == 404
    assert line["event"] == "request"
    assert (line["method"], line["route"], line["status"]) == ("GET", "/v1/shoes/<uuid:shoe_id>",
                                                               404)
    assert line["path"] == f"/v1/shoes/{shoe_id}"
    assert line["duration_s"] >= 0


def test_signing_in_logs_no_password_and_no_token(client, log_lines):
    sam = sign_up(client)
    sam.get("/v1/me")
    refreshed = client.post("/v1/auth/refresh", json={"refresh_token": sam.refresh_token})

    text = json.dumps(log_lines())
    assert refreshed.status_code == 200
    assert "/v1/auth/token" in text, "the sign-in itself was logged"
    for secret in (PASSWORD, sam.access_token, sam.refresh_token,
                   refreshed.get_json()["access_token"]):
        assert secret not in text


def test_metrics_count_requests_by_route_template_and_status(client):
    sam = sign_up(client)
    before = requests_seen("/v1/me", "200")
    for _ in range(3):
        assert sam.get("/v1/me").status_code == 200

    scraped = client.get("/metrics")
    text = scraped.get_data(as_text=True)
    assert scraped.status_code == 200, "no token needed: Prometheus sends none"
    assert scraped.content_type.startswith("text/plain")
    assert requests_seen("/v1/me", "200") == before + 3
    assert ('backstride_http_request_duration_seconds_bucket{le="+Inf",method="GET",'
            'route="/v1/me",status="200"}') in text
    assert 'backstride_http_requests_total{method="GET",route="/v1/me",status="200"}' in text


def test_unknown_paths_and_ids_do_not_make_a_label_each(client):
    sam = sign_up(client)
    paths = [f"/no-such-page-{uuid.uuid4().hex}" for _ in range(3)]
    before = requests_seen("unmatched", "404")
    for path in paths:
        assert client.get(path).status_code == 404
    shoe_ids = [str(uuid.uuid4()) for _ in range(2)]
    for shoe_id in shoe_ids:
        assert sam.get(f"/v1/shoes/{shoe_id}").status_code == 404

    text = client.get("/metrics").get_data(as_text=True)
    assert requests_seen("unmatched", "404") == before + 3
    assert 'route="/v1/shoes/<uuid:shoe_id>",status="404"' in text
    for raw in [*paths, *shoe_ids]:
        assert raw not in text


def test_metrics_stay_out_of_the_api_contract(client):
    spec = client.get("/openapi.json").get_json()
    assert "/metrics" not in spec["paths"]
    assert "/healthz" in spec["paths"], "the spec lists the probes, so this test can fail"
