"""Limits on the request line and headers, answered by the app as problem documents.

gunicorn refuses a request line over `limit_request_line` with its own 414 and a header line over
`limit_request_field_size` (or more than `limit_request_fields` headers) with its own 431, as
HTML. The app's limits sit just below gunicorn's (service/api/gunicorn_conf.py sets those), so a
request that is merely too long reaches the app and gets a 414 or 431 problem document like every
other error; only one past gunicorn's own limits still gets gunicorn's HTML answer, and so does a
request gunicorn cannot parse at all (docs/operations.md, "Security").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from service.api.problems import MEDIA_TYPE, problem_body

# gunicorn's, as service/api/gunicorn_conf.py sets them.
GUNICORN_REQUEST_LINE = 8190
GUNICORN_FIELD_SIZE = 8190
GUNICORN_FIELDS = 100
# Ours, a little below, so the app answers first.
MAX_REQUEST_LINE = 8000
MAX_FIELD_SIZE = 8000
MAX_FIELDS = 90

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class EdgeLimits:
    """WSGI middleware: 414 for a request line over MAX_REQUEST_LINE, 431 for a header line over
    MAX_FIELD_SIZE or more than MAX_FIELDS headers."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if _request_line_length(environ) > MAX_REQUEST_LINE:
            return _refuse(start_response, 414, f"The request line is longer than "
                           f"{MAX_REQUEST_LINE} characters; send long data in a body.")
        fields = _header_lines(environ)
        if len(fields) > MAX_FIELDS:
            return _refuse(start_response, 431, f"More than {MAX_FIELDS} request headers.")
        if any(length > MAX_FIELD_SIZE for length in fields):
            return _refuse(start_response, 431, f"A request header is longer than "
                           f"{MAX_FIELD_SIZE} characters.")
        return self.app(environ, start_response)


def _request_line_length(environ: dict[str, Any]) -> int:
    target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not target:
        query = environ.get("QUERY_STRING", "")
        target = environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
    return len(f"{environ.get('REQUEST_METHOD', '')} {target} "
               f"{environ.get('SERVER_PROTOCOL', 'HTTP/1.1')}")


def _header_lines(environ: dict[str, Any]) -> list[int]:
    """The length of each header line as sent ("Name: value"), from the WSGI environ."""
    lengths = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name_length = len(key) - len("HTTP_")
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name_length = len(key)
        else:
            continue
        lengths.append(name_length + 2 + len(str(value)))
    return lengths


def _refuse(start_response: StartResponse, status: int, detail: str) -> list[bytes]:
    body = json.dumps(problem_body(status, detail)).encode()
    phrase = problem_body(status)["title"]
    start_response(f"{status} {phrase}", [("Content-Type", MEDIA_TYPE),
                                          ("Content-Length", str(len(body))),
                                          ("Cache-Control", "no-store")])
    return [body]
