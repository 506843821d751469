"""Email out (password resets): a pluggable sender behind one small protocol.

- `SmtpMailer` hands each message to the SMTP relay the settings name (`BACKSTRIDE_SMTP_HOST`,
  `BACKSTRIDE_SMTP_PORT`); TLS, authentication and retries belong to that relay (a local
  Postfix, or a provider's relay), not to every API process.
- With no SMTP host set, `UnsentMailer` logs that a message was not sent (never its content, which
  holds a reset link) so a deployment that forgot the setting sees it at once.
- `InBackground` composes and sends from a thread of its own, so a request that sends mail
  answers as fast as one that does not: a reset asked for an unknown email must not be told
  apart by its timing. A message lost with its process is asked for again by the runner; the
  answer never depended on it.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from typing import Protocol

from service.config import Settings

SMTP_TIMEOUT_S = 10
log = logging.getLogger(__name__)


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class SmtpMailer:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_S) as smtp:
            smtp.send_message(message)


class UnsentMailer:
    def send(self, message: EmailMessage) -> None:
        log.warning("email not sent: BACKSTRIDE_SMTP_HOST is not set",
                    extra={"subject": message["Subject"]})


class InBackground:
    """Compose and send through `mailer` from one thread of its own; failures are logged, never
    raised. The message is composed there too: Python's email package takes longer to build
    one than the request takes to answer."""

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mail")

    def send(self, compose: Callable[[], EmailMessage]) -> None:
        self._pool.submit(self._send, compose)

    def compose_only(self, compose: Callable[[], EmailMessage]) -> None:
        """Do the work of `send` but the sending: for an answer that must cost the same whether
        or not there was anyone to write to."""
        self._pool.submit(compose)

    def _send(self, compose: Callable[[], EmailMessage]) -> None:
        try:
            self.mailer.send(compose())
        except (OSError, smtplib.SMTPException):
            log.warning("email not sent: the SMTP relay refused or could not be reached",
                        exc_info=True)

    def wait(self) -> None:
        """Every message handed over so far has been sent or given up on (tests, shutdown)."""
        self._pool.submit(lambda: None).result()


def make_mailer(settings: Settings) -> InBackground:
    inner: Mailer = (SmtpMailer(settings.smtp_host, settings.smtp_port) if settings.smtp_host
                     else UnsentMailer())
    return InBackground(inner)
