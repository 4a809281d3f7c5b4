"""What the bot holds about one person (/meine_daten) and deleting it (/daten_loeschen).

A person is a private chat: the chat id is their Telegram user id. Everything the bot keeps
about them is in the database (no PicklePersistence, no other store), in these tables:
``subscribers``, ``subscriptions``, ``reminders``, ``outbox``, ``account_flows`` (an open
/konto or /kennwort dialog), ``account_requests`` (code requests of the last hour), the link
in ``members`` (or, with the LDAP directory, in ``directory_links``), and, for admins,
``admins``, ``admin_menus`` and their own ``audit`` entries, and their "Ich komme" choices in
``attendance`` (with the first name they chose to share), and an admin's open dialogs
(``dialog_states``, ``dialog_drafts``: a half-written meeting or circular).

Deletion removes the chat's rows in one transaction, unlinks the member record (which stays:
it belongs to the membership), detaches the request counters from the chat (the per-address
counter stays until the hour is over, keyed by an HMAC, so deleting cannot reset the limit
that protects a mailbox), removes the ``admin_menus`` row, pseudonymises the audit rows that
name the person (as actor or as the admin added or removed: a random pseudonym, the same for
all rows of one deletion) and writes an audit entry that says a deletion happened, with counts
only. Admin rights are not personal data of a member and stay (``/admin_entfernen``).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Final

from storage import attendance as attendance_store
from storage import drafts as drafts_store
from storage import outbox as outbox_store
from storage import reminders as reminder_store
from storage.admins import audit_naming, forget_person, write_audit
from storage.codecs import utc_text
from storage.codes import forget_chat
from storage.ldap_directory import unlink_chat as unlink_entry
from storage.mail_jobs import delete_chat_rows as delete_mail_rows
from storage.members import unlink_chat as unlink_member
from storage.subscriptions import delete_subscriber

if TYPE_CHECKING:
    import sqlite3
    from datetime import datetime

    from storage.db import Database

AUDIT_DELETED: Final = "personal_data_deleted"
EXPORT_FORMAT: Final = 1

SQL_SUBSCRIBER: Final = "SELECT * FROM subscribers WHERE chat_id = ?"
SQL_SUBSCRIPTIONS: Final = (
    "SELECT topic, target, created_at FROM subscriptions WHERE chat_id = ? ORDER BY created_at"
)
SQL_REMINDERS: Final = "SELECT * FROM reminders WHERE chat_id = ? ORDER BY due_at, id"
SQL_OUTBOX: Final = "SELECT * FROM outbox WHERE chat_id = ? ORDER BY due_at, id"
SQL_MEMBER: Final = """
SELECT email, name, network_slug, status, password_hash IS NOT NULL AS has_password,
    password_changed_at, linked_at, created_at, updated_at
FROM members WHERE telegram_user_id = ?"""
SQL_FLOW: Final = """
SELECT purpose, step, attempts, started_at, expires_at FROM account_flows WHERE chat_id = ?"""
SQL_DIRECTORY_LINK: Final = """
SELECT entry_key, linked_at FROM directory_links WHERE telegram_user_id = ?"""
SQL_REQUESTS: Final = "SELECT at FROM account_requests WHERE chat_id = ? ORDER BY at"
SQL_ADMIN: Final = "SELECT added_by, added_at FROM admins WHERE user_id = ?"
SQL_ADMIN_MENU: Final = "SELECT set_at FROM admin_menus WHERE user_id = ?"


@dataclass(frozen=True, slots=True)
class Deletion:
    """How many rows of each kind a deletion removed (what the audit entry records)."""

    subscriptions: int
    reminders: int
    outbox: int
    settings: int
    dialogs: int
    links: int
    attendance: int = 0
    admin_menus: int = 0
    audit_entries: int = 0

    @property
    def total(self) -> int:
        """Return the number of removed rows and links."""
        return sum(asdict(self).values())


def _row(row: sqlite3.Row | None, *, json_columns: tuple[str, ...] = ()) -> dict[str, Any] | None:
    if row is None:
        return None
    data = dict(row)
    for column in json_columns:
        if isinstance(data.get(column), str):
            data[column] = json.loads(data[column])
    return data


async def _rows(
    db: Database, sql: str, key: int, *, json_columns: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    rows = await db.fetchall(sql, (key,))
    return [d for row in rows if (d := _row(row, json_columns=json_columns)) is not None]


async def export_chat_data(db: Database, chat_id: int, *, now: datetime) -> dict[str, Any]:
    """Return everything the bot holds about a private chat's person, as plain JSON data.

    Only a password's existence and date are given, never its hash; an open dialog's code
    is held only as an HMAC and is not given either.
    """
    async with db.snapshot():
        member = _row(await db.fetchone(SQL_MEMBER, (chat_id,)))
        if member is not None:
            member["has_password"] = bool(member["has_password"])
        return {
            "format": EXPORT_FORMAT,
            "created_at": utc_text(now),
            "telegram_user_id": chat_id,
            "subscriber": _row(
                await db.fetchone(SQL_SUBSCRIBER, (chat_id,)), json_columns=("leads", "stopped")
            ),
            "subscriptions": await _rows(db, SQL_SUBSCRIPTIONS, chat_id),
            "reminders": await _rows(db, SQL_REMINDERS, chat_id),
            "outbox": await _rows(db, SQL_OUTBOX, chat_id, json_columns=("payload",)),
            # "Ich komme": the meetings the person said they come to, and a shared first name.
            "attendance": await attendance_store.export_rows(db, chat_id),
            # An admin's open dialogs: /termin_neu, /rundschreiben and their drafts.
            "admin_dialogs": await drafts_store.export_rows(db, chat_id),
            "member": member,
            # The link to an LDAP directory's entry (its stable id); the entry is the directory's.
            "directory_link": _row(await db.fetchone(SQL_DIRECTORY_LINK, (chat_id,))),
            "account_dialog": _row(await db.fetchone(SQL_FLOW, (chat_id,))),
            "code_requests": [str(r[0]) for r in await db.fetchall(SQL_REQUESTS, (chat_id,))],
            "admin": _row(await db.fetchone(SQL_ADMIN, (chat_id,))),
            "admin_menu": _row(await db.fetchone(SQL_ADMIN_MENU, (chat_id,))),
            "audit_entries": await audit_naming(db, chat_id),
        }


async def delete_chat_data(db: Database, chat_id: int, *, now: datetime) -> Deletion:
    """Delete what the bot holds about a private chat's person, in one transaction.

    The caller must also drop the chat from ``AccountStore``'s cache (``forget``).
    """
    async with db.transaction():
        # Each table is written by its own store; this only orders them in one transaction.
        outbox = await outbox_store.delete_chat_rows(db, chat_id)
        reminders = await reminder_store.delete_chat_rows(db, chat_id)
        subscriptions, settings = await delete_subscriber(db, chat_id)
        dialogs = await forget_chat(db, chat_id)
        await delete_mail_rows(db, chat_id)  # a queued code or confirmation, with its address
        links = await unlink_member(db, chat_id, now=now)
        links += await unlink_entry(db, chat_id)
        attendance = await attendance_store.delete_chat_rows(db, chat_id)
        dialogs += await drafts_store.delete_chat_rows(db, chat_id)
        pseudonym = f"person-{secrets.token_hex(4)}"
        menus, audited = await forget_person(db, chat_id, pseudonym=pseudonym)
        deletion = Deletion(
            subscriptions,
            reminders,
            outbox,
            settings,
            dialogs,
            links,
            attendance=attendance,
            admin_menus=menus,
            audit_entries=audited,
        )
        # Who asked is not recorded: the entry must not keep what was just deleted.
        await write_audit(db, None, AUDIT_DELETED, asdict(deletion), now=now)
    return deletion
