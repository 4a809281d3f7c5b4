"""Admins and the audit log on a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from storage.admins import AdminStore, LastAdminError, PermanentAdminError

if TYPE_CHECKING:
    from storage.db import Database

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


async def test_environment_admins_are_permanent(db: Database) -> None:
    """Admins from the environment are admins and cannot be removed in the chat."""
    admins = AdminStore(db, permanent=frozenset({1}))
    assert await admins.is_admin(1)
    assert not await admins.is_admin(2)
    with pytest.raises(PermanentAdminError):
        await admins.remove(1, by=1, now=NOW)


async def test_add_and_remove_are_audited(db: Database) -> None:
    """Adding and removing write audit rows: who, when, what."""
    admins = AdminStore(db, permanent=frozenset({1}))
    assert await admins.add(2, by=1, now=NOW)
    assert not await admins.add(2, by=1, now=NOW), "already an admin"
    assert await admins.is_admin(2)
    assert await AdminStore(db, permanent=frozenset()).is_admin(2), "stored, not only cached"
    assert await admins.all() == [(1, True), (2, False)]
    assert await admins.remove(2, by=1, now=NOW)
    assert not await admins.is_admin(2)
    assert not await admins.remove(2, by=1, now=NOW)
    entries = await admins.latest()
    assert [(e.actor, e.action, dict(e.detail)) for e in entries] == [
        (1, "admin_removed", {"user_id": 2}),
        (1, "admin_added", {"user_id": 2}),
    ]
    assert entries[0].at == NOW


async def test_never_the_last_admin(db: Database) -> None:
    """Without environment admins, the last chat-added admin stays."""
    admins = AdminStore(db, permanent=frozenset())
    await admins.add(5, by=5, now=NOW)
    await admins.add(6, by=5, now=NOW)
    assert await admins.remove(6, by=5, now=NOW)
    with pytest.raises(LastAdminError):
        await admins.remove(5, by=5, now=NOW)
    assert await admins.is_admin(5)


async def test_menu_bookkeeping(db: Database) -> None:
    """The admin menu is recorded once set and forgotten on removal."""
    admins = AdminStore(db, permanent=frozenset({1}))
    await admins.add(2, by=1, now=NOW)
    assert not await admins.menu_set(2)
    await admins.record_menu(2, now=NOW)
    assert await admins.menu_set(2)
    await admins.remove(2, by=1, now=NOW)
    assert not await admins.menu_set(2)
