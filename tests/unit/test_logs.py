"""Log lines: one JSON object each, from structlog and stdlib loggers alike, and no secrets."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from service import logs


@pytest.fixture
def captured():
    """Configure logging into a buffer; afterwards take our handler off the root logger."""
    handlers = []

    def configure(log_format: str = "json") -> io.StringIO:
        stream = io.StringIO()
        handlers.append(logs.configure(log_format, stream=stream))
        return stream

    yield configure
    for handler in handlers:
        logging.getLogger().removeHandler(handler)
    structlog.contextvars.clear_contextvars()


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_stdlib_and_structlog_lines_are_both_json_with_the_bound_context(captured):
    stream = captured()
    structlog.contextvars.bind_contextvars(request_id="req-1")
    logging.getLogger("celery.worker").info("worker %s ready.", "celery@vm")
    logs.get_logger("backstride.request").info("request", route="/v1/me", status=200)

    celery_line, request_line = lines(stream)
    assert celery_line["event"] == "worker celery@vm ready."
    assert celery_line["logger"] == "celery.worker"
    assert request_line["route"] == "/v1/me" and request_line["status"] == 200
    for line in (celery_line, request_line):
        assert line["request_id"] == "req-1"
        assert line["level"] == "info"
        assert line["timestamp"].endswith("Z")


def test_credentials_never_reach_a_line_whatever_key_names_them(captured):
    stream = captured()
    logs.get_logger("careless").info("signing in", password="tarmac-and-trails-2026",
                                     refresh_token="rt-secret", headers={
                                         "Authorization": "Bearer at-secret", "Accept": "json"})

    (line,) = lines(stream)
    text = stream.getvalue()
    for secret in ("tarmac-and-trails-2026", "rt-secret", "at-secret"):
        assert secret not in text, f"{secret} leaked into {text}"
    assert line["password"] == logs.REDACTED
    assert line["headers"] == {"Authorization": logs.REDACTED, "Accept": "json"}


def test_an_exception_is_one_json_line_with_its_traceback(captured):
    stream = captured()
    try:
        raise RuntimeError("the database went away")
    except RuntimeError:
        logging.getLogger("service.api.problems").exception("unhandled error")

    (line,) = lines(stream)
    assert "RuntimeError: the database went away" in line["exception"]


def test_console_format_is_for_people_and_configuring_twice_keeps_one_handler(captured):
    captured("json")
    stream = captured("console")
    logging.getLogger("backstride").warning("shoes are worn out")

    assert "shoes are worn out" in stream.getvalue()
    with pytest.raises(json.JSONDecodeError):
        json.loads(stream.getvalue().splitlines()[0])
    ours = [h for h in logging.getLogger().handlers if isinstance(h, logs._BackstrideHandler)]
    assert len(ours) == 1


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="xml"):
        logs.configure("xml")
