"""The state of the account dialogs (/konto, /kennwort): steps, codes, attempts, rate limits.

One row per chat in ``account_flows``: the step (``email`` -> ``code`` -> ``password``), the
code only as an HMAC (``bot.domain.account.Keyring``), wrong entries so far and the step's
deadline.
Every decision takes ``now`` from the caller (the bot's injectable clock). Guarantees:

- A code is checked at most five times: each entry is first counted with
  ``UPDATE … WHERE attempts < 5``; once that changes no row, the code is void.
- A code is used once: the step moves on (or the row goes) in the transaction that accepts it.
- At most three code requests per hour per chat and per address; addresses are counted by
  their HMAC whether or not a member has them, so the limit tells nothing about existence.
- On top, ten wrong codes for one address within 24 hours (over all chats and codes) stop
  codes for that address for 24 hours; the open code of the tenth wrong entry is void.
- A new password is accepted only in the ``password`` step, before its deadline, and taking
  it deletes every open dialog of that member (all of its open codes, in every chat).

An expired or abandoned row is useless (every use checks the deadline) and is deleted when
the chat next uses the dialog, by a new dialog, or by /daten_loeschen.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from bot.domain.account import (
    CODE_TTL,
    FAILURE_WINDOW,
    LOCK_TTL,
    MAX_CODE_ATTEMPTS,
    MAX_FAILURES,
    MAX_REQUESTS,
    REQUEST_WINDOW,
    STEP_TTL,
    Purpose,
)
from storage.codecs import parse_utc, utc_text

if TYPE_CHECKING:
    import sqlite3
    from datetime import datetime

    from storage.db import Database

# How long an ended dialog stays: its chat's next message still meets it (a late password
# is deleted from the chat all the same).
DIALOG_AFTERLIFE: Final = timedelta(hours=1)

SQL_OPEN_CHATS: Final = "SELECT chat_id FROM account_flows"
SQL_FLOW: Final = "SELECT * FROM account_flows WHERE chat_id = ?"
SQL_START: Final = """
INSERT INTO account_flows (chat_id, nonce, purpose, step, started_at, expires_at)
VALUES (:chat_id, :nonce, :purpose, 'email', :now, :expires_at)
ON CONFLICT (chat_id) DO UPDATE SET
    nonce = excluded.nonce, purpose = excluded.purpose, step = 'email', member_id = NULL,
    code_digest = NULL, attempts = 0, started_at = excluded.started_at,
    expires_at = excluded.expires_at"""
SQL_DELETE: Final = "DELETE FROM account_flows WHERE chat_id = ?"
SQL_END_MEMBER_FLOWS: Final = "DELETE FROM account_flows WHERE member_id = ?"
SQL_PRUNE_REQUESTS: Final = "DELETE FROM account_requests WHERE at <= ?"
SQL_COUNT_CHAT: Final = "SELECT COUNT(*) FROM account_requests WHERE chat_id = ? AND at > ?"
SQL_COUNT_EMAIL: Final = "SELECT COUNT(*) FROM account_requests WHERE email_digest = ? AND at > ?"
SQL_RECORD_REQUEST: Final = (
    "INSERT INTO account_requests (chat_id, email_digest, at) VALUES (?, ?, ?)"
)
SQL_TO_CODE: Final = """
UPDATE account_flows SET step = 'code', nonce = :nonce, member_id = NULL, code_digest = NULL,
    attempts = 0, expires_at = :expires_at, email_digest = :email_digest
WHERE chat_id = :chat_id AND step = 'email'"""
SQL_LOCKED: Final = "SELECT 1 FROM account_locks WHERE email_digest = ? AND until > ?"
SQL_RECORD_FAILURE: Final = "INSERT INTO account_failures (email_digest, at) VALUES (?, ?)"
SQL_COUNT_FAILURES: Final = (
    "SELECT COUNT(*) FROM account_failures WHERE email_digest = ? AND at > ?"
)
SQL_LOCK: Final = """
INSERT INTO account_locks (email_digest, until) VALUES (?, ?)
ON CONFLICT (email_digest) DO UPDATE SET until = excluded.until"""
SQL_VOID_ADDRESS_CODES: Final = """
UPDATE account_flows SET attempts = :max WHERE email_digest = :email_digest AND step = 'code'"""
SQL_PURGE_FAILURES: Final = "DELETE FROM account_failures WHERE at <= ?"
SQL_PURGE_LOCKS: Final = "DELETE FROM account_locks WHERE until <= ?"
SQL_PURGE_FLOWS: Final = "DELETE FROM account_flows WHERE expires_at <= ? RETURNING chat_id"
SQL_ARM: Final = """
UPDATE account_flows SET member_id = :member_id, code_digest = :digest
WHERE chat_id = :chat_id AND nonce = :nonce AND step = 'code' AND code_digest IS NULL
    AND expires_at > :now"""
# A retried code mail brings a new code: it replaces the one whose mail did not go out, as
# long as no code has been typed yet.
SQL_REARM: Final = """
UPDATE account_flows SET member_id = :member_id, code_digest = :digest
WHERE chat_id = :chat_id AND nonce = :nonce AND step = 'code' AND attempts = 0
    AND expires_at > :now"""
SQL_COUNT_ATTEMPT: Final = """
UPDATE account_flows SET attempts = attempts + 1
WHERE chat_id = ? AND step = 'code' AND attempts < ?"""
SQL_TO_PASSWORD: Final = """
UPDATE account_flows SET step = 'password', nonce = :nonce, code_digest = NULL,
    expires_at = :expires_at
WHERE chat_id = :chat_id AND step = 'code' AND member_id IS NOT NULL"""  # noqa: S105 - SQL
SQL_DELETE_USED: Final = (
    "DELETE FROM account_flows WHERE chat_id = ? AND step = 'code' AND member_id IS NOT NULL"
)
SQL_DELETE_MEMBER_FLOWS: Final = (
    "DELETE FROM account_flows WHERE member_id = ? OR chat_id = ? RETURNING chat_id"
)
SQL_RESUME_PASSWORD: Final = """
INSERT INTO account_flows (chat_id, nonce, purpose, step, member_id, started_at, expires_at)
VALUES (:chat_id, :nonce, 'password', 'password', :member_id, :now, :expires_at)
ON CONFLICT (chat_id) DO NOTHING"""  # noqa: S105 - SQL, not a password
SQL_FORGET_CHAT_REQUESTS: Final = "UPDATE account_requests SET chat_id = NULL WHERE chat_id = ?"


class Step(StrEnum):
    """Where a dialog stands; values live in the database."""

    EMAIL = "email"
    CODE = "code"
    PASSWORD = "password"  # noqa: S105 - a step, not a password


class RequestOutcome(StrEnum):
    """What became of a request for a code."""

    ACCEPTED = "accepted"
    CHAT_LIMIT = "chat_limit"
    EMAIL_LIMIT = "email_limit"
    ADDRESS_LOCKED = "address_locked"  # too many wrong codes for it within 24 hours
    NO_DIALOG = "no_dialog"


class CodeOutcome(StrEnum):
    """What became of a typed code."""

    ACCEPTED = "accepted"
    WRONG = "wrong"
    VOID = "void"  # five wrong entries: no entry is checked any more
    EXPIRED = "expired"
    NO_DIALOG = "no_dialog"


@dataclass(frozen=True, slots=True)
class Flow:
    """One chat's open account dialog (never the code's HMAC)."""

    chat_id: int
    nonce: str
    purpose: Purpose
    step: Step
    member_id: int | None
    attempts: int
    started_at: datetime
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        """Tell whether the current step's deadline has passed."""
        return self.expires_at <= now

    @property
    def void(self) -> bool:
        """Tell whether the code had its five wrong entries."""
        return self.step == Step.CODE and self.attempts >= MAX_CODE_ATTEMPTS


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """The result of a typed code; ``member_id`` is set only when it was accepted."""

    outcome: CodeOutcome
    purpose: Purpose | None = None
    member_id: int | None = None
    remaining: int = 0
    # This wrong entry locked the address: its member (if any) gets one mail saying so.
    locked_member: int | None = None
    locked: bool = False


async def end_member_flows(db: Database, member_id: int) -> int:
    """End every open dialog of a member, inside the caller's transaction; return how many."""
    return await db.execute(SQL_END_MEMBER_FLOWS, (member_id,))


async def forget_chat(db: Database, chat_id: int) -> int:
    """End a chat's dialog and detach its code requests, inside the caller's transaction.

    The per-address counters stay (keyed by an HMAC, they protect a mailbox until their hour
    is over); only their tie to the chat goes. Returns the number of dialogs ended.
    """
    ended = await db.execute("DELETE FROM account_flows WHERE chat_id = ?", (chat_id,))
    await db.execute("UPDATE account_requests SET chat_id = NULL WHERE chat_id = ?", (chat_id,))
    return ended


def _flow(row: sqlite3.Row) -> Flow:
    return Flow(
        chat_id=int(row["chat_id"]),
        nonce=str(row["nonce"]),
        purpose=Purpose(row["purpose"]),
        step=Step(row["step"]),
        member_id=None if row["member_id"] is None else int(row["member_id"]),
        attempts=int(row["attempts"]),
        started_at=parse_utc(row["started_at"]),
        expires_at=parse_utc(row["expires_at"]),
    )


def _nonce() -> str:
    return secrets.token_hex(8)


class AccountStore:
    """The dialogs' state, in the database; a cache of which chats have one saves lookups.

    Only this store (and :func:`storage.privacy.delete_chat_data`, which calls
    :meth:`forget`) writes ``account_flows``; the cache may name a chat whose row is gone
    (harmless: the lookup finds nothing), never miss one that has a row.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._open: set[int] = set()

    async def load(self) -> None:
        """Read which chats have an open dialog (at start)."""
        self._open = {int(row[0]) for row in await self._db.fetchall(SQL_OPEN_CHATS)}

    def may_have_dialog(self, chat_id: int) -> bool:
        """Tell quickly whether a chat might have an open dialog (no database access)."""
        return chat_id in self._open

    def forget(self, chat_id: int) -> None:
        """Drop a chat from the cache after its row was deleted elsewhere."""
        self._open.discard(chat_id)

    async def get(self, chat_id: int) -> Flow | None:
        """Return the chat's dialog, expired or not (every use checks the deadline again)."""
        if chat_id not in self._open:
            return None
        row = await self._db.fetchone(SQL_FLOW, (chat_id,))
        if row is None:
            self._open.discard(chat_id)
            return None
        return _flow(row)

    async def start(self, chat_id: int, purpose: Purpose, *, now: datetime) -> None:
        """Open a dialog waiting for the e-mail address, replacing any earlier one."""
        params = {
            "chat_id": chat_id,
            "nonce": _nonce(),
            "purpose": purpose.value,
            "now": utc_text(now),
            "expires_at": utc_text(now + STEP_TTL),
        }
        async with self._db.transaction():
            await self._db.execute(SQL_START, params)
        self._open.add(chat_id)

    async def cancel(self, chat_id: int) -> bool:
        """End the chat's dialog; False if it had none."""
        async with self._db.transaction():
            deleted = await self._db.execute(SQL_DELETE, (chat_id,))
        self._open.discard(chat_id)
        return deleted > 0

    async def request_code(
        self, chat_id: int, email_digest: str, *, now: datetime
    ) -> tuple[RequestOutcome, str | None]:
        """Count a request for a code and move the dialog to the code step.

        Returns the outcome and, when accepted, the nonce the mail job must present to
        :meth:`arm`. The request counts for the chat and the address whether or not a member
        has the address; refused requests are not counted.
        """
        since = utc_text(now - REQUEST_WINDOW)
        async with self._db.transaction():
            row = await self._db.fetchone(SQL_FLOW, (chat_id,))
            if row is None or row["step"] != Step.EMAIL or parse_utc(row["expires_at"]) <= now:
                return RequestOutcome.NO_DIALOG, None
            await self._db.execute(SQL_PRUNE_REQUESTS, (since,))
            if await self._db.fetchone(SQL_LOCKED, (email_digest, utc_text(now))) is not None:
                return RequestOutcome.ADDRESS_LOCKED, None
            if await self._count(SQL_COUNT_CHAT, chat_id, since) >= MAX_REQUESTS:
                return RequestOutcome.CHAT_LIMIT, None
            if await self._count(SQL_COUNT_EMAIL, email_digest, since) >= MAX_REQUESTS:
                return RequestOutcome.EMAIL_LIMIT, None
            await self._db.execute(SQL_RECORD_REQUEST, (chat_id, email_digest, utc_text(now)))
            nonce = _nonce()
            params = {
                "nonce": nonce,
                "expires_at": utc_text(now + CODE_TTL),
                "chat_id": chat_id,
                "email_digest": email_digest,
            }
            await self._db.execute(SQL_TO_CODE, params)
        return RequestOutcome.ACCEPTED, nonce

    async def arm(
        self,
        chat_id: int,
        nonce: str,
        member_id: int,
        digest: str,
        *,
        now: datetime,
        replace: bool = False,
    ) -> bool:
        """Store the HMAC of the code just made for a member (the background mail job).

        False if the dialog moved on meanwhile (cancelled, restarted, expired, or a code was
        already typed): then no mail may be sent. ``replace``: a retried mail's new code
        takes the place of the code whose mail did not go out.
        """
        params = {
            "member_id": member_id,
            "digest": digest,
            "chat_id": chat_id,
            "nonce": nonce,
            "now": utc_text(now),
        }
        async with self._db.transaction():
            return await self._db.execute(SQL_REARM if replace else SQL_ARM, params) == 1

    async def check_code(self, chat_id: int, digest: str, *, now: datetime) -> CodeCheck:
        """Count one entry of a code, then compare it in constant time; accept it once.

        ``digest`` is the HMAC of what the person typed, computed for this chat and the
        dialog's purpose. A link dialog ends when its code is accepted; a password dialog
        moves on to the password step with a fresh deadline.
        """
        async with self._db.transaction():
            row = await self._db.fetchone(SQL_FLOW, (chat_id,))
            if row is None or row["step"] != Step.CODE:
                return CodeCheck(CodeOutcome.NO_DIALOG)
            flow = _flow(row)
            if flow.expires_at <= now:
                await self._db.execute(SQL_DELETE, (chat_id,))
                self._open.discard(chat_id)
                return CodeCheck(CodeOutcome.EXPIRED, flow.purpose)
            counted = await self._db.execute(SQL_COUNT_ATTEMPT, (chat_id, MAX_CODE_ATTEMPTS))
            if counted != 1:
                return CodeCheck(CodeOutcome.VOID, flow.purpose)
            stored = row["code_digest"]
            # Compared even when no code exists (an unknown address), against a dummy.
            same = hmac.compare_digest(digest, stored or "0" * len(digest))
            if not (same and stored is not None and flow.member_id is not None):
                if await self._count_failure(row["email_digest"], now=now):
                    return CodeCheck(
                        CodeOutcome.VOID, flow.purpose, locked_member=flow.member_id, locked=True
                    )
                remaining = MAX_CODE_ATTEMPTS - flow.attempts - 1
                outcome = CodeOutcome.WRONG if remaining > 0 else CodeOutcome.VOID
                return CodeCheck(outcome, flow.purpose, remaining=remaining)
            if flow.purpose == Purpose.LINK:
                used = await self._db.execute(SQL_DELETE_USED, (chat_id,))
                self._open.discard(chat_id)
            else:
                params = {
                    "nonce": _nonce(),
                    "expires_at": utc_text(now + STEP_TTL),
                    "chat_id": chat_id,
                }
                used = await self._db.execute(SQL_TO_PASSWORD, params)
            if used != 1:  # pragma: no cover - the transaction holds the row
                return CodeCheck(CodeOutcome.NO_DIALOG)
            return CodeCheck(CodeOutcome.ACCEPTED, flow.purpose, flow.member_id)

    async def _count_failure(self, email_digest: str | None, *, now: datetime) -> bool:
        """Count a wrong code for its address (inside the caller's transaction).

        Returns True when this one reached the limit: the address is then locked, and every
        open code for it is void.
        """
        if email_digest is None:  # a dialog from before the limit existed
            return False
        await self._db.execute(SQL_RECORD_FAILURE, (email_digest, utc_text(now)))
        since = utc_text(now - FAILURE_WINDOW)
        if await self._count(SQL_COUNT_FAILURES, email_digest, since) < MAX_FAILURES:
            return False
        if await self._db.fetchone(SQL_LOCKED, (email_digest, utc_text(now))) is not None:
            return False  # locked already (and its member told)
        await self._db.execute(SQL_LOCK, (email_digest, utc_text(now + LOCK_TTL)))
        params = {"max": MAX_CODE_ATTEMPTS, "email_digest": email_digest}
        await self._db.execute(SQL_VOID_ADDRESS_CODES, params)
        return True

    async def purge(self, *, now: datetime) -> int:
        """Delete ended dialogs, old request counts, old wrong-code counts and old locks.

        A dialog past its deadline is useless (every use checks it); it is kept for an hour
        more only so that a late password is still deleted from the chat. Returns the number
        of deleted dialogs.
        """
        late = utc_text(now - DIALOG_AFTERLIFE)
        async with self._db.transaction():
            gone = await self._db.fetchall(SQL_PURGE_FLOWS, (late,))
            await self._db.execute(SQL_PRUNE_REQUESTS, (utc_text(now - REQUEST_WINDOW),))
            await self._db.execute(SQL_PURGE_FAILURES, (utc_text(now - FAILURE_WINDOW),))
            await self._db.execute(SQL_PURGE_LOCKS, (utc_text(now),))
        self._open.difference_update(int(r[0]) for r in gone)
        return len(gone)

    async def take_password_step(self, chat_id: int, *, now: datetime) -> int | None:
        """End a password dialog to change the password now; return the member's id.

        None if the chat is not in the password step or its deadline passed. Every open
        dialog of the member, in any chat, ends with it: no open code stays usable.
        """
        async with self._db.transaction():
            row = await self._db.fetchone(SQL_FLOW, (chat_id,))
            if row is None:
                return None
            flow = _flow(row)
            if flow.step != Step.PASSWORD or flow.member_id is None or flow.expires_at <= now:
                return None
            gone = await self._db.fetchall(SQL_DELETE_MEMBER_FLOWS, (flow.member_id, chat_id))
        self._open.difference_update(int(r[0]) for r in gone)
        return flow.member_id

    async def resume_password_step(
        self, chat_id: int, member_id: int, expires_at: datetime, *, now: datetime
    ) -> bool:
        """Reopen the password step after the directory refused a password.

        The step keeps its deadline; False (nothing reopened) if it has passed or the chat
        has started another dialog meanwhile.
        """
        if expires_at <= now:
            return False
        params = {
            "chat_id": chat_id,
            "nonce": _nonce(),
            "member_id": member_id,
            "now": utc_text(now),
            "expires_at": utc_text(expires_at),
        }
        async with self._db.transaction():
            reopened = await self._db.execute(SQL_RESUME_PASSWORD, params) == 1
        if reopened:
            self._open.add(chat_id)
        return reopened

    async def end_member_dialogs(self, member_id: int) -> int:
        """End every open dialog of a member (their open codes), e.g. after a change."""
        async with self._db.transaction():
            gone = await self._db.fetchall(SQL_DELETE_MEMBER_FLOWS, (member_id, None))
        self._open.difference_update(int(r[0]) for r in gone)
        return len(gone)

    async def requests_in_window(self, chat_id: int, *, now: datetime) -> int:
        """Return how many codes the chat requested within the rate-limit window."""
        return await self._count(SQL_COUNT_CHAT, chat_id, utc_text(now - REQUEST_WINDOW))

    async def _count(self, sql: str, key: object, since: str) -> int:
        row = await self._db.fetchone(sql, (key, since))
        return 0 if row is None else int(row[0])
