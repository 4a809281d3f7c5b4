"""Logging set-up: nothing is configured on import; secrets never reach a log line.

Secrets (the token, ``NETZWERKBOT_SECRET_KEY``, the SMTP and LDAP bind passwords, the webhook
secret) are redacted from every record at every level. PTB's DEBUG lines that carry whole
updates and Bot API parameters (and so every message text, a typed password among them) keep
only the update id or the endpoint, so not even DEBUG logs hold what people write.

Two formats: readable lines (the default) or, with ``NETZWERKBOT_LOG_FORMAT=json``, one JSON
object per line for log collectors: ``time`` (UTC, ISO 8601), ``level``, ``logger``,
``message``, ``update_id`` while an update is processed, and ``exception`` (the redacted
traceback) inside the object, so a traceback never breaks the one-line-per-record rule.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from contextvars import ContextVar
from datetime import UTC, datetime
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
# The update being processed in this task (set by the update processor), for the JSON logs.
CURRENT_UPDATE: Final[ContextVar[int | None]] = ContextVar("current_update", default=None)


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as JSON: time, level, logger, message, update id, exception."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        update_id = getattr(record, "update_id", None)
        if update_id is None:
            update_id = CURRENT_UPDATE.get()
        if update_id is not None:
            entry["update_id"] = update_id
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


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


def configure_logging(level: str, log_format: str = "text") -> None:
    """Send logs to stderr at ``level``, as text lines or (``"json"``) JSON objects."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(FORMAT))
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
