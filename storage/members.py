"""The member directory: who is a member, their password hash and their linked Telegram user.

The bot uses the directory only through :class:`MemberDirectory`, so that a member portal's
API can replace the embedded SQLite directory (:class:`MemberStore`) later. The directory
owns the passwords: the bot hands it a new password and asks it to check one, and never sees
a hash. E-mail addresses are normalised by the caller (``bot.domain.account.normalize_email``) and
unique regardless of case.

Members come from ``netzwerkbot members import FILE.csv`` (columns ``email,name,network``);
a file with a bad row changes nothing, and every bad row is listed with its line number. With
``--sync`` the file is the whole list: active members missing from it are deactivated.
Members who leave are deactivated (``members deactivate``: the record stays, the link to a chat
and every open dialog end, and the bot treats the address like an unknown one) or deleted
(``members delete``: the record, its password hash and its link are erased). Both are audited
with the member's id only, never the address.
"""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Final, Literal, Protocol, cast

from bot.domain.account import normalize_email
from bot.domain.text import N_, has_control_characters
from storage.admins import write_audit
from storage.codecs import parse_utc, utc_text
from storage.codes import end_member_flows
from storage.errors import StorageError

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from bot.domain.account import Passwords
    from storage.db import Database

MemberStatus = Literal["active", "inactive"]
COLUMNS: Final = ("email", "name", "network")
MAX_NAME_LENGTH: Final = 200

# Import problems (English msgids; the CLI shows them in German).
PROBLEM_COLUMNS: Final = N_("the first line must name the columns email, name, network")
PROBLEM_FIELDS: Final = N_("expected 3 fields (email, name, network), found {count}")
PROBLEM_EMAIL: Final = N_("{value!r} is not an e-mail address")
PROBLEM_NAME: Final = N_("the name is empty or longer than 200 characters")
PROBLEM_NAME_CONTROL: Final = N_(
    "the name contains a control character (such as a tab, a line break or an escape)"
)
PROBLEM_NETWORK: Final = N_("there is no network with the slug {value!r}")
PROBLEM_DUPLICATE_EMAIL: Final = N_("the address occurs already in line {other}")
PROBLEM_EMPTY_FILE: Final = N_("the file contains no members")
PROBLEM_UNREADABLE: Final = N_(
    "from here on the file cannot be read: a field is far too long, perhaps because a "
    "quotation mark is not closed"
)

SQL_COLUMNS: Final = """
id, email, name, network_slug, status, password_hash IS NOT NULL AS has_password,
password_changed_at, telegram_user_id, linked_at, created_at, updated_at"""
SQL_ALL: Final = f"SELECT {SQL_COLUMNS} FROM members ORDER BY email"  # noqa: S608 - constant
SQL_BY_EMAIL: Final = f"SELECT {SQL_COLUMNS} FROM members WHERE email = ?"  # noqa: S608
SQL_BY_ID: Final = f"SELECT {SQL_COLUMNS} FROM members WHERE id = ?"  # noqa: S608
SQL_BY_USER: Final = f"SELECT {SQL_COLUMNS} FROM members WHERE telegram_user_id = ?"  # noqa: S608
SQL_HASH_BY_EMAIL: Final = (
    "SELECT password_hash FROM members WHERE email = ? AND status = 'active'"
)
SQL_NETWORK_SLUGS: Final = "SELECT slug FROM networks"
# A member in the file is a member: an import makes a deactivated one active again.
SQL_UPSERT: Final = """
INSERT INTO members (email, name, network_slug, status, created_at, updated_at)
VALUES (:email, :name, :network, 'active', :now, :now)
ON CONFLICT (email) DO UPDATE SET
    name = excluded.name, network_slug = excluded.network_slug, status = 'active',
    updated_at = excluded.updated_at
WHERE name IS NOT excluded.name OR network_slug IS NOT excluded.network_slug
    OR status <> 'active'"""
SQL_ACTIVE_EMAILS: Final = "SELECT id, email FROM members WHERE status = 'active' ORDER BY email"
SQL_DEACTIVATE: Final = """
UPDATE members SET status = 'inactive', telegram_user_id = NULL, linked_at = NULL,
    updated_at = :now
WHERE id = :member_id AND status = 'active'"""
SQL_DELETE_MEMBER: Final = "DELETE FROM members WHERE id = ?"
AUDIT_DEACTIVATED: Final = "member_deactivated"
AUDIT_DELETED: Final = "member_deleted"
SQL_EXISTS: Final = "SELECT 1 FROM members WHERE email = ?"
SQL_UNLINK_USER: Final = """
UPDATE members SET telegram_user_id = NULL, linked_at = NULL, updated_at = :now
WHERE telegram_user_id = :user_id"""
SQL_LINK: Final = """
UPDATE members SET telegram_user_id = :user_id, linked_at = :now, updated_at = :now
WHERE id = :member_id AND status = 'active'"""
SQL_SET_PASSWORD: Final = """
UPDATE members SET password_hash = :hash, password_changed_at = :now, updated_at = :now
WHERE id = :member_id AND status = 'active'"""  # noqa: S105 - SQL, not a password


class MemberImportError(StorageError):
    """A member file has bad rows; nothing was imported."""

    def __init__(self, problems: Sequence[ImportProblem]) -> None:
        super().__init__(f"{len(problems)} bad rows")
        self.problems = tuple(problems)


class UnknownMember(StorageError):
    """The member does not exist (any more) or is not active."""


class DirectoryUnavailable(StorageError):
    """The directory cannot be reached now (an LDAP server down, a refused service login).

    Whoever raises it has logged why; the person is told to try again later.
    """


class PasswordRefusal(StrEnum):
    """Why a directory's own password policy refused a new password."""

    TOO_SHORT = "too_short"
    IN_HISTORY = "in_history"
    QUALITY = "quality"
    TOO_YOUNG = "too_young"
    # Active Directory's refusal (0000052D) does not say which rule: length, complexity or
    # history.
    POLICY = "policy"
    OTHER = "other"


class PasswordRefused(StorageError):
    """The directory's password policy refused the new password; nothing changed."""

    def __init__(self, reason: PasswordRefusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One bad row of a member file: its line, an English msgid and the msgid's values."""

    line: int
    problem: str
    params: tuple[tuple[str, str], ...] = ()

    def describe(self, gettext: Callable[[str], str]) -> str:
        """Return the translated problem with its line number."""
        text = gettext(self.problem).format(**dict(self.params))
        return gettext("line {line}: {problem}").format(line=self.line, problem=text)


@dataclass(frozen=True, slots=True)
class MemberRow:
    """One member as read from an import file."""

    line: int
    email: str
    name: str
    network: str


@dataclass(frozen=True, slots=True)
class ImportCounts:
    """What an import changed."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    # With ``sync``: the addresses of the active members missing from the file, deactivated.
    deactivated: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Member:
    """A member as the bot sees it; never the password hash.

    ``id`` is the bot's own integer id (for an LDAP entry: its row in ``directory_links``).
    ``has_password``, ``created_at`` and ``updated_at`` are None where the directory does not
    tell the bot (LDAP).
    """

    id: int
    email: str
    name: str
    network: str | None
    status: MemberStatus
    has_password: bool | None
    password_changed_at: datetime | None
    telegram_user_id: int | None
    linked_at: datetime | None
    created_at: datetime | None
    updated_at: datetime | None

    @property
    def active(self) -> bool:
        """Tell whether the member may link chats and change the password."""
        return self.status == "active"


class MemberDirectory(Protocol):
    """What the bot needs from a member directory (the embedded one, or LDAP).

    Addresses are passed normalised (lower-case). Linking is by Telegram user id; a user is
    linked to at most one member and a member to at most one user, so linking moves a link.
    Only active members are found by an LDAP directory; the embedded one also returns
    inactive ones (``status``), which the bot treats like unknown addresses. Any method may
    raise :class:`DirectoryUnavailable` (logged by the directory).
    """

    async def check_available(self) -> None:
        """Return if the directory can be used now; raise DirectoryUnavailable if not.

        Raises:
            DirectoryUnavailable: the directory cannot be reached.
        """
        ...

    def close(self) -> None:
        """Release what the directory holds besides the database (threads)."""
        ...

    async def find(self, email: str) -> Member | None:
        """Return the member with this address, if any."""
        ...

    async def get(self, member_id: int) -> Member | None:
        """Return a member by id, if it still exists."""
        ...

    async def linked_to(self, user_id: int) -> Member | None:
        """Return the member linked to a Telegram user, if any."""
        ...

    async def link(self, member_id: int, user_id: int, *, now: datetime) -> None:
        """Link a Telegram user to an active member, moving any earlier link of either.

        Raises:
            UnknownMember: the member does not exist or is not active.
        """
        ...

    async def unlink(self, user_id: int, *, now: datetime) -> bool:
        """Remove a Telegram user's link; False if there was none."""
        ...

    async def set_password(self, member_id: int, password: str, *, now: datetime) -> None:
        """Store a new password (the directory hashes it) for an active member.

        Raises:
            UnknownMember: the member does not exist or is not active.
            PasswordRefused: the directory's own password policy refused it.
        """
        ...

    async def check_password(self, email: str, password: str) -> bool:
        """Tell whether the password is an active member's current one."""
        ...


def _opt_time(value: object) -> datetime | None:
    return None if value is None else parse_utc(str(value))


def _member(row: sqlite3.Row) -> Member:
    return Member(
        id=int(row["id"]),
        email=str(row["email"]),
        name=str(row["name"]),
        network=None if row["network_slug"] is None else str(row["network_slug"]),
        status=cast("MemberStatus", row["status"]),
        has_password=bool(row["has_password"]),
        password_changed_at=_opt_time(row["password_changed_at"]),
        telegram_user_id=None if row["telegram_user_id"] is None else int(row["telegram_user_id"]),
        linked_at=_opt_time(row["linked_at"]),
        created_at=parse_utc(str(row["created_at"])),
        updated_at=parse_utc(str(row["updated_at"])),
    )


def parse_members_csv(text: str) -> tuple[list[MemberRow], list[ImportProblem]]:
    """Read a member file (columns ``email,name,network``; ``;`` works too); list bad rows.

    Addresses are normalised; blank lines are skipped. Whether the networks exist is checked
    by :meth:`MemberStore.import_members`, against the data.
    """
    text = text.removeprefix("\ufeff")  # a byte order mark, as spreadsheet programs write
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=False)
    rows: list[MemberRow] = []
    problems: list[ImportProblem] = []
    try:
        header = next(reader, None)
    except csv.Error:  # a first "line" of over 131,072 characters is no header either
        header = None
    if header is None or [h.strip().lower() for h in header] != list(COLUMNS):
        return [], [ImportProblem(1, PROBLEM_COLUMNS)]
    seen: dict[str, int] = {}
    while True:
        start = reader.line_num + 1  # where the next record begins
        try:
            fields = next(reader, None)
        except csv.Error:
            # Python's csv refuses a field over 131,072 characters (an unclosed quote takes
            # the rest of the file into one field); the reader cannot go on after that.
            problems.append(ImportProblem(start, PROBLEM_UNREADABLE))
            break
        if fields is None:
            break
        line = start  # the row's first line: a quoted line break makes a row span several
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(COLUMNS):
            problems.append(ImportProblem(line, PROBLEM_FIELDS, (("count", str(len(fields))),)))
            continue
        raw_email, name, network = (f.strip() for f in fields)
        email = normalize_email(raw_email)
        if email is None:
            problems.append(ImportProblem(line, PROBLEM_EMAIL, (("value", raw_email),)))
        elif email in seen:
            problems.append(
                ImportProblem(line, PROBLEM_DUPLICATE_EMAIL, (("other", str(seen[email])),))
            )
        else:
            seen[email] = line
        if not name or len(name) > MAX_NAME_LENGTH:
            problems.append(ImportProblem(line, PROBLEM_NAME))
        elif has_control_characters(name):
            problems.append(ImportProblem(line, PROBLEM_NAME_CONTROL))
        if email is not None:
            rows.append(MemberRow(line, email, name, network))
    if not rows and not problems:
        problems.append(ImportProblem(1, PROBLEM_EMPTY_FILE))
    return rows, problems


class MemberStore:
    """The embedded member directory in the bot's SQLite database."""

    def __init__(self, db: Database, *, passwords: Passwords) -> None:
        self._db = db
        self._passwords = passwords

    async def check_available(self) -> None:
        """Return: the embedded directory is the bot's own database, always there."""

    def close(self) -> None:
        """Release nothing: the database belongs to the bot."""

    async def all(self) -> list[Member]:
        """Return every member, ordered by address."""
        return [_member(row) for row in await self._db.fetchall(SQL_ALL)]

    async def find(self, email: str) -> Member | None:
        """Return the member with this (normalised) address, if any."""
        row = await self._db.fetchone(SQL_BY_EMAIL, (email,))
        return None if row is None else _member(row)

    async def get(self, member_id: int) -> Member | None:
        """Return a member by id, if it exists."""
        row = await self._db.fetchone(SQL_BY_ID, (member_id,))
        return None if row is None else _member(row)

    async def linked_to(self, user_id: int) -> Member | None:
        """Return the member linked to a Telegram user, if any."""
        row = await self._db.fetchone(SQL_BY_USER, (user_id,))
        return None if row is None else _member(row)

    async def link(self, member_id: int, user_id: int, *, now: datetime) -> None:
        """Link a Telegram user to an active member, moving earlier links of either."""
        async with self._db.transaction():
            await link_in_transaction(self._db, member_id, user_id, now=now)

    async def unlink(self, user_id: int, *, now: datetime) -> bool:
        """Remove a Telegram user's link; False if there was none."""
        async with self._db.transaction():
            params = {"user_id": user_id, "now": utc_text(now)}
            return await self._db.execute(SQL_UNLINK_USER, params) > 0

    async def set_password(self, member_id: int, password: str, *, now: datetime) -> None:
        """Hash the password (in a thread: argon2 is slow on purpose) and store the hash."""
        hashed = await asyncio.to_thread(self._passwords.hash, password)
        async with self._db.transaction():
            params = {"hash": hashed, "now": utc_text(now), "member_id": member_id}
            if await self._db.execute(SQL_SET_PASSWORD, params) != 1:
                raise UnknownMember(str(member_id))

    async def check_password(self, email: str, password: str) -> bool:
        """Tell whether the password is an active member's current one."""
        row = await self._db.fetchone(SQL_HASH_BY_EMAIL, (email,))
        if row is None or row[0] is None:
            return False
        return await asyncio.to_thread(self._passwords.verify, str(row[0]), password)

    async def import_members(
        self,
        rows: Sequence[MemberRow],
        *,
        now: datetime,
        problems: Sequence[ImportProblem] = (),
        sync: bool = False,
    ) -> ImportCounts:
        """Add or update members in one transaction; passwords and links stay.

        ``problems`` are those the parser found; they are reported with the unknown networks.
        With ``sync``, active members missing from ``rows`` are deactivated in the same
        transaction (see :meth:`deactivate`); an empty file is refused by the parser, so a
        sync never deactivates everybody by accident of an empty file.

        Raises:
            MemberImportError: a row is bad (nothing changed); every bad row is listed.
        """
        async with self._db.transaction():
            slugs = {str(r[0]) for r in await self._db.fetchall(SQL_NETWORK_SLUGS)}
            bad = [
                *problems,
                *(
                    ImportProblem(row.line, PROBLEM_NETWORK, (("value", row.network),))
                    for row in rows
                    if row.network not in slugs
                ),
            ]
            if bad:
                raise MemberImportError(sorted(bad, key=lambda p: p.line))
            inserted = updated = unchanged = 0
            for row in rows:
                existed = await self._db.fetchone(SQL_EXISTS, (row.email,)) is not None
                params = {
                    "email": row.email,
                    "name": row.name,
                    "network": row.network,
                    "now": utc_text(now),
                }
                changed = await self._db.execute(SQL_UPSERT, params)
                if not existed:
                    inserted += 1
                elif changed:
                    updated += 1
                else:
                    unchanged += 1
            deactivated: list[str] = []
            if sync:
                listed = {row.email for row in rows}
                for active in await self._db.fetchall(SQL_ACTIVE_EMAILS):
                    if str(active["email"]) not in listed:
                        await _deactivate(self._db, int(active["id"]), now=now)
                        deactivated.append(str(active["email"]))
        return ImportCounts(inserted, updated, unchanged, tuple(deactivated))

    async def deactivate(self, email: str, *, now: datetime) -> Member | None:
        """Deactivate a member: the link to a chat and every open dialog end; audited.

        Returns the member as it is now, or None if there is no member with this address.
        Deactivating an inactive member changes nothing.
        """
        async with self._db.transaction():
            row = await self._db.fetchone(SQL_BY_EMAIL, (email,))
            if row is None:
                return None
            await _deactivate(self._db, int(row["id"]), now=now)
            row = await self._db.fetchone(SQL_BY_ID, (int(row["id"]),))
        return None if row is None else _member(row)

    async def delete(self, email: str, *, now: datetime) -> bool:
        """Erase a member with password hash, link and open dialogs; audited; False if none."""
        async with self._db.transaction():
            row = await self._db.fetchone(SQL_BY_EMAIL, (email,))
            if row is None:
                return False
            member_id = int(row["id"])
            await end_member_flows(self._db, member_id)
            await self._db.execute(SQL_DELETE_MEMBER, (member_id,))
            # The id only: the entry must not keep the address that was just erased.
            await write_audit(self._db, None, AUDIT_DELETED, {"member_id": member_id}, now=now)
        return True


async def unlink_chat(db: Database, chat_id: int, *, now: datetime) -> int:
    """Remove a Telegram user's link to a member, inside the caller's transaction."""
    return await db.execute(
        "UPDATE members SET telegram_user_id = NULL, linked_at = NULL, updated_at = ? "
        "WHERE telegram_user_id = ?",
        (utc_text(now), chat_id),
    )


async def _deactivate(db: Database, member_id: int, *, now: datetime) -> bool:
    """Deactivate an active member inside the caller's transaction; False if not active."""
    params = {"member_id": member_id, "now": utc_text(now)}
    if await db.execute(SQL_DEACTIVATE, params) != 1:
        return False
    await end_member_flows(db, member_id)
    await write_audit(db, None, AUDIT_DEACTIVATED, {"member_id": member_id}, now=now)
    return True


async def link_in_transaction(
    db: Database, member_id: int, user_id: int, *, now: datetime
) -> None:
    """Link a user to a member inside the caller's transaction (moving earlier links).

    Raises:
        UnknownMember: the member does not exist or is not active.
    """
    stamp = utc_text(now)
    await db.execute(SQL_UNLINK_USER, {"user_id": user_id, "now": stamp})
    row = await db.fetchone(SQL_BY_ID, (member_id,))
    if row is not None and row["telegram_user_id"] is not None:
        await db.execute(SQL_UNLINK_USER, {"user_id": row["telegram_user_id"], "now": stamp})
    params = {"user_id": user_id, "now": stamp, "member_id": member_id}
    if await db.execute(SQL_LINK, params) != 1:
        raise UnknownMember(str(member_id))
