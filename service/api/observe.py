"""Per-request observability: a request id, one log line and two metrics for every request.

The log line replaces gunicorn's access log: it names the route template (`/v1/shoes/<uuid:...>`)
rather than only the raw path, carries the request id that every other line of the request also
carries, and never includes headers, bodies or the query string, so a token cannot leak into it.
"""

from __future__ import annotations

import re
import time
import uuid

import structlog
from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from service import prometheus
from service.logs import get_logger

REQUEST_ID_HEADER = "X-Request-ID"
# As the spec declares it on every answer (service.api.extension).
REQUEST_ID_DOC = {
    "description": "The request's id: the one you sent in X-Request-ID if it is a plain token of "
                   "at most 128 characters, else a new one. Every log line of the request carries "
                   "it; quote it when reporting a problem.",
    "required": True,
    "schema": {"type": "string", "maxLength": 128},
}
# What a proxy's id may look like; anything else (too long, a newline to forge log lines) is
# replaced by our own.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+/=-]{1,128}", re.ASCII)
UNMATCHED = "unmatched"  # the route label of a request no rule matched (404, 405 on no rule)
METRICS_PATH = "/metrics"

REQUESTS = Counter("backstride_http_requests", "HTTP requests answered.",
                   ["method", "route", "status"])
LATENCY = Histogram("backstride_http_request_duration_seconds",
                    "Time from the request's arrival in Flask to its response.",
                    ["method", "route", "status"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
log = get_logger("backstride.request")


def install(app: Flask) -> None:
    """Register the hooks and `GET /metrics` (a plain Flask route, so not in the OpenAPI spec).

    Call it before any other `after_request`: Flask runs those in reverse order, so ours then
    sees the final status (e.g. a 304 made by a later hook).
    """
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_request(_forget)
    app.add_url_rule(METRICS_PATH, "metrics", _metrics, methods=["GET"])


def request_id_from(header: str | None) -> str:
    """The caller's id if it is a sane token, else a new one."""
    if header and _VALID_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def route_of_request() -> str:
    """The rule that matched, never the raw path, so ids in paths cannot grow the label set."""
    return request.url_rule.rule if request.url_rule is not None else UNMATCHED


def _start() -> None:
    g.started = time.perf_counter()
    g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    structlog.contextvars.bind_contextvars(request_id=g.request_id)


def _finish(response: Response) -> Response:
    request_id = g.get("request_id") or request_id_from(None)
    response.headers[REQUEST_ID_HEADER] = request_id
    if request.path == METRICS_PATH:
        return response  # scrapes every few seconds would drown the rest
    duration_s = time.perf_counter() - g.get("started", time.perf_counter())
    route, status = route_of_request(), str(response.status_code)
    REQUESTS.labels(request.method, route, status).inc()
    LATENCY.labels(request.method, route, status).observe(duration_s)
    log.info("request", method=request.method, route=route, path=request.path,
             status=response.status_code, duration_s=round(duration_s, 6))
    return response


def _forget(_error: BaseException | None) -> None:
    structlog.contextvars.clear_contextvars()


def _metrics() -> Response:
    """Prometheus text format; every gunicorn worker's samples when under `backstride serve`.

    No authentication, as Prometheus expects: keep it off the public internet at the proxy.
    """
    return Response(generate_latest(prometheus.scrape_registry()),
                    content_type=CONTENT_TYPE_LATEST)
