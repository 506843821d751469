"""gunicorn settings for `backstride serve` and `up` (`-c python:service.api.gunicorn_conf`).

- gunicorn's own lines (booting, worker timeouts) come out in our log format: its loggers hand
  their records to the root handler `service.logs` set up, instead of printing plain text.
- Its access log is off: `service.api.observe` writes one richer line per request.
- A worker that exits has its live-gauge metric files removed (prometheus_client multiprocess).
- Request line and header limits a little above the app's own (service/api/edge.py), so a request
  that is merely too long gets the app's 414 or 431 problem document, not gunicorn's HTML.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from service import logs, prometheus
from service.api import edge
from service.config import Settings


class StructuredLogger(Logger):
    """gunicorn's logger, with our handler instead of its own."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        logs.configure(Settings.from_env().log_format, self.loglevel)
        for logger in (self.error_log, self.access_log):
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
            logger.propagate = True

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        """Nothing: the app logs each request with its route and request id."""


def child_exit(_server: Any, worker: Any) -> None:
    prometheus.mark_dead(worker.pid)


logger_class = StructuredLogger
loglevel = "info"
limit_request_line = edge.GUNICORN_REQUEST_LINE
limit_request_field_size = edge.GUNICORN_FIELD_SIZE
limit_request_fields = edge.GUNICORN_FIELDS
