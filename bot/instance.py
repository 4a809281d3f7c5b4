"""One bot per database and per token: the instance lock and the watch on 409 Conflict.

``netzwerkbot run`` holds an exclusive ``flock`` on ``<database>.lock`` for its whole life
and writes its pid into the file; a second ``run`` on the same database finds the lock taken
and stops at once (exit code 3). The kernel releases the lock when the process ends, however
it ends, so a crash never leaves a stale lock behind. The admin commands (import, events,
members, backup) do not take the lock: they work while the bot runs.

Telegram answers ``getUpdates`` with 409 Conflict while another process polls the same
token (or a webhook is set). PTB retries with a growing pause; :class:`ConflictWatch` logs
the first 409 once, with Telegram's description, and gives up (exit code 4) when polling
has not succeeded for :data:`CONFLICT_LIMIT`.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Final, Self

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from pathlib import Path

EXIT_ALREADY_RUNNING: Final = 3
EXIT_CONFLICT: Final = 4
CONFLICT_LIMIT: Final = timedelta(minutes=2)

log = logging.getLogger(__name__)


def lock_path(database: Path) -> Path:
    """Return the lock file of a database: ``<database>.lock`` beside it."""
    return database.with_name(database.name + ".lock")


class AlreadyRunning(Exception):
    """Another process holds the database's lock."""

    def __init__(self, path: Path, pid: int | None) -> None:
        super().__init__(f"{path} is locked by pid {pid}")
        self.path = path
        self.pid = pid


class InstanceLock:
    """An exclusive ``flock`` on ``<database>.lock``, held until :meth:`release`."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, database: Path) -> Self:
        """Take the lock at once or raise AlreadyRunning naming the holder's pid."""
        path = lock_path(database)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            raise AlreadyRunning(path, pid) from None
        except BaseException:
            os.close(fd)
            raise
        # Never delete the file: a process waiting on the old inode would lock a file that
        # nobody else sees. Rewrite its content instead.
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.fsync(fd)
        return cls(path, fd)

    def release(self) -> None:
        """Give the lock up (the kernel also does when the process ends)."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing the descriptor releases the flock
        self._fd = None

    def __enter__(self) -> Self:
        """Use the lock as a context manager."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Release the lock."""
        self.release()


def _read_pid(fd: int) -> int | None:
    """Return the pid written into a lock file, if it holds one."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


@dataclass
class ConflictWatch:
    """Decides what a 409 Conflict from getUpdates means: log once, wait, give up.

    ``conflict`` is called with each 409; ``last_success`` tells when getUpdates last
    answered 200 (any value that changes with each success, e.g. the /readyz pulse), so a
    success between two 409s starts the count anew. ``give_up`` runs once polling has
    failed with 409 for :data:`CONFLICT_LIMIT` of ``clock`` (the bot's clock).
    """

    clock: Callable[[], datetime]
    last_success: Callable[[], object]
    give_up: Callable[[str], None]
    limit: timedelta = CONFLICT_LIMIT
    _since: datetime | None = field(default=None, init=False)
    _success_then: object = field(default=None, init=False)
    _gave_up: bool = field(default=False, init=False)

    def conflict(self, description: str) -> None:
        """Handle one 409 Conflict with Telegram's ``description``."""
        now = self.clock()
        if self._since is not None and self.last_success() != self._success_then:
            log.warning("getUpdates worked between two 409 Conflicts; counting anew")
            self._since = None
        if self._since is None:
            self._since = now
            self._success_then = self.last_success()
            log.error(
                "getUpdates: 409 Conflict (%s). Another process seems to poll this bot's "
                "token; retrying, giving up after %d s",
                description,
                self.limit.total_seconds(),
            )
            return
        if now - self._since >= self.limit and not self._gave_up:
            self._gave_up = True
            log.critical(
                "getUpdates: still 409 Conflict after %d s (%s); stopping with exit code %d",
                self.limit.total_seconds(),
                description,
                EXIT_CONFLICT,
            )
            self.give_up(description)
