"""The LDAP member directory against a real slapd (tests/slapd.py), links in real SQLite."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from storage.db import Database
from storage.ldap_directory import (
    LdapConfigError,
    LdapDirectory,
    check_filter,
    entry_key,
    escape_bytes,
    escape_filter_value,
    key_bytes,
    parse_url,
    ppolicy_error,
)
from storage.members import DirectoryUnavailable, PasswordRefusal, PasswordRefused, UnknownMember
from storage.migrations import migrate
from tests.e2e.test_account_ldap import read_files
from tests.slapd import ADA_DN, ERIKA_DN, OLD_PASSWORD

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from tests.slapd import Slapd

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
NEW_PASSWORD = "Neues-Kennwort-Schlossgarten-42"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """Return a migrated database file."""
    database = await Database.open(tmp_path / "bot.sqlite3")
    await migrate(database)
    yield database
    await database.close()


@pytest.fixture
async def directory(db: Database, slapd: Slapd) -> AsyncIterator[LdapDirectory]:
    """Return the LDAP directory on the test server."""
    ldap = LdapDirectory(db, slapd.options())
    yield ldap
    ldap.close()


async def test_find_reads_the_entry_and_gives_a_stable_id(directory: LdapDirectory) -> None:
    """An active entry is found by its address in any case; its id stays the same."""
    member = await directory.find("erika.muster@example.org")
    assert member is not None
    assert (member.email, member.name, member.network) == (
        "erika.muster@example.org",
        "Erika Muster",
        "connect-it-heilbronn-franken",
    )
    assert member.active
    assert member.telegram_user_id is None
    again = await directory.find("erika.muster@example.org")
    assert again is not None
    assert again.id == member.id
    other = await directory.find("max.beispiel@example.org")
    assert other is not None
    assert other.id != member.id
    got = await directory.get(member.id)
    assert got == member
    assert await directory.get(999) is None
    assert await directory.find("niemand@example.org") is None


async def test_inactive_entry_is_unknown(directory: LdapDirectory, slapd: Slapd) -> None:
    """An entry that does not match the active filter is not found, nor can it log in."""
    assert await directory.find("ada@example.org") is None
    assert slapd.bind(ADA_DN, OLD_PASSWORD), "the entry exists and its password is right"
    assert not await directory.check_password("ada@example.org", OLD_PASSWORD)


@pytest.mark.parametrize(
    "address",
    [
        "*@example.org",
        "erika.muster@example.org)(mail=*",
        "*",
        "erika*",
        "erika.muster@example.org\\2a",
    ],
)
async def test_filter_values_are_escaped(directory: LdapDirectory, address: str) -> None:
    """An address with *, (, ) or \\ matches only itself, never other entries."""
    assert await directory.find(address) is None
    assert not await directory.check_password(address, OLD_PASSWORD)


def test_escaping_functions() -> None:
    """RFC 4515 escapes; binary ids escape every byte; keys survive a round trip."""
    assert escape_filter_value("a*b(c)d\\e\x00") == "a\\2ab\\28c\\29d\\5ce\\00"
    assert escape_filter_value("Müller@example.org") == "Müller@example.org"
    assert escape_bytes(b"\x00\xff(") == "\\00\\ff\\28"
    guid = bytes(range(16))
    assert entry_key(guid).startswith("hex:")
    assert key_bytes(entry_key(guid)) == guid
    uuid = b"ba5451b0-8483-1041-94ae-ef94a2b6538d"
    assert entry_key(uuid) == uuid.decode()
    assert key_bytes(entry_key(uuid)) == uuid


def test_ppolicy_control_values() -> None:
    """The error of a ppolicy response control, as slapd sends it."""
    assert ppolicy_error(bytes.fromhex("3003810106")) == 6
    assert ppolicy_error(bytes.fromhex("3003810108")) == 8
    assert ppolicy_error(bytes.fromhex("3007a0038001053003")[:2] + b"") is None
    assert ppolicy_error(bytes.fromhex("3008a003800105810105")) == 5
    assert ppolicy_error(bytes.fromhex("3000")) is None
    assert ppolicy_error(None) is None
    assert ppolicy_error(b"\x04\x00") is None


@pytest.mark.parametrize(
    ("url", "security", "port"),
    [
        ("ldaps://ldap.example.org", "ldaps", 636),
        ("ldap://ldap.example.org", "starttls", 389),
        ("ldap://ldap.example.org:1389/", "starttls", 1389),
        ("ldap://127.0.0.1:3389", "plain", 3389),
        ("ldap://localhost", "plain", 389),
        ("ldap://[::1]:3389", "plain", 3389),
    ],
)
def test_urls(url: str, security: str, port: int) -> None:
    """ldaps is TLS; ldap is StartTLS, plain only on loopback."""
    endpoint = parse_url(url)
    assert (endpoint.security, endpoint.port) == (security, port)


@pytest.mark.parametrize(
    "url", ["http://ldap.example.org", "ldap://", "ldaps://h/dc=x", "ldap://h:99999", "ldap.org"]
)
def test_bad_urls(url: str) -> None:
    """Anything but ldap(s)://host[:port] is refused."""
    with pytest.raises(LdapConfigError):
        parse_url(url)


def test_filters() -> None:
    """One parenthesised filter is accepted; anything else is refused."""
    assert check_filter(" (objectClass=inetOrgPerson) ") == "(objectClass=inetOrgPerson)"
    assert check_filter("(&(a=b)(!(c=d\\29)))") == "(&(a=b)(!(c=d\\29)))"
    for bad in ("objectClass=x", "(a=b", "(a=b))", "(a=b)(c=d)", "()", ""):
        with pytest.raises(LdapConfigError):
            check_filter(bad)


async def test_link_and_unlink(directory: LdapDirectory) -> None:
    """Links live in the bot's database; linking moves a link, as in the embedded directory."""
    erika = await directory.find("erika.muster@example.org")
    max_ = await directory.find("max.beispiel@example.org")
    assert erika is not None
    assert max_ is not None
    await directory.link(erika.id, 1001, now=NOW)
    linked = await directory.linked_to(1001)
    assert linked is not None
    assert linked.id == erika.id
    assert linked.linked_at == NOW
    await directory.link(erika.id, 1002, now=NOW)
    assert await directory.linked_to(1001) is None, "a member has at most one user"
    await directory.link(max_.id, 1002, now=NOW)
    moved = await directory.linked_to(1002)
    assert moved is not None
    assert moved.id == max_.id
    assert await directory.unlink(1002, now=NOW)
    assert not await directory.unlink(1002, now=NOW)
    with pytest.raises(UnknownMember):
        await directory.link(4711, 1003, now=NOW)


async def test_active_rule_is_checked_at_every_use(directory: LdapDirectory, slapd: Slapd) -> None:
    """A linked member who leaves (no longer matches the filter) is unknown at once."""
    erika = await directory.find("erika.muster@example.org")
    assert erika is not None
    await directory.link(erika.id, 1001, now=NOW)
    await asyncio.to_thread(slapd.set_attribute, ERIKA_DN, "employeeType", ["ausgetreten"])
    assert await directory.linked_to(1001) is None
    assert await directory.get(erika.id) is None
    assert await directory.find("erika.muster@example.org") is None
    with pytest.raises(UnknownMember):
        await directory.set_password(erika.id, NEW_PASSWORD, now=NOW)
    with pytest.raises(UnknownMember):
        await directory.link(erika.id, 1001, now=NOW)
    assert await asyncio.to_thread(slapd.bind, ERIKA_DN, OLD_PASSWORD), "password unchanged"
    await asyncio.to_thread(slapd.set_attribute, ERIKA_DN, "employeeType", ["mitglied"])
    back = await directory.linked_to(1001)
    assert back is not None, "back in the filter, the link counts again"


async def test_set_password_by_password_modify(
    directory: LdapDirectory, slapd: Slapd, db: Database, tmp_path: Path
) -> None:
    """The server sets and hashes the password; binds tell new from old; the bot keeps none."""
    erika = await directory.find("erika.muster@example.org")
    assert erika is not None
    await directory.set_password(erika.id, NEW_PASSWORD, now=NOW)
    assert await asyncio.to_thread(slapd.bind, ERIKA_DN, NEW_PASSWORD)
    assert not await asyncio.to_thread(slapd.bind, ERIKA_DN, OLD_PASSWORD)
    stored = await asyncio.to_thread(slapd.attribute, ERIKA_DN, "userPassword")
    assert len(stored) == 1
    assert stored[0].startswith("{SSHA}"), "hashed by the server with its own scheme"
    assert await directory.check_password("erika.muster@example.org", NEW_PASSWORD)
    assert not await directory.check_password("erika.muster@example.org", OLD_PASSWORD)
    assert not await directory.check_password("erika.muster@example.org", "")
    await db.close()
    files = await asyncio.to_thread(read_files, tmp_path, "bot.sqlite3*")
    assert files
    for content in files:
        assert NEW_PASSWORD.encode() not in content


async def test_policy_refusals(directory: LdapDirectory, slapd: Slapd) -> None:
    """ppolicy's refusals arrive with their reason; nothing changes."""
    erika = await directory.find("erika.muster@example.org")
    assert erika is not None
    with pytest.raises(PasswordRefused) as short:
        await directory.set_password(erika.id, "Dreizehn-Zei1", now=NOW)
    assert short.value.reason == PasswordRefusal.TOO_SHORT
    with pytest.raises(PasswordRefused) as reused:
        await directory.set_password(erika.id, OLD_PASSWORD, now=NOW)
    assert reused.value.reason == PasswordRefusal.IN_HISTORY
    assert await asyncio.to_thread(slapd.bind, ERIKA_DN, OLD_PASSWORD)


async def test_server_down(
    directory: LdapDirectory, slapd: Slapd, caplog: pytest.LogCaptureFixture
) -> None:
    """A server that is down raises DirectoryUnavailable, logged without personal data."""
    erika = await directory.find("erika.muster@example.org")
    assert erika is not None
    await directory.check_available()
    slapd.stop()
    with caplog.at_level(logging.WARNING, logger="storage.ldap_directory"):
        with pytest.raises(DirectoryUnavailable):
            await directory.check_available()
        with pytest.raises(DirectoryUnavailable):
            await directory.find("erika.muster@example.org")
        with pytest.raises(DirectoryUnavailable):
            await directory.set_password(erika.id, NEW_PASSWORD, now=NOW)
    assert any("unreachable" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        assert "erika" not in record.getMessage().lower()
    slapd.restart()
    assert await directory.find("erika.muster@example.org") is not None


async def test_wrong_service_password(
    db: Database, slapd: Slapd, caplog: pytest.LogCaptureFixture
) -> None:
    """A refused service account is unavailability, logged at ERROR without the password."""
    directory = LdapDirectory(db, slapd.options(bind_password="falsch-falsch"))
    try:
        with pytest.raises(DirectoryUnavailable):
            await directory.find("erika.muster@example.org")
    finally:
        directory.close()
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors
    assert all("falsch" not in r.getMessage() for r in caplog.records)
