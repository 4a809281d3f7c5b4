"""Leases on in-flight rows: who claimed a reminder or outbox row, and until when.

A row goes ``pending`` -> ``sending`` when a process claims it, just before its request
leaves. The claim records the process (:attr:`Lease.owner`, host, pid and a random part) and
an expiry (:attr:`Lease.until`). The process renews its leases while it runs (every wake of
the dispatcher; each table's store renews its own rows, ``renew_leases``); a row whose lease
expired, or whose owner is a process of this host that no longer exists, belongs to nobody
and goes back to ``pending`` (each store's ``recover_in_flight``, with
:func:`recover_params`). This module holds no SQL: the tables belong to their stores. So a
second process on the same database never takes back the rows of a live one (they would go
out twice), while the rows of a crashed one come back at once when it ran on this host and
after at most :data:`LEASE_DURATION` otherwise.
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


# Long enough for a row held across a flood pause (retry_after) between two renewals.
LEASE_DURATION: Final = timedelta(minutes=2)
OWNER_PARTS: Final = 3


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


def dead_owners(owners: Iterable[str | None], lease: Lease) -> str:
    """Return, as a JSON list for ``json_each``, the owners that are dead processes."""
    return json.dumps([o for o in owners if o and o != lease.owner and owner_is_dead(o)])


def recover_params(owners: Iterable[str | None], lease: Lease) -> dict[str, str]:
    """Return the named parameters of a table's recovery: ``:owner``, ``:now``, ``:dead``."""
    return {
        "owner": lease.owner,
        "now": _utc_text(lease.clock()),
        "dead": dead_owners(owners, lease),
    }


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")
