"""Leases on in-flight rows: who claimed a reminder or outbox row, and until when.

A row goes ``pending`` -> ``sending`` when a process claims it, just before its request
leaves. The claim records the process (:attr:`Lease.owner`, host, pid and a random part) and
an expiry (:attr:`Lease.until`). The process renews its leases while it runs (every wake of
the dispatcher, see :meth:`Lease.renew`); a row whose lease expired, or whose owner is a
process of this host that no longer exists, belongs to nobody and goes back to ``pending``
(:func:`recover`). So a second process on the same database never takes back the rows of a
live one (they would go out twice), while the rows of a crashed one come back at once when
it ran on this host and after at most :data:`LEASE_DURATION` otherwise.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from storage.db import Database

# Long enough for a row held across a flood pause (retry_after) between two renewals.
LEASE_DURATION: Final = timedelta(minutes=2)
TABLES: Final = ("reminders", "outbox")
OWNER_PARTS: Final = 3

# The same statements for both tables, spelled out, so every statement is a plain constant.
SQL_OWNERS: Final = {
    "reminders": "SELECT DISTINCT claimed_by FROM reminders WHERE status = 'sending'",
    "outbox": "SELECT DISTINCT claimed_by FROM outbox WHERE status = 'sending'",
}
SQL_RENEW: Final = {
    "reminders": """
UPDATE reminders SET lease_until = :until WHERE status = 'sending' AND claimed_by = :owner""",
    "outbox": """
UPDATE outbox SET lease_until = :until WHERE status = 'sending' AND claimed_by = :owner""",
}
# Rows nobody holds: no owner (claimed before leases existed), an expired lease, or a dead
# owner; never this process's own rows.
SQL_RECOVER: Final = {
    "reminders": """
UPDATE reminders SET status = 'pending', attempts = attempts + 1, claimed_by = NULL,
    lease_until = NULL
WHERE status = 'sending' AND (claimed_by IS NULL OR claimed_by <> :owner) AND (
    claimed_by IS NULL OR lease_until IS NULL OR lease_until <= :now
    OR claimed_by IN (SELECT value FROM json_each(:dead)))""",
    "outbox": """
UPDATE outbox SET status = 'pending', attempts = attempts + 1, claimed_by = NULL,
    lease_until = NULL
WHERE status = 'sending' AND (claimed_by IS NULL OR claimed_by <> :owner) AND (
    claimed_by IS NULL OR lease_until IS NULL OR lease_until <= :now
    OR claimed_by IN (SELECT value FROM json_each(:dead)))""",
}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def new_owner() -> str:
    """Return an id for this process: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def owner_is_dead(owner: str, *, host: str | None = None) -> bool:
    """Tell whether ``owner`` was a process of this host that no longer runs.

    Only a definite "no such process" counts: an owner of another host, a pid that now
    belongs to another process, or a check that is not permitted all count as alive (their
    rows wait for the lease to expire).
    """
    parts = owner.rsplit(":", 2)  # host:pid:random
    if len(parts) != OWNER_PARTS or not parts[1].isdigit():
        return False
    owner_host, pid = parts[0], int(parts[1])
    if owner_host != (host or socket.gethostname()) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's process: it exists
        return False
    return False


@dataclass(frozen=True)
class Lease:
    """This process's claims: its owner id, how long a claim holds, and the clock."""

    owner: str = field(default_factory=new_owner)
    duration: timedelta = LEASE_DURATION
    clock: Callable[[], datetime] = _utc_now

    def until(self) -> str:
        """Return the expiry of a claim made now, as stored (UTC text)."""
        return _utc_text(self.clock() + self.duration)

    def params(self) -> dict[str, str]:
        """Return the named parameters ``:owner`` and ``:until`` of a claim."""
        return {"owner": self.owner, "until": self.until()}

    async def renew(self, db: Database) -> int:
        """Extend the leases of this process's rows in flight; return how many."""
        renewed = 0
        for table in TABLES:
            renewed += await db.execute(SQL_RENEW[table], self.params())
        return renewed


async def recover(db: Database, lease: Lease, tables: Iterable[str] = TABLES) -> int:
    """Put rows in flight that nobody holds any more back to pending; return how many.

    Those rows were perhaps sent, perhaps not: they go out (again), at least once.
    """
    recovered = 0
    async with db.transaction():
        for table in tables:
            owners = [row[0] for row in await db.fetchall(SQL_OWNERS[table])]
            dead = [o for o in owners if o and o != lease.owner and owner_is_dead(o)]
            recovered += await db.execute(
                SQL_RECOVER[table],
                {"owner": lease.owner, "now": _utc_text(lease.clock()), "dead": json.dumps(dead)},
            )
    return recovered


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")
