"""Request bodies on JSON routes, checked before any schema sees them.

- A route that reads a JSON body refuses any other media type with a 415 (it was a 422 naming
  every required field as missing, which sent clients looking in the wrong place).
- JSON nested deeper than `MAX_DEPTH` is a 400: no body of ours needs more, and the parser would
  otherwise recurse until Python gives up (50,000 `[` was a RecursionError, a 500).
- A string or key holding a lone surrogate (`"\\ud800"`, valid JSON but not Unicode text) is a 422
  naming where it is: it could never be stored or sent on (it was a UnicodeEncodeError, a 500).

Every JSON body Flask parses (the rate limiter's and the idempotency check's reads too) goes
through `BoundedJSONProvider`, so none of them can be made to recurse either.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, UnprocessableEntity, UnsupportedMediaType

from service.api.context import view_function

MAX_DEPTH = 64


class TooDeep(ValueError):
    pass


class NotText(ValueError):
    """A string that is not Unicode text; `path` is where it is, keys and list indexes."""

    def __init__(self, path: tuple[str, ...]) -> None:
        super().__init__("not Unicode text")
        self.path = path


def loads(data: str | bytes, **kwargs: Any) -> Any:
    """`json.loads`, refusing nesting deeper than MAX_DEPTH and text that is not Unicode."""
    try:
        value = json.loads(data, **kwargs)
    except RecursionError:
        raise TooDeep(f"nested deeper than {MAX_DEPTH}") from None
    _check(value)
    return value


class BoundedJSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s, **kwargs)


def init_app(app: Flask) -> None:
    app.json = BoundedJSONProvider(app)
    app.before_request(_check_body)


def takes_json(view: Any) -> bool:
    """Whether the view's arguments include a JSON body (flask-smorest's `arguments` doc)."""
    parameters = (getattr(view, "_apidoc", None) or {}).get("arguments", {}).get("parameters", [])
    return any(isinstance(p, dict) and p.get("in") == "json" for p in parameters)


def _check_body() -> None:
    if not takes_json(view_function()):
        return
    if not request.is_json:
        if request.content_type or request.content_length or request.headers.get(
                "Transfer-Encoding"):
            raise UnsupportedMediaType("Send the body as JSON, with Content-Type: "
                                       "application/json.")
        return  # no body at all: the schema names what is missing
    data = request.get_data(cache=True)
    if not data:
        return
    try:
        loads(data)
    except TooDeep:
        raise BadRequest(f"The JSON body is nested deeper than {MAX_DEPTH} levels.") from None
    except NotText as error:
        refused = UnprocessableEntity()
        refused.data = {"messages": {"json": _errors_at(error.path)}}
        raise refused from None
    except ValueError:
        raise BadRequest("The body is not valid JSON.") from None


def _check(value: Any) -> None:
    """Walk the parsed value without recursion: its depth and its strings."""
    todo: list[tuple[Any, int, tuple[str, ...]]] = [(value, 1, ())]
    while todo:
        item, depth, path = todo.pop()
        if isinstance(item, str):
            _text(item, path)
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise TooDeep(f"nested deeper than {MAX_DEPTH}")
            if isinstance(item, dict):
                for key, child in item.items():
                    _text(key, (*path, key))
                    todo.append((child, depth + 1, (*path, key)))
            else:
                todo.extend((child, depth + 1, (*path, str(index)))
                            for index, child in enumerate(item))


def _text(value: str, path: tuple[str, ...]) -> None:
    if value.isascii():
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise NotText(path) from None


def _errors_at(path: tuple[str, ...]) -> dict[str, Any]:
    """A validation problem's `errors` naming the place, nested as marshmallow nests them; a
    key that is not text itself is named by the object holding it."""
    message = ["Not Unicode text (a lone surrogate such as \\ud800?)."]
    names = [_printable(name) for name in path] or ["_body"]
    errors: Any = message
    for name in reversed(names):
        errors = {name: errors}
    return errors


def _printable(name: str) -> str:
    return name.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
