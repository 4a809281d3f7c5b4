"""Admins and the audit log.

Admins from ``NETZWERKBOT_ADMINS`` are permanent and live only in the environment; admins
added in the chat are rows here and can be removed again, never the last admin. Every admin
action is an audit row: who, when, what (details without secrets or message texts).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from storage.errors import StorageError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from storage.db import Database

SQL_ADMIN_IDS: Final = "SELECT user_id FROM admins ORDER BY added_at, user_id"
SQL_IS_ADMIN: Final = "SELECT 1 FROM admins WHERE user_id = ?"
SQL_ADD_ADMIN: Final = (
    "INSERT INTO admins (user_id, added_by, added_at) VALUES (?, ?, ?) "
    "ON CONFLICT (user_id) DO NOTHING"
)
SQL_REMOVE_ADMIN: Final = "DELETE FROM admins WHERE user_id = ?"
SQL_COUNT_ADMINS: Final = "SELECT COUNT(*) FROM admins"
SQL_MENU_SET: Final = "SELECT 1 FROM admin_menus WHERE user_id = ?"
SQL_RECORD_MENU: Final = (
    "INSERT INTO admin_menus (user_id, set_at) VALUES (?, ?) "
    "ON CONFLICT (user_id) DO UPDATE SET set_at = excluded.set_at"
)
SQL_FORGET_MENU: Final = "DELETE FROM admin_menus WHERE user_id = ?"
SQL_AUDIT: Final = "INSERT INTO audit (at, actor, action, detail) VALUES (?, ?, ?, ?)"
# The audit rows that name a person: as the one who acted, or as the one acted upon.
SQL_AUDIT_NAMING: Final = """
SELECT id, at, actor, action, detail FROM audit
WHERE actor = :user OR json_extract(detail, '$.user_id') = :user ORDER BY id"""
SQL_PSEUDONYMISE_AUDIT: Final = "UPDATE audit SET actor = NULL, detail = :detail WHERE id = :id"
SQL_LATEST_AUDIT: Final = (
    "SELECT id, at, actor, action, detail FROM audit ORDER BY id DESC LIMIT ?"
)


class LastAdminError(StorageError):
    """The last admin cannot be removed."""


class PermanentAdminError(StorageError):
    """Admins from the environment cannot be removed in the chat."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One admin action."""

    id: int
    at: datetime
    actor: int | None
    action: str
    detail: Mapping[str, Any]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


async def audit_naming(db: Database, user_id: int) -> list[dict[str, Any]]:
    """Return the audit rows that name a person (for their /meine_daten export)."""
    rows = await db.fetchall(SQL_AUDIT_NAMING, {"user": user_id})
    return [
        {
            "at": row["at"],
            "actor": row["actor"],
            "action": row["action"],
            "detail": json.loads(row["detail"]),
        }
        for row in rows
    ]


async def forget_person(db: Database, user_id: int, *, pseudonym: str) -> tuple[int, int]:
    """Remove a person from the admins' records (inside the caller's transaction).

    Their ``admin_menus`` row goes (it is set again if they are still an admin and write);
    audit rows that name them keep what happened, but the person becomes ``pseudonym``,
    the same within one deletion, so the log still shows that one person did those things.
    Admin rights themselves (``admins``) stay: they are removed with /admin_entfernen.
    Returns the number of deleted menu rows and of pseudonymised audit rows.
    """
    menus = await db.execute(SQL_FORGET_MENU, (user_id,))
    rows = await db.fetchall(SQL_AUDIT_NAMING, {"user": user_id})
    for row in rows:
        detail = json.loads(row["detail"])
        if detail.get("user_id") == user_id:
            detail["user_id"] = pseudonym
        if row["actor"] == user_id:
            detail["actor"] = pseudonym
        await db.execute(
            SQL_PSEUDONYMISE_AUDIT,
            {"id": row["id"], "detail": json.dumps(detail, ensure_ascii=False)},
        )
    return menus, len(rows)


async def write_audit(
    db: Database, actor: int | None, action: str, detail: Mapping[str, Any], *, now: datetime
) -> None:
    """Write an audit row inside the caller's open transaction (actor None: the CLI)."""
    await db.execute(
        SQL_AUDIT, (_iso(now), actor, action, json.dumps(dict(detail), ensure_ascii=False))
    )


class AdminStore:
    """Who may use the admin commands: the environment's admins and those added in chat."""

    def __init__(self, db: Database, *, permanent: frozenset[int]) -> None:
        self._db = db
        self.permanent = permanent
        # Admins added in the chat, cached: every update asks, and only this store writes.
        self._added: set[int] | None = None

    async def _added_ids(self) -> set[int]:
        if self._added is None:
            self._added = {int(row[0]) for row in await self._db.fetchall(SQL_ADMIN_IDS)}
        return self._added

    async def is_admin(self, user_id: int) -> bool:
        """Tell whether this Telegram user is an admin."""
        return user_id in self.permanent or user_id in await self._added_ids()

    async def all(self) -> list[tuple[int, bool]]:
        """Return every admin with whether they are permanent (from the environment)."""
        added = await self._added_ids()
        return [(uid, True) for uid in sorted(self.permanent)] + [
            (uid, False) for uid in sorted(added - self.permanent)
        ]

    async def add(self, user_id: int, *, by: int, now: datetime) -> bool:
        """Make someone an admin; False if they already are. Audited in the same transaction."""
        if await self.is_admin(user_id):
            return False
        async with self._db.transaction():
            await self._db.execute(SQL_ADD_ADMIN, (user_id, by, _iso(now)))
            await self._audit(by, "admin_added", {"user_id": user_id}, now)
        (await self._added_ids()).add(user_id)
        return True

    async def remove(self, user_id: int, *, by: int, now: datetime) -> bool:
        """Remove an admin added in the chat; never a permanent one, never the last one."""
        if user_id in self.permanent:
            raise PermanentAdminError(str(user_id))
        async with self._db.transaction():
            if await self._db.fetchone(SQL_IS_ADMIN, (user_id,)) is None:
                return False
            row = await self._db.fetchone(SQL_COUNT_ADMINS)
            if not self.permanent and row is not None and int(row[0]) <= 1:
                raise LastAdminError(str(user_id))
            await self._db.execute(SQL_REMOVE_ADMIN, (user_id,))
            await self._db.execute(SQL_FORGET_MENU, (user_id,))
            await self._audit(by, "admin_removed", {"user_id": user_id}, now)
        (await self._added_ids()).discard(user_id)
        return True

    async def menu_set(self, user_id: int) -> bool:
        """Tell whether this admin's own command menu has been set."""
        return await self._db.fetchone(SQL_MENU_SET, (user_id,)) is not None

    async def record_menu(self, user_id: int, *, now: datetime) -> None:
        """Remember that this admin's command menu is set."""
        async with self._db.transaction():
            await self._db.execute(SQL_RECORD_MENU, (user_id, _iso(now)))

    async def audit(
        self, actor: int | None, action: str, detail: Mapping[str, Any], *, now: datetime
    ) -> None:
        """Write one audit row in a transaction of its own."""
        async with self._db.transaction():
            await write_audit(self._db, actor, action, detail, now=now)

    async def _audit(
        self, actor: int | None, action: str, detail: Mapping[str, Any], now: datetime
    ) -> None:
        await write_audit(self._db, actor, action, detail, now=now)

    async def latest(self, limit: int = 20) -> list[AuditEntry]:
        """Return the latest audit entries, newest first."""
        rows = await self._db.fetchall(SQL_LATEST_AUDIT, (limit,))
        return [
            AuditEntry(
                id=int(row[0]),
                at=datetime.fromisoformat(row[1]),
                actor=None if row[2] is None else int(row[2]),
                action=str(row[3]),
                detail=json.loads(row[4]),
            )
            for row in rows
        ]
