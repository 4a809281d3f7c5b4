"""E-mail: German plain-text mails over SMTP (aiosmtplib), sent from a background queue.

Handlers never wait for a mail. They reply first and then submit a *job* to the queue; the
job does whatever depends on the address (looking the member up, making a code) and returns
the mail to send, or None. So neither the reply nor its timing tells whether an address
exists. One worker runs the jobs in order; a failed send is logged (without the address)
and dropped: the codes are short-lived, and the person can ask again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import TYPE_CHECKING, Final, Literal, Protocol, TypeAlias

import aiosmtplib

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from bot.delivery.metrics import Metrics

log = logging.getLogger(__name__)

SMTP_TIMEOUT: Final = 30.0
MAX_PENDING: Final = 1000
STOP_TIMEOUT: Final = 10.0


SmtpSecurity = Literal["none", "starttls", "tls"]


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how the bot sends e-mail (codes and confirmations)."""

    host: str
    sender: str
    port: int = 587
    security: SmtpSecurity = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)  # never printed

    @classmethod
    def local(cls, host: str, port: int, sender: str) -> SmtpSettings:
        """Return settings for a local SMTP server without TLS or login (demo and tests)."""
        return cls(host=host, port=port, sender=sender, security="none")


@dataclass(frozen=True, slots=True)
class Mail:
    """One plain-text mail to one recipient."""

    to: str
    subject: str
    body: str


# A job does the work that depends on an address and returns the mail to send, or None.
MailJob: TypeAlias = "Callable[[], Awaitable[Mail | None]]"


class MailSender(Protocol):
    """Something that delivers a mail (SMTP in production)."""

    async def send(self, mail: Mail) -> None:
        """Deliver the mail or raise."""
        ...


def build_message(mail: Mail, *, sender: str) -> EmailMessage:
    """Return the mail as a MIME message: UTF-8 plain text, marked as auto-generated."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)  # with a domain: no slow getfqdn()
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    message.set_content(mail.body)
    return message


class SmtpSender:
    """Sends mails through the configured SMTP server, one connection per mail."""

    def __init__(self, smtp: SmtpSettings) -> None:
        self._smtp = smtp

    async def send(self, mail: Mail) -> None:
        """Deliver one mail; raise aiosmtplib's errors or OSError on failure."""
        smtp = self._smtp
        await aiosmtplib.send(
            build_message(mail, sender=smtp.sender),
            hostname=smtp.host,
            port=smtp.port,
            username=smtp.user,
            password=smtp.password,
            use_tls=smtp.security == "tls",
            # False, not None: aiosmtplib would otherwise upgrade when offered, and "none"
            # means no TLS at all (a local relay).
            start_tls=smtp.security == "starttls",
            timeout=SMTP_TIMEOUT,
        )


class MailQueue:
    """A background worker that runs mail jobs in order and sends what they return."""

    def __init__(
        self, sender: MailSender, *, max_pending: int = MAX_PENDING, metrics: Metrics | None = None
    ) -> None:
        self._sender = sender
        self._metrics = metrics
        self._jobs: asyncio.Queue[MailJob] = asyncio.Queue(max_pending)
        self._task: asyncio.Task[None] | None = None
        self.sent = 0
        self.failed = 0

    def start(self) -> None:
        """Start the worker (in post_init)."""
        if self._task is None:
            self._task = asyncio.create_task(self._work(), name="mail-queue")

    async def stop(self, grace: float = STOP_TIMEOUT) -> None:
        """Let the worker finish the queued jobs for up to ``grace`` seconds, then stop."""
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self._jobs.join(), grace)
        except TimeoutError:
            log.warning("Stopped the mail queue with %d jobs left", self._jobs.qsize())
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    def submit(self, job: MailJob) -> bool:
        """Queue a job; False (and logged) if the queue is full."""
        try:
            self._jobs.put_nowait(job)
        except asyncio.QueueFull:
            log.warning("The mail queue is full; a mail job was dropped")
            return False
        return True

    async def join(self) -> None:
        """Wait until every queued job has run (tests, the benchmark)."""
        await self._jobs.join()

    async def _work(self) -> None:
        while True:
            job = await self._jobs.get()
            try:
                await self._run(job)
            finally:
                self._jobs.task_done()

    async def _run(self, job: MailJob) -> None:
        try:
            mail = await job()
        except Exception as error:  # a bug in one job must not stop the queue
            # Its message may quote an address: the kind at ERROR, the details at DEBUG.
            log.error("A mail job failed (%s)", type(error).__name__)
            log.debug("The failed mail job's traceback", exc_info=True)
            return
        if mail is None:
            return
        try:
            await self._sender.send(mail)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            self.failed += 1
            if self._metrics is not None:
                self._metrics.mail("failed")
            # The error's text may quote the recipient: only its kind is logged.
            log.warning("Could not send a mail (%s)", type(error).__name__)
        else:
            self.sent += 1
            if self._metrics is not None:
                self._metrics.mail("sent")
            log.info("Sent a mail")
