"""The mail table: due rows, retries, the address forgotten at the end, purge, deletion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from storage.mail_jobs import KIND_CHANGED, KIND_CODE, MailJobStore, delete_chat_rows
from storage.privacy import delete_chat_data

if TYPE_CHECKING:
    from storage.db import Database

NOW = datetime(2027, 3, 17, 9, 0, tzinfo=UTC)


async def test_due_retry_end_and_purge(db: Database) -> None:
    """A row is due at once, comes back at its retry time, and forgets its address."""
    store = MailJobStore(db)
    await store.add(
        KIND_CODE,
        7,
        now=NOW,
        expires_at=NOW + timedelta(minutes=10),
        purpose="link",
        email="erika@example.org",
        nonce="n",
    )
    await store.add(KIND_CHANGED, 8, now=NOW, expires_at=NOW + timedelta(days=1), member_id=3)
    code, changed = await store.due(NOW)
    assert (code.kind, code.email, code.attempts) == (KIND_CODE, "erika@example.org", 0)
    assert (changed.kind, changed.member_id) == (KIND_CHANGED, 3)
    assert await store.retry(
        code.id, at=NOW + timedelta(seconds=15), error="SMTPResponseException"
    )
    assert [j.id for j in await store.due(NOW)] == [changed.id]
    assert await store.next_due() == NOW
    assert await store.end(changed.id, "sent", now=NOW)
    (again,) = await store.due(NOW + timedelta(seconds=15))
    assert (again.id, again.attempts) == (code.id, 1)
    assert await store.end(code.id, "expired", now=NOW + timedelta(minutes=10))
    assert not await store.end(code.id, "sent", now=NOW), "an ended row stays ended"
    rows = await db.fetchall("SELECT status, email FROM mail_jobs ORDER BY id")
    assert [tuple(r) for r in rows] == [("expired", None), ("sent", None)]
    # Ended rows go a day later, with the next end.
    await store.add(KIND_CHANGED, 9, now=NOW, expires_at=NOW + timedelta(days=2), member_id=4)
    (last,) = await store.due(NOW + timedelta(days=2))
    assert await store.end(last.id, "sent", now=NOW + timedelta(days=2))
    assert [r[0] for r in await db.fetchall("SELECT id FROM mail_jobs")] == [last.id]


async def test_deleted_with_the_chat(db: Database) -> None:
    """/daten_loeschen takes a queued mail (and its address) along."""
    store = MailJobStore(db)
    await store.add(
        KIND_CODE,
        7,
        now=NOW,
        expires_at=NOW + timedelta(minutes=10),
        purpose="link",
        email="erika@example.org",
        nonce="n",
    )
    await store.add(KIND_CHANGED, 8, now=NOW, expires_at=NOW + timedelta(days=1), member_id=3)
    await delete_chat_data(db, 7, now=NOW)
    assert [j.chat_id for j in await store.due(NOW)] == [8]
    async with db.transaction():
        assert await delete_chat_rows(db, 8) == 1
