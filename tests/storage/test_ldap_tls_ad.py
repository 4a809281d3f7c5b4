"""The LDAP directory over TLS (ldaps://, StartTLS) and in Active Directory's password mode.

All against a real slapd with TLS (tests/slapd.py, ``tls=True``): a throw-away CA, a server
certificate for 127.0.0.1, and ``security ssf=128``, so the server refuses every operation
without encryption and whatever works here went over TLS.

Active Directory's mode is tested against slapd with a test schema that gives the entries AD's
``unicodePwd`` and a binary ``objectGUID``. slapd binds with ``userPassword``, never with
``unicodePwd``, so there a new AD password cannot be proven by a bind: the tests read the
stored ``unicodePwd`` back instead, and test ``check_password`` (a bind in both modes) on its
own, with the entry's ``userPassword``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from storage.db import Database
from storage.ldap_directory import (
    LdapConfigError,
    LdapDirectory,
    ad_refusal,
    entry_key,
    parse_url,
    unicode_pwd,
)
from storage.members import DirectoryUnavailable, PasswordRefusal, PasswordRefused
from storage.migrations import migrate
from tests.slapd import ERIKA_DN, ERIKA_GUID, MAX_DN, MAX_GUID, OLD_PASSWORD

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from tests.slapd import Slapd

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
NEW_PASSWORD = "Neues-Kennwort-Schlossgarten-42"
ERIKA = "erika.muster@example.org"
# Active Directory's usual mapping (README): displayName, objectGUID, the AD password mode.
AD_MAPPING: dict[str, Any] = {
    "name_attribute": "displayName",
    "id_attribute": "objectGUID",
    "password_mode": "ad-unicodepwd",
}


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """Return a migrated database file."""
    database = await Database.open(tmp_path / "bot.sqlite3")
    await migrate(database)
    yield database
    await database.close()


def tls_options(slapd: Slapd, how: str, **changes: Any) -> dict[str, Any]:
    """Return the options of ``how`` ("ldaps" or "starttls") with the test CA."""
    url = slapd.ldaps_url if how == "ldaps" else slapd.url
    starttls = None if how == "ldaps" else True
    return {"url": url, "starttls": starttls, "ca_file": slapd.ca_file, **changes}


async def test_ldaps_end_to_end(db: Database, slapd_tls: Slapd) -> None:
    """ldaps:// with the CA file: find, Password Modify, binds; plain is refused meanwhile."""
    assert await asyncio.to_thread(slapd_tls.plain_bind_refused), "the server insists on TLS"
    directory = LdapDirectory(db, slapd_tls.options(**tls_options(slapd_tls, "ldaps")))
    try:
        await directory.check_available()
        erika = await directory.find(ERIKA)
        assert erika is not None
        assert erika.name == "Erika Muster"
        await directory.set_password(erika.id, NEW_PASSWORD, now=NOW)
        assert await asyncio.to_thread(slapd_tls.bind, ERIKA_DN, NEW_PASSWORD)
        assert not await asyncio.to_thread(slapd_tls.bind, ERIKA_DN, OLD_PASSWORD)
        assert await directory.check_password(ERIKA, NEW_PASSWORD)
        assert not await directory.check_password(ERIKA, OLD_PASSWORD)
    finally:
        directory.close()


async def test_starttls_end_to_end(db: Database, slapd_tls: Slapd) -> None:
    """ldap:// with StartTLS and the CA file: the same, on the server's ldap:// port."""
    directory = LdapDirectory(db, slapd_tls.options(**tls_options(slapd_tls, "starttls")))
    try:
        await directory.check_available()
        erika = await directory.find(ERIKA)
        assert erika is not None
        await directory.set_password(erika.id, NEW_PASSWORD, now=NOW)
        assert await directory.check_password(ERIKA, NEW_PASSWORD)
        assert await asyncio.to_thread(slapd_tls.bind, ERIKA_DN, NEW_PASSWORD)
    finally:
        directory.close()


@pytest.mark.parametrize("how", ["ldaps", "starttls"])
@pytest.mark.parametrize("problem", ["untrusted CA", "other host name"])
async def test_certificate_not_accepted(
    db: Database, slapd_tls: Slapd, how: str, problem: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A certificate the CA file does not vouch for, or for another name: unavailable.

    Never a quiet fallback to plain LDAP: no bind is even tried (the server would refuse a
    plain one with "confidentiality required", and no such refusal is logged), and the log
    tells the operator it is the certificate.
    """
    options = tls_options(slapd_tls, how)
    if problem == "untrusted CA":
        options["ca_file"] = slapd_tls.other_ca_file
    else:  # the certificate names only IP:127.0.0.1
        options["url"] = options["url"].replace("127.0.0.1", "localhost")
    directory = LdapDirectory(db, slapd_tls.options(**options))
    try:
        with caplog.at_level(logging.WARNING, logger="storage.ldap_directory"):
            with pytest.raises(DirectoryUnavailable):
                await directory.check_available()
            with pytest.raises(DirectoryUnavailable):
                await directory.find(ERIKA)
            with pytest.raises(DirectoryUnavailable):
                await directory.check_password(ERIKA, OLD_PASSWORD)
    finally:
        directory.close()
    messages = [r.getMessage() for r in caplog.records]
    assert messages
    assert all("TLS certificate was not accepted" in m for m in messages), messages
    assert all(r.levelno == logging.ERROR for r in caplog.records)


def test_no_plain_ldap_beyond_loopback() -> None:
    """ldap:// to another machine without StartTLS, or AD passwords in clear: refused."""
    with pytest.raises(LdapConfigError):
        parse_url("ldap://ldap.example.org", starttls=False)
    with pytest.raises(LdapConfigError):
        parse_url("ldaps://ldap.example.org", starttls=True)
    assert parse_url("ldap://127.0.0.1", starttls=True).security == "starttls"
    assert parse_url("ldap://127.0.0.1", starttls=False).security == "plain"


async def test_ad_mode_refuses_a_plain_connection(db: Database, slapd: Slapd) -> None:
    """The AD mode on plain LDAP (loopback without StartTLS) does not even start."""
    with pytest.raises(LdapConfigError):
        LdapDirectory(db, slapd.options(**AD_MAPPING))


@pytest.mark.parametrize("how", ["ldaps", "starttls"])
async def test_ad_mode_sets_unicode_pwd(
    db: Database, slapd_tls: Slapd, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The AD mode replaces unicodePwd with the quoted UTF-16-LE password, found by objectGUID.

    objectGUID is binary, with bytes a filter must escape (``(``, ``*``, ``)``, backslash,
    NUL): the link table keeps it as ``hex:…`` and every lookup by it finds exactly its entry.
    """
    directory = LdapDirectory(db, slapd_tls.options(**tls_options(slapd_tls, how, **AD_MAPPING)))
    try:
        erika = await directory.find(ERIKA)
        max_ = await directory.find("max.beispiel@example.org")
        assert erika is not None
        assert max_ is not None
        assert erika.name == "Dr. Erika Muster", "displayName"
        row = await db.fetchone("SELECT entry_key FROM directory_links WHERE id = ?", (erika.id,))
        assert row is not None
        assert row["entry_key"] == entry_key(ERIKA_GUID) == "hex:" + ERIKA_GUID.hex()
        await directory.link(erika.id, 1001, now=NOW)
        linked = await directory.linked_to(1001)
        assert linked is not None
        assert linked.email == ERIKA
        got = await directory.get(max_.id)
        assert got is not None
        assert got.email == "max.beispiel@example.org"
        with caplog.at_level(logging.DEBUG, logger="storage.ldap_directory"):
            await directory.set_password(erika.id, "new password", now=NOW)
        stored = await asyncio.to_thread(slapd_tls.raw_attribute, ERIKA_DN, "unicodePwd")
        assert stored == ['"new password"'.encode("utf-16-le")]
        assert not await asyncio.to_thread(slapd_tls.raw_attribute, MAX_DN, "unicodePwd")
        assert all("new password" not in r.getMessage() for r in caplog.records)
        assert unicode_pwd("Kennwort-äöü-€") == '"Kennwort-äöü-€"'.encode("utf-16-le")
        # slapd binds with userPassword, which the AD mode left alone.
        assert await asyncio.to_thread(slapd_tls.bind, ERIKA_DN, OLD_PASSWORD)
    finally:
        directory.close()
    assert MAX_GUID != ERIKA_GUID


async def test_ad_mode_check_password_is_a_bind(db: Database, slapd_tls: Slapd) -> None:
    """check_password in the AD mode binds as the entry (here with its userPassword)."""
    directory = LdapDirectory(
        db, slapd_tls.options(**tls_options(slapd_tls, "ldaps", **AD_MAPPING))
    )
    try:
        assert await directory.check_password(ERIKA, OLD_PASSWORD)
        assert not await directory.check_password(ERIKA, NEW_PASSWORD)
        assert not await directory.check_password(ERIKA, "")
        assert not await directory.check_password("ada@example.org", OLD_PASSWORD)
    finally:
        directory.close()


async def test_ad_mode_refusal_from_the_server(db: Database, slapd_tls: Slapd) -> None:
    """A constraintViolation on unicodePwd is a refusal: PasswordRefused, nothing changed.

    The test server's constraint is AD's maximum of 256 characters; AD's own policy refusals
    (0000052D) are classified by ``ad_refusal`` below.
    """
    directory = LdapDirectory(
        db, slapd_tls.options(**tls_options(slapd_tls, "ldaps", **AD_MAPPING))
    )
    try:
        erika = await directory.find(ERIKA)
        assert erika is not None
        with pytest.raises(PasswordRefused) as refused:
            await directory.set_password(erika.id, "Lang-" * 60, now=NOW)
        assert refused.value.reason == PasswordRefusal.OTHER
        assert not await asyncio.to_thread(slapd_tls.raw_attribute, ERIKA_DN, "unicodePwd")
    finally:
        directory.close()


@pytest.mark.parametrize(
    ("code", "message", "reason"),
    [
        # Windows Server: too short, not complex enough or in the history.
        (
            19,
            "0000052D: Constraint violation - check_password_restrictions: the password is "
            "too short. It should be equal or longer than 7 characters!",
            PasswordRefusal.POLICY,
        ),
        (
            53,
            "0000052D: SvcErr: DSID-031A1254, problem 5003 (WILL_NOT_PERFORM), data 0\n",
            PasswordRefusal.POLICY,
        ),
        (19, "0000052d: AtrErr: DSID-03191083, #1:", PasswordRefusal.POLICY),
        (19, "", PasswordRefusal.OTHER),
        # Not a refusal: no TLS, or the service account may not reset passwords.
        (53, "0000001F: SvcErr: DSID-031A12D2, problem 5003 (WILL_NOT_PERFORM), data 0", None),
        (50, "00000005: SecErr: DSID-031A11E2, problem 4003 (INSUFF_ACCESS_RIGHTS)", None),
        (0, "", None),
    ],
)
def test_ad_refusals(code: int, message: str, reason: PasswordRefusal | None) -> None:
    """AD's answers to a unicodePwd change: policy refusals, other refusals, failures."""
    assert ad_refusal(code, message) == reason
