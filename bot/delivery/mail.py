"""E-mail: German plain-text mails over SMTP (aiosmtplib), sent from a table by a worker.

Handlers never wait for a mail. They reply first and then add a row to ``mail_jobs``
(:mod:`storage.mail_jobs`), the same work for every address; the worker's composer does
whatever depends on the address (looking the member up, making a code) and returns the mail
to send, or None. So neither the reply nor its timing tells whether an address exists. Rows
survive a restart. A transient SMTP failure (4xx, a connection problem) is retried after 15 s,
30 s, 1 min, … (at most 5 min apart); a permanent one (5xx) ends the row. A code mail that
cannot go out within the code's validity is dropped and logged. The SMTP server is checked
once at start (a warning, never fatal).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import TYPE_CHECKING, Final, Literal, Protocol, TypeAlias

import aiosmtplib

from storage.mail_jobs import KIND_CHANGED, KIND_CODE, KIND_LOCKED, MailJob, MailJobStore

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from bot.delivery.metrics import Metrics

log = logging.getLogger(__name__)

SMTP_TIMEOUT: Final = 30.0
POLL_SECONDS: Final = 5.0
RETRY_FIRST: Final = timedelta(seconds=15)
RETRY_MAX: Final = timedelta(minutes=5)
CONFIRMATION_TTL: Final = timedelta(days=1)
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


class RetryLater(Exception):
    """Raised by a mail's composer when something it needs is away for now (the directory)."""


# A job's composer: does what depends on the address and returns the mail, or None.
Composer: TypeAlias = "Callable[[MailJob], Awaitable[Mail | None]]"


def is_transient(error: BaseException) -> bool:
    """Tell whether a failed send may work later (4xx, connection trouble) or never (5xx)."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return all(400 <= r.code < 500 for r in error.recipients)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return 400 <= error.code < 500
    return isinstance(
        error,
        aiosmtplib.SMTPConnectError
        | aiosmtplib.SMTPServerDisconnected
        | aiosmtplib.SMTPTimeoutError
        | OSError
        | TimeoutError,
    )


def retry_delay(attempts: int) -> timedelta:
    """Return the pause before the next try: 15 s, 30 s, 1 min, … at most 5 minutes."""
    return min(RETRY_FIRST * (1 << min(attempts, 10)), RETRY_MAX)


class MailWorker:
    """Sends the mails of the ``mail_jobs`` table: one worker, retries, expiry.

    ``submit_code`` and ``submit_changed`` add a row (after the handler's reply) and wake
    the worker; rows survive a restart. The worker sleeps until the next due row (at most
    ``poll`` seconds, so rows another process added are seen).
    """

    def __init__(
        self,
        sender: MailSender,
        store: MailJobStore,
        compose: Composer,
        *,
        clock: Callable[[], datetime],
        metrics: Metrics | None = None,
        poll: float = POLL_SECONDS,
    ) -> None:
        self._sender = sender
        self._store = store
        self._compose = compose
        self._clock = clock
        self._metrics = metrics
        self._poll = poll
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.sent = 0
        self.failed = 0

    def start(self) -> None:
        """Start the worker (in post_init)."""
        if self._task is None:
            self._task = asyncio.create_task(self._work(), name="mail-worker")

    async def stop(self, grace: float = STOP_TIMEOUT) -> None:
        """Send what is due for up to ``grace`` seconds, then stop; the rest waits in the table."""
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self.join(), grace)
        except TimeoutError:
            log.warning("Stopped the mail worker with mails still due (they stay queued)")
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def submit_code(
        self, chat_id: int, purpose: str, email: str, nonce: str, *, expires_at: datetime
    ) -> None:
        """Queue a code mail for whatever member has ``email``, valid until ``expires_at``."""
        await self._store.add(
            KIND_CODE,
            chat_id,
            now=self._clock(),
            expires_at=expires_at,
            purpose=purpose,
            email=email,
            nonce=nonce,
        )
        self._wake.set()

    async def submit_changed(self, chat_id: int, member_id: int) -> None:
        """Queue the confirmation of a password change."""
        now = self._clock()
        await self._store.add(
            KIND_CHANGED, chat_id, now=now, expires_at=now + CONFIRMATION_TTL, member_id=member_id
        )
        self._wake.set()

    async def submit_locked(self, chat_id: int, member_id: int) -> None:
        """Queue the notice that codes for the member's address are paused for a day."""
        now = self._clock()
        await self._store.add(
            KIND_LOCKED, chat_id, now=now, expires_at=now + CONFIRMATION_TTL, member_id=member_id
        )
        self._wake.set()

    def wake(self) -> None:
        """Look for due mails now (e.g. after the clock moved in a test)."""
        self._wake.set()

    async def join(self) -> None:
        """Wait until nothing is due any more (tests, the benchmark, stop)."""
        self._idle.clear()
        self._wake.set()
        await self._idle.wait()

    async def _work(self) -> None:
        while True:
            self._wake.clear()
            try:
                done = await self._pass()
            except Exception:  # the database away for a moment must not end the worker
                log.exception("The mail worker failed; trying again shortly")
                done = 0
            if done:
                continue
            self._idle.set()
            timeout = self._poll
            with contextlib.suppress(Exception):
                due = await self._store.next_due()
                if due is not None:
                    ahead = (due - self._clock()).total_seconds()
                    timeout = min(max(ahead, 0.01), self._poll)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _pass(self) -> int:
        jobs = await self._store.due(self._clock())
        for job in jobs:
            await self._run(job)
        return len(jobs)

    async def _run(self, job: MailJob) -> None:
        now = self._clock()
        if job.expires_at <= now:
            await self._expire(job, now)
            return
        try:
            mail = await self._compose(job)
        except RetryLater:
            await self._retry_or_expire(job, now, "RetryLater")
            return
        except Exception as error:  # a bug in one job must not stop the others
            # Its message may quote an address: the kind at ERROR, the details at DEBUG.
            log.error("Making a %s mail failed (%s)", job.kind, type(error).__name__)
            log.debug("The failed mail's traceback", exc_info=True)
            await self._store.end(job.id, "failed", now=now, error=type(error).__name__)
            return
        if mail is None:
            await self._store.end(job.id, "skipped", now=now, tried=False)
            return
        try:
            await self._sender.send(mail)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            self.failed += 1
            if self._metrics is not None:
                self._metrics.mail("failed")
            # The error's text may quote the recipient: only its kind is logged.
            kind = type(error).__name__
            if is_transient(error):
                await self._retry_or_expire(job, now, kind)
            else:
                log.warning("Could not send a %s mail (%s); not retried", job.kind, kind)
                await self._store.end(job.id, "failed", now=now, error=kind)
        else:
            self.sent += 1
            if self._metrics is not None:
                self._metrics.mail("sent")
            await self._store.end(job.id, "sent", now=now)
            log.info("Sent a mail")

    async def _retry_or_expire(self, job: MailJob, now: datetime, kind: str) -> None:
        at = now + retry_delay(job.attempts)
        if at >= job.expires_at:
            await self._expire(job, now, error=kind)
            return
        log.warning(
            "Could not send a %s mail (%s); trying again in %d s",
            job.kind,
            kind,
            (at - now).total_seconds(),
        )
        await self._store.retry(job.id, at=at, error=kind)

    async def _expire(self, job: MailJob, now: datetime, error: str | None = None) -> None:
        log.warning(
            "A %s mail could not be sent in time (%d attempts) and was dropped",
            job.kind,
            job.attempts + (error is not None),
        )
        await self._store.end(job.id, "expired", now=now, error=error, tried=error is not None)


async def check_smtp(smtp: SmtpSettings) -> None:
    """Connect, greet and (if configured) log in once at start; a warning if that fails."""
    client = aiosmtplib.SMTP(
        hostname=smtp.host,
        port=smtp.port,
        use_tls=smtp.security == "tls",
        start_tls=smtp.security == "starttls",
        timeout=SMTP_TIMEOUT,
    )
    try:
        async with client:
            if smtp.user is not None and smtp.password is not None:
                await client.login(smtp.user, smtp.password)
            await client.noop()
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
        log.warning(
            "The SMTP server %s:%d does not answer as expected (%s); mails will be retried",
            smtp.host,
            smtp.port,
            type(error).__name__,
        )
    else:
        log.info("The SMTP server %s:%d answers", smtp.host, smtp.port)
