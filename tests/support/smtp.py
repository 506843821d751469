"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for the mail tests.

It checks each message as a relay would: the envelope's recipients are the To header's, and the
message parses as email; anything else is refused with a 550, which the sender logs.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import getaddresses

from aiosmtpd.controller import Controller

from tests.processes.procs import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refused: list[str] = []


    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd names it
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        to = {address.lower() for _, address in getaddresses(message.get_all("To", []))}
        if to != {r.lower() for r in envelope.rcpt_tos} or not message["Subject"]:
            self.refused.append(str(message["Subject"]))
            return "550 envelope and headers disagree"
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@contextlib.contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
