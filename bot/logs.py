"""Logging set-up: nothing is configured on import; secrets never reach a log line.

Secrets (the token, ``NETZWERKBOT_SECRET_KEY``, the SMTP password) are redacted from every
record at every level. PTB's DEBUG lines that carry whole updates and Bot API parameters
(and so every message text, a typed password among them) keep only the update id or the
endpoint, so not even DEBUG logs hold what people write.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any, Final

REDACTED: Final = "[REDACTED]"
FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_FORMATTER: Final = logging.Formatter()
# PTB's DEBUG messages whose arguments are whole updates or Bot API payloads: only the first
# argument (an endpoint) is kept, or for updates their id.
_PAYLOAD_MESSAGES: Final = frozenset(
    {
        "Processing update %s",
        "Dropping pending update: %s",
        "Calling Bot API endpoint `%s` with parameters `%s`",
        "Call to Bot API endpoint `%s` finished with return value `%s`",
    }
)


class _Redactor:
    """Wraps the log record factory so that no record, from any logger, carries a secret.

    Filters on handlers or loggers miss records of child loggers and handlers added later
    (pytest's capture among them); the record factory sees every record at its creation.
    """

    def __init__(self) -> None:
        self._secrets: frozenset[str] = frozenset()
        self._lock = threading.Lock()
        self._installed = False

    def protect(self, secret: str) -> None:
        """Redact ``secret`` from now on in every log record of this process."""
        if not secret:
            return
        with self._lock:
            self._secrets |= {secret}
            if not self._installed:
                self._install()
                self._installed = True

    def redact(self, text: str) -> str:
        """Return ``text`` with every secret replaced."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def _install(self) -> None:
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if record.msg in _PAYLOAD_MESSAGES and record.name.startswith("telegram"):
                _strip_payload(record)
            try:
                message = record.getMessage()
            except (TypeError, ValueError):  # a malformed call; let logging report it
                return record
            redacted = self.redact(message)
            if redacted != message:
                record.msg, record.args = redacted, None
            if record.exc_info and not record.exc_text:
                # Tracebacks may quote URLs too: format them now, redacted.
                record.exc_text = self.redact(_FORMATTER.formatException(record.exc_info))
            return record

        logging.setLogRecordFactory(factory)


def _strip_payload(record: logging.LogRecord) -> None:
    """Replace the payload arguments of one of PTB's DEBUG messages by a placeholder."""
    args = record.args if isinstance(record.args, tuple) else (record.args,)
    if len(args) == 2:  # (endpoint, payload)
        record.args = (args[0], "…")
    else:
        update_id = getattr(args[0], "update_id", None) if args else None
        record.args = (f"<update {update_id}>",)


_REDACTOR: Final = _Redactor()


def protect_secret(secret: str) -> None:
    """Keep ``secret`` (the bot token) out of every log line, at every level."""
    _REDACTOR.protect(secret)


def protect_secrets(*secrets: str | None) -> None:
    """Keep each given secret (those that are set) out of every log line, at every level."""
    for secret in secrets:
        if secret:
            _REDACTOR.protect(secret)


def redact(text: str) -> str:
    """Return ``text`` with every protected secret replaced."""
    return _REDACTOR.redact(text)


def configure_logging(level: str) -> None:
    """Send logs to stderr at ``level``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet_noisy_loggers()


def quiet_noisy_loggers() -> None:
    """Keep request URLs (which contain the token) out of INFO logs."""
    # httpx logs every request URL at INFO; the redaction stays as a second line of defence.
    # ldap3 at DEBUG would log DNs and filters (personal data) of every operation.
    for name in ("httpx", "httpcore", "apscheduler", "aiohttp.access", "ldap3"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # aiosqlite logs every statement with its parameters (e-mail addresses among them).
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
