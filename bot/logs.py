"""Logging set-up: nothing is configured on import; secrets never reach a log line."""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any, Final

REDACTED: Final = "[REDACTED]"
FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_FORMATTER: Final = logging.Formatter()


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


_REDACTOR: Final = _Redactor()


def protect_secret(secret: str) -> None:
    """Keep ``secret`` (the bot token) out of every log line, at every level."""
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
    for name in ("httpx", "httpcore", "apscheduler", "aiohttp.access"):
        logging.getLogger(name).setLevel(logging.WARNING)
