"""The member directory, the account dialogs' state and the privacy queries on real SQLite."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

import pytest

from bot.domain.account import LIGHT_HASH_COST, Keyring, Passwords, Purpose
from storage.catalog import CatalogStore
from storage.codes import AccountStore, CodeOutcome, RequestOutcome, Step
from storage.db import Database
from storage.members import (
    PROBLEM_DUPLICATE_EMAIL,
    PROBLEM_EMAIL,
    PROBLEM_NAME,
    PROBLEM_NETWORK,
    MemberImportError,
    MemberStore,
    UnknownMember,
    parse_members_csv,
)
from storage.migrations import MIGRATIONS, migrate
from storage.privacy import delete_chat_data, export_chat_data
from storage.subscriptions import Subscription, SubscriptionStore, Topic

if TYPE_CHECKING:
    from pathlib import Path

NOW: Final = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
KEYRING: Final = Keyring(b"k" * 32)
NETWORK: Final = "connect-it-heilbronn-franken"
CSV: Final = f"""email,name,network
Erika.Muster@Example.org,Erika Muster,{NETWORK}
max@example.org,Max Beispiel,mit-pforzheim
"""


@pytest.fixture
async def members(db: Database) -> MemberStore:
    """Return the member directory on a database with the bundled networks and two members."""
    await CatalogStore(db).load_bundled(include_demo=False)
    store = MemberStore(db, passwords=Passwords(LIGHT_HASH_COST))
    rows, problems = parse_members_csv(CSV)
    assert problems == []
    await store.import_members(rows, now=NOW)
    return store


@pytest.fixture
async def accounts(db: Database) -> AccountStore:
    """Return the dialog store, its cache loaded."""
    store = AccountStore(db)
    await store.load()
    return store


async def erika(members: MemberStore) -> int:
    """Return the id of the member Erika."""
    member = await members.find("erika.muster@example.org")
    assert member is not None
    return member.id


# --- the directory -------------------------------------------------------------------------


async def test_import_normalises_and_updates(members: MemberStore) -> None:
    """Addresses are stored lower-case; a second import updates names and keeps links."""
    listed = await members.all()
    assert [(m.email, m.name, m.network) for m in listed] == [
        ("erika.muster@example.org", "Erika Muster", NETWORK),
        ("max@example.org", "Max Beispiel", "mit-pforzheim"),
    ]
    await members.link(listed[0].id, 42, now=NOW)
    rows, _ = parse_members_csv(CSV.replace("Max Beispiel", "Max Muster"))
    counts = await members.import_members(rows, now=NOW)
    assert (counts.inserted, counts.updated, counts.unchanged) == (0, 1, 1)
    linked = await members.linked_to(42)
    assert linked is not None
    assert linked.email == "erika.muster@example.org"


async def test_bad_rows_are_listed_and_nothing_is_imported(
    members: MemberStore, db: Database
) -> None:
    """Every bad row is reported with its line; the good rows are not imported either."""
    text = (
        "email;name;network\n"
        f"neu@example.org;Neu;{NETWORK}\n"
        "kein-at-zeichen;Jemand;mit-pforzheim\n"
        f"neu@EXAMPLE.org;Doppelt;{NETWORK}\n"
        "\n"
        "x@example.org;;mit-pforzheim\n"
        "y@example.org;Y;gibt-es-nicht\n"
    )
    rows, problems = parse_members_csv(text)
    with pytest.raises(MemberImportError) as raised:
        await members.import_members(rows, problems=problems, now=NOW)
    assert [(p.line, p.problem) for p in raised.value.problems] == [
        (3, PROBLEM_EMAIL),
        (4, PROBLEM_DUPLICATE_EMAIL),
        (6, PROBLEM_NAME),
        (7, PROBLEM_NETWORK),
    ]
    assert await members.find("neu@example.org") is None
    assert len(await members.all()) == 2


def test_header_is_required() -> None:
    """A file without the header line is refused at line 1."""
    rows, problems = parse_members_csv("a@example.org,A,mit-pforzheim\n")
    assert rows == []
    assert [p.line for p in problems] == [1]


async def test_link_moves_and_unlink(members: MemberStore) -> None:
    """A user links to one member at a time and a member to one user; unlinking clears."""
    first = await erika(members)
    other = await members.find("max@example.org")
    assert other is not None
    await members.link(first, 7, now=NOW)
    await members.link(other.id, 7, now=NOW)
    found = await members.get(first)
    assert found is not None
    assert found.telegram_user_id is None
    await members.link(first, 8, now=NOW)
    await members.link(first, 9, now=NOW)
    assert await members.linked_to(8) is None
    assert await members.unlink(9, now=NOW)
    assert not await members.unlink(9, now=NOW)
    with pytest.raises(UnknownMember):
        await members.link(999, 7, now=NOW)


async def test_password_is_stored_as_argon2id_hash(members: MemberStore, db: Database) -> None:
    """Only an argon2id hash is stored; check_password verifies it."""
    member_id = await erika(members)
    await members.set_password(member_id, "Lange-genug-und-neu", now=NOW)
    row = await db.fetchone("SELECT password_hash FROM members WHERE id = ?", (member_id,))
    assert row is not None
    assert str(row[0]).startswith("$argon2id$")
    assert "Lange-genug-und-neu" not in str(row[0])
    assert await members.check_password("erika.muster@example.org", "Lange-genug-und-neu")
    assert not await members.check_password("erika.muster@example.org", "falsch")
    assert not await members.check_password("max@example.org", "Lange-genug-und-neu")
    assert not await members.check_password("nobody@example.org", "x")


# --- the dialogs -------------------------------------------------------------------------


async def requested(accounts: AccountStore, chat_id: int, purpose: Purpose, now: datetime) -> str:
    """Open a dialog and request a code; return the nonce."""
    await accounts.start(chat_id, purpose, now=now)
    outcome, nonce = await accounts.request_code(chat_id, KEYRING.email_digest("a@b.de"), now=now)
    assert outcome == RequestOutcome.ACCEPTED
    assert nonce is not None
    return nonce


async def test_code_is_single_use_and_moves_to_the_password_step(
    members: MemberStore, accounts: AccountStore
) -> None:
    """The right code is accepted once; the dialog then waits for the password."""
    member_id = await erika(members)
    nonce = await requested(accounts, 1, Purpose.PASSWORD, NOW)
    digest = KEYRING.code_digest(1, Purpose.PASSWORD, "123456")
    assert await accounts.arm(1, nonce, member_id, digest, now=NOW)
    assert not await accounts.arm(1, nonce, member_id, digest, now=NOW), "armed once"
    check = await accounts.check_code(1, digest, now=NOW)
    assert (check.outcome, check.member_id) == (CodeOutcome.ACCEPTED, member_id)
    flow = await accounts.get(1)
    assert flow is not None
    assert flow.step == Step.PASSWORD
    assert (await accounts.check_code(1, digest, now=NOW)).outcome == CodeOutcome.NO_DIALOG
    assert await accounts.take_password_step(1, now=NOW) == member_id
    assert await accounts.take_password_step(1, now=NOW) is None
    assert await accounts.get(1) is None


async def test_codes_are_bound_to_chat_and_purpose(
    members: MemberStore, accounts: AccountStore
) -> None:
    """A code made for one chat or purpose does not match another."""
    assert KEYRING.code_digest(1, Purpose.LINK, "123456") != KEYRING.code_digest(
        2, Purpose.LINK, "123456"
    )
    assert KEYRING.code_digest(1, Purpose.LINK, "123456") != KEYRING.code_digest(
        1, Purpose.PASSWORD, "123456"
    )
    member_id = await erika(members)
    nonce = await requested(accounts, 1, Purpose.PASSWORD, NOW)
    await accounts.arm(1, nonce, member_id, KEYRING.code_digest(1, Purpose.PASSWORD, "1"), now=NOW)
    other = KEYRING.code_digest(1, Purpose.LINK, "1")
    assert (await accounts.check_code(1, other, now=NOW)).outcome == CodeOutcome.WRONG


async def test_five_wrong_entries_void_the_code(
    members: MemberStore, accounts: AccountStore
) -> None:
    """Each entry is counted before it is compared; after five wrong ones all are refused."""
    member_id = await erika(members)
    nonce = await requested(accounts, 1, Purpose.PASSWORD, NOW)
    right = KEYRING.code_digest(1, Purpose.PASSWORD, "111111")
    await accounts.arm(1, nonce, member_id, right, now=NOW)
    wrong = KEYRING.code_digest(1, Purpose.PASSWORD, "222222")
    results = [await accounts.check_code(1, wrong, now=NOW) for _ in range(5)]
    assert [r.remaining for r in results] == [4, 3, 2, 1, 0]
    assert results[-1].outcome == CodeOutcome.VOID
    assert (await accounts.check_code(1, right, now=NOW)).outcome == CodeOutcome.VOID


async def test_concurrent_entries_never_exceed_five(
    members: MemberStore, accounts: AccountStore
) -> None:
    """Twenty entries at once: the atomic count lets at most five be compared."""
    member_id = await erika(members)
    nonce = await requested(accounts, 1, Purpose.PASSWORD, NOW)
    await accounts.arm(1, nonce, member_id, KEYRING.code_digest(1, Purpose.PASSWORD, "1"), now=NOW)
    wrong = KEYRING.code_digest(1, Purpose.PASSWORD, "2")
    results = await asyncio.gather(*(accounts.check_code(1, wrong, now=NOW) for _ in range(20)))
    outcomes = [r.outcome for r in results]
    assert outcomes.count(CodeOutcome.WRONG) == 4
    assert outcomes.count(CodeOutcome.VOID) == 16
    flow = await accounts.get(1)
    assert flow is not None
    assert flow.attempts == 5
    assert flow.void


async def test_expiry_uses_the_given_time(members: MemberStore, accounts: AccountStore) -> None:
    """A code is refused from ten minutes on; an expired dialog takes no request."""
    member_id = await erika(members)
    nonce = await requested(accounts, 1, Purpose.LINK, NOW)
    right = KEYRING.code_digest(1, Purpose.LINK, "1")
    await accounts.arm(1, nonce, member_id, right, now=NOW)
    late = NOW + timedelta(minutes=10)
    assert (await accounts.check_code(1, right, now=late)).outcome == CodeOutcome.EXPIRED
    assert await accounts.get(1) is None
    await accounts.start(2, Purpose.LINK, now=NOW)
    outcome, _ = await accounts.request_code(2, "x", now=NOW + timedelta(minutes=11))
    assert outcome == RequestOutcome.NO_DIALOG


async def test_rate_limits_per_chat_and_per_address(accounts: AccountStore) -> None:
    """Three requests per hour and chat, three per hour and address."""
    digest = KEYRING.email_digest("a@b.de")
    for minute in range(3):
        await accounts.start(1, Purpose.LINK, now=NOW)
        outcome, _ = await accounts.request_code(
            1, KEYRING.email_digest(f"{minute}@b.de"), now=NOW
        )
        assert outcome == RequestOutcome.ACCEPTED
    await accounts.start(1, Purpose.LINK, now=NOW)
    assert (await accounts.request_code(1, digest, now=NOW))[0] == RequestOutcome.CHAT_LIMIT
    for chat_id in (2, 3, 4):
        await accounts.start(chat_id, Purpose.LINK, now=NOW)
        assert (await accounts.request_code(chat_id, digest, now=NOW))[0] == "accepted"
    await accounts.start(5, Purpose.LINK, now=NOW)
    assert (await accounts.request_code(5, digest, now=NOW))[0] == RequestOutcome.EMAIL_LIMIT
    later = NOW + timedelta(hours=1, seconds=1)
    await accounts.start(5, Purpose.LINK, now=later)
    assert (await accounts.request_code(5, digest, now=later))[0] == RequestOutcome.ACCEPTED


async def test_password_change_ends_every_dialog_of_the_member(
    members: MemberStore, accounts: AccountStore
) -> None:
    """Taking the password step ends the member's open codes in every chat."""
    member_id = await erika(members)
    for chat_id in (1, 2):
        nonce = await requested(accounts, chat_id, Purpose.PASSWORD, NOW)
        digest = KEYRING.code_digest(chat_id, Purpose.PASSWORD, "1")
        await accounts.arm(chat_id, nonce, member_id, digest, now=NOW)
    await accounts.check_code(1, KEYRING.code_digest(1, Purpose.PASSWORD, "1"), now=NOW)
    assert await accounts.take_password_step(1, now=NOW) == member_id
    assert await accounts.get(2) is None
    assert not accounts.may_have_dialog(2)
    digest = KEYRING.code_digest(2, Purpose.PASSWORD, "1")
    assert (await accounts.check_code(2, digest, now=NOW)).outcome == CodeOutcome.NO_DIALOG


async def test_arm_refuses_a_moved_on_dialog(members: MemberStore, accounts: AccountStore) -> None:
    """A mail job whose dialog was restarted or cancelled stores no code (and sends none)."""
    member_id = await erika(members)
    nonce = await requested(accounts, 1, Purpose.LINK, NOW)
    await accounts.start(1, Purpose.LINK, now=NOW)
    assert not await accounts.arm(1, nonce, member_id, "d", now=NOW)
    nonce = await requested(accounts, 1, Purpose.LINK, NOW)
    await accounts.cancel(1)
    assert not await accounts.arm(1, nonce, member_id, "d", now=NOW)


# --- privacy -----------------------------------------------------------------------------


async def test_export_and_delete(
    db: Database, members: MemberStore, accounts: AccountStore
) -> None:
    """The export lists the chat's data; the deletion removes it and unlinks the member."""
    member_id = await erika(members)
    await members.link(member_id, 1, now=NOW)
    subscriptions = SubscriptionStore(db, tz=ZoneInfo("UTC"), default_quiet=None)
    await subscriptions.subscribe(1, Subscription(Topic.NEWS), now=NOW)
    await requested(accounts, 1, Purpose.PASSWORD, NOW)
    data = await export_chat_data(db, 1, now=NOW)
    assert data["member"]["email"] == "erika.muster@example.org"
    assert data["subscriptions"][0]["topic"] == "news"
    assert data["account_dialog"]["step"] == "code"
    assert len(data["code_requests"]) == 1
    json.dumps(data)  # plain JSON data
    deletion = await delete_chat_data(db, 1, now=NOW)
    accounts.forget(1)
    assert (deletion.subscriptions, deletion.settings, deletion.dialogs, deletion.links) == (
        1,
        1,
        1,
        1,
    )
    after = await export_chat_data(db, 1, now=NOW)
    assert after["member"] is after["subscriber"] is after["account_dialog"] is None
    assert after["subscriptions"] == after["code_requests"] == []
    assert await members.find("erika.muster@example.org") is not None
    row = await db.fetchone("SELECT actor, action, detail FROM audit ORDER BY id DESC")
    assert row is not None
    assert (row[0], row[1]) == (None, "personal_data_deleted")
    assert "erika" not in str(row[2])
    # The address counter outlives the deletion (it protects the mailbox), the chat's does not.
    assert await accounts.requests_in_window(1, now=NOW) == 0
    count = await db.fetchone("SELECT COUNT(*) FROM account_requests")
    assert count is not None
    assert count[0] == 1


async def test_upgrade_to_members_keeps_data(tmp_path: Path) -> None:
    """A database at the schema before 0005_members upgrades and keeps its rows."""
    db = await Database.open(tmp_path / "old.sqlite3")
    try:
        names = [m.name for m in MIGRATIONS]
        previous = MIGRATIONS[: names.index("0005_members")]
        await migrate(db, previous)
        subscriptions = SubscriptionStore(db, tz=ZoneInfo("UTC"), default_quiet=None)
        await subscriptions.subscribe(1, Subscription(Topic.NEWS), now=NOW)
        assert await migrate(db) == names[len(previous) :]
        assert (await subscriptions.get(1)) is not None
        store = MemberStore(db, passwords=Passwords(LIGHT_HASH_COST))
        assert await store.all() == []
    finally:
        await db.close()
