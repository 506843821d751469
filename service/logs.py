"""One logging set-up for every process: the API, gunicorn, the Celery workers and beat.

Lines are JSON by default (one object a line, for whatever ships the logs), or coloured console
lines for a person at a terminal (`BACKSTRIDE_LOG_FORMAT=console`). structlog renders both our own
events and stdlib `logging` records (Celery's, gunicorn's, SQLAlchemy's, our modules'
`logging.getLogger`), so a log shipper never sees two formats from one process.

Context bound with `structlog.contextvars.bind_contextvars` (the API's request id, a task's id and
name) is merged into every line, stdlib records included.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

FORMATS = ("json", "console")
REDACTED = "[redacted]"
# Keys whose values never reach a log line, wherever an event puts them.
_SECRET_KEYS = frozenset({"authorization", "password", "new_password", "current_password",
                          "token", "access_token", "refresh_token", "secret", "secret_key",
                          "cookie", "set-cookie", "vapid_private_key", "expo_access_token"})
_SECRET_SUFFIXES = ("_token", "_password", "_secret")


def redact_secrets(_logger: Any, _method: str,
                   event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Replace the value of any key that names a credential, one level into dicts as well.

    Nothing in Backstride logs headers or bodies on purpose; this catches the day someone does.
    """
    for key, value in list(event.items()):
        if _is_secret(key):
            event[key] = REDACTED
        elif isinstance(value, dict):
            event[key] = {k: REDACTED if _is_secret(k) else v for k, v in value.items()}
    return event


def _is_secret(key: object) -> bool:
    name = str(key).lower()
    return name in _SECRET_KEYS or name.endswith(_SECRET_SUFFIXES)


def _shared_processors() -> list[Any]:
    """What both structlog events and stdlib records go through before rendering."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]


def _renderers(log_format: str, stream: TextIO) -> list[Any]:
    if log_format == "console":
        return [structlog.dev.ConsoleRenderer(colors=_isatty(stream))]
    return [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _BackstrideHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Ours, so configuring twice replaces it and leaves other handlers (pytest's) alone."""


def configure(log_format: str = "json", level: int | str = logging.INFO,
              stream: TextIO | None = None) -> logging.Handler:
    """Route structlog and stdlib logging to one handler on the root logger; safe to call again.

    `stream` defaults to the current sys.stderr. Celery calls this (setup_logging signal) before
    it redirects sys.stderr to a logger, so the handler keeps the real stream. Returns the handler.
    """
    if log_format not in FORMATS:
        raise ValueError(f"log format must be one of {FORMATS}, got {log_format!r}")
    stream = sys.stderr if stream is None else stream
    shared = _shared_processors()
    handler = _BackstrideHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    *_renderers(log_format, stream)],
    ))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _BackstrideHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    return handler


def _send_structlog_to_stdlib() -> None:
    """structlog events become stdlib records, rendered by whatever handler `configure` set.

    Done at import so that a logger used before `configure` (or in a test that never calls it)
    follows stdlib's rules instead of structlog's default of printing to stdout.
    """
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *_shared_processors(),
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


_send_structlog_to_stdlib()


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger named like a stdlib one (so levels set per module still apply)."""
    return structlog.stdlib.get_logger(name)
