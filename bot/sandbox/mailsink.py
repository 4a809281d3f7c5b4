"""A local SMTP server (aiosmtpd) that keeps what it receives: for demo mode and the tests.

It listens on a free loopback port in the running event loop, accepts every mail and keeps
it in :attr:`MailSink.mails`; :meth:`MailSink.smtp_settings` points the bot at it.
"""

from __future__ import annotations

import asyncio
import email
import logging
import time
from dataclasses import dataclass
from email import policy
from typing import TYPE_CHECKING, Any, Final, Self, cast

from aiosmtpd.smtp import SMTP

if TYPE_CHECKING:
    from collections.abc import Callable
    from email.message import EmailMessage
    from types import TracebackType

LOOPBACK: Final = "127.0.0.1"
SINK_SENDER: Final = "IT Bündnis BW <netzwerkbot@localhost>"


@dataclass(frozen=True, slots=True)
class ReceivedMail:
    """One mail as the server received it."""

    envelope_to: tuple[str, ...]
    message: EmailMessage
    received_at: float  # time.monotonic()

    @property
    def to(self) -> str:
        """Return the To header."""
        return str(self.message["To"])

    @property
    def subject(self) -> str:
        """Return the decoded subject."""
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        """Return the decoded plain-text body."""
        part = self.message.get_body(("plain",))
        return "" if part is None else cast("EmailMessage", part).get_content()


class MailSink:
    """An SMTP server on a free local port that accepts and keeps every mail."""

    def __init__(self, on_mail: Callable[[ReceivedMail], None] | None = None) -> None:
        self.mails: list[ReceivedMail] = []
        self.host = LOOPBACK
        self.port = 0
        self._on_mail = on_mail
        self._server: asyncio.Server | None = None
        self._arrived = asyncio.Event()
        self._refuse = 0
        self._refusal = ""

    def refuse_next(self, count: int, reply: str = "451 4.3.0 Try again later") -> None:
        """Answer the next ``count`` mails with ``reply`` (4xx transient, 5xx permanent)."""
        self._refuse, self._refusal = count, reply

    async def start(self) -> None:
        """Listen on a free loopback port."""
        # aiosmtpd logs each session's addresses at INFO; they are not the bot's logs.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="localhost", loop=loop), LOOPBACK, 0
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def to(self, address: str) -> list[ReceivedMail]:
        """Return the mails whose envelope names ``address``."""
        return [m for m in self.mails if address.lower() in (a.lower() for a in m.envelope_to)]

    async def wait_for(self, count: int, *, within: float = 5.0) -> list[ReceivedMail]:
        """Wait until at least ``count`` mails arrived in total; return them all."""
        async with asyncio.timeout(within):
            while len(self.mails) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return list(self.mails)

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        """Keep a received mail (aiosmtpd's hook), unless told to refuse it."""
        if self._refuse > 0:
            self._refuse -= 1
            return self._refusal
        raw = envelope.original_content or envelope.content
        data = raw if isinstance(raw, bytes) else str(raw).encode()
        message = email.message_from_bytes(data, policy=policy.default)
        mail = ReceivedMail(tuple(envelope.rcpt_tos), message, time.monotonic())
        self.mails.append(mail)
        self._arrived.set()
        if self._on_mail is not None:
            self._on_mail(mail)
        return "250 Message accepted for delivery"
