"""Mails to send, as rows: a code or a confirmation survives a restart.

A handler replies first and then adds a row (the same work for every address, so nothing
tells whether an address exists). The mail worker (:mod:`bot.delivery.mail`) takes the due
rows, does what depends on the address (looking the member up, making the code) and sends the
mail; a transient SMTP failure puts the row back with a later due time, a permanent one ends
it ``failed``. A code row ends ``expired`` when its code's validity (10 minutes) ran out before
the mail could go. The typed address is cleared when a row ends; ended rows are deleted after
a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final, Literal

from storage.codecs import parse_utc, utc_text

if TYPE_CHECKING:
    from storage.db import Database

MailKind = Literal["code", "changed", "locked"]
KIND_CODE: Final = "code"
KIND_CHANGED: Final = "changed"
KIND_LOCKED: Final = "locked"  # codes for the member's address are paused (too many wrong)
KEEP_ENDED: Final = timedelta(days=1)

SQL_ADD: Final = """
INSERT INTO mail_jobs (kind, chat_id, purpose, email, member_id, nonce, status, attempts,
    due_at, expires_at, created_at)
VALUES (:kind, :chat_id, :purpose, :email, :member_id, :nonce, 'pending', 0, :now, :expires_at,
    :now)"""
SQL_DUE: Final = """
SELECT id, kind, chat_id, purpose, email, member_id, nonce, attempts, due_at, expires_at
FROM mail_jobs WHERE status = 'pending' AND due_at <= :now ORDER BY due_at, id LIMIT :limit"""
SQL_NEXT_DUE: Final = "SELECT MIN(due_at) FROM mail_jobs WHERE status = 'pending'"
SQL_END: Final = """
UPDATE mail_jobs SET status = :status, email = NULL, attempts = attempts + :tried,
    last_error = :error, ended_at = :now
WHERE id = :id AND status = 'pending'"""
SQL_RETRY: Final = """
UPDATE mail_jobs SET attempts = attempts + 1, due_at = :due_at, last_error = :error
WHERE id = :id AND status = 'pending'"""
SQL_PURGE: Final = "DELETE FROM mail_jobs WHERE status <> 'pending' AND ended_at < ?"
SQL_DELETE_CHAT: Final = "DELETE FROM mail_jobs WHERE chat_id = ?"


async def delete_chat_rows(db: Database, chat_id: int) -> int:
    """Delete a chat's mail rows inside the caller's transaction (/daten_loeschen)."""
    return await db.execute(SQL_DELETE_CHAT, (chat_id,))


@dataclass(frozen=True, slots=True)
class MailJob:
    """One mail to make and send."""

    id: int
    kind: str
    chat_id: int
    purpose: str | None
    email: str | None
    member_id: int | None
    nonce: str | None
    attempts: int
    due_at: datetime
    expires_at: datetime


class MailJobStore:
    """The mails waiting to be made and sent, and what became of them."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        kind: MailKind,
        chat_id: int,
        *,
        now: datetime,
        expires_at: datetime,
        purpose: str | None = None,
        email: str | None = None,
        member_id: int | None = None,
        nonce: str | None = None,
    ) -> None:
        """Add a mail to send as soon as possible, until ``expires_at``."""
        params = {
            "kind": kind,
            "chat_id": chat_id,
            "purpose": purpose,
            "email": email,
            "member_id": member_id,
            "nonce": nonce,
            "now": utc_text(now),
            "expires_at": utc_text(expires_at),
        }
        async with self._db.transaction():
            await self._db.execute(SQL_ADD, params)

    async def due(self, now: datetime, *, limit: int = 50) -> list[MailJob]:
        """Return the pending rows due by ``now``, earliest first."""
        rows = await self._db.fetchall(SQL_DUE, {"now": utc_text(now), "limit": limit})
        return [
            MailJob(
                id=int(row["id"]),
                kind=str(row["kind"]),
                chat_id=int(row["chat_id"]),
                purpose=row["purpose"],
                email=row["email"],
                member_id=row["member_id"],
                nonce=row["nonce"],
                attempts=int(row["attempts"]),
                due_at=parse_utc(row["due_at"]),
                expires_at=parse_utc(row["expires_at"]),
            )
            for row in rows
        ]

    async def next_due(self) -> datetime | None:
        """Return when the earliest pending row is due, if any."""
        row = await self._db.fetchone(SQL_NEXT_DUE)
        return None if row is None or row[0] is None else parse_utc(row[0])

    async def end(
        self,
        job_id: int,
        status: str,
        *,
        now: datetime,
        error: str | None = None,
        tried: bool = True,
    ) -> bool:
        """End a row (``sent``, ``skipped``, ``failed``, ``expired``); forget its address."""
        params = {
            "id": job_id,
            "status": status,
            "error": error,
            "now": utc_text(now),
            "tried": int(tried),
        }
        async with self._db.transaction():
            ended = await self._db.execute(SQL_END, params) == 1
            await self._db.execute(SQL_PURGE, (utc_text(now - KEEP_ENDED),))
        return ended

    async def retry(self, job_id: int, *, at: datetime, error: str) -> bool:
        """Put a row back for another try at ``at`` (a transient SMTP failure)."""
        params = {"id": job_id, "due_at": utc_text(at), "error": error}
        return await self._db.execute(SQL_RETRY, params) == 1
