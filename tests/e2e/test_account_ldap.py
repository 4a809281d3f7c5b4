"""Password recovery against a real OpenLDAP server: the real bot, the sandbox, real SMTP.

The new password is set in slapd (Password Modify) and proven by binds as a website does
them: the new one succeeds, the old one fails. Also: the server's policy refusals reach the
person in German, an entry outside the active filter reads like an unknown address, and a
server that is down gets "gerade nicht möglich" and a log line. In Active Directory's mode
(over ldaps:// with a test CA) the same dialog sets ``unicodePwd``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Final

import pytest

from bot.app import BotApp, build_application, running, services_of
from bot.config import SmtpSettings
from bot.sandbox.mailsink import SINK_SENDER
from tests.e2e.test_account import SAME_REPLY, code_in, request_code, settle
from tests.slapd import ERIKA_DN, OLD_PASSWORD

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from bot.config import Settings
    from bot.domain.clock import ManualClock
    from bot.sandbox import Sandbox
    from bot.sandbox.mailsink import MailSink
    from tests.e2e.conftest import Person
    from tests.slapd import Slapd

MEMBER: Final = "erika.muster@example.org"
FORMER: Final = "ada@example.org"
UNKNOWN: Final = "niemand@example.org"
NEW_PASSWORD: Final = "Brombeerhecke-Neckarufer-73"
UNAVAILABLE: Final = "gerade nicht möglich"


@pytest.fixture
async def ldap_bot(
    settings: Settings, clock: ManualClock, sandbox: Sandbox, sink: MailSink, slapd: Slapd
) -> AsyncIterator[BotApp]:
    """Run the bot with NETZWERKBOT_DIRECTORY=ldap against the test slapd."""
    ldap_settings = replace(
        settings,
        smtp=SmtpSettings.local(sink.host, sink.port, SINK_SENDER),
        directory="ldap",
        ldap=slapd.options(),
    )
    app = build_application(ldap_settings, clock=clock, seed_demo=True)
    async with running(app):
        yield app
    refused = [(c.method, c.response) for c in sandbox.calls if c.status == 400]
    assert not refused, refused


def read_files(directory: Path, pattern: str) -> list[bytes]:
    """Return the contents of the files that match (the database and its WAL)."""
    return [path.read_bytes() for path in directory.glob(pattern)]


async def bind(slapd: Slapd, dn: str, password: str) -> bool:
    """Bind as a website would (in a thread: ldap3 blocks)."""
    return await asyncio.to_thread(slapd.bind, dn, password)


async def test_recovery_sets_the_password_in_ldap(
    ldap_bot: BotApp, person: Person, sink: MailSink, slapd: Slapd, sandbox: Sandbox
) -> None:
    """The whole recovery: code by mail, a refused and an accepted password, then binds."""
    code = await request_code(person, sink, "Erika.Muster@Example.org", "/kennwort")
    (reply,) = await person.say(code)
    assert "Senden Sie mir jetzt Ihr neues Kennwort" in reply.text
    # 13 characters: the bot's own rule (12) lets it pass, the server's ppolicy (14) does not.
    (reply,) = await person.say("Dreizehn-Zei1")
    assert "Das Mitgliederverzeichnis nimmt dieses Kennwort nicht an" in reply.text
    assert "zu kurz" in reply.text
    assert "Bitte senden Sie ein anderes" in reply.text
    (reply,) = await person.say(OLD_PASSWORD)
    assert "Sie haben es bereits früher verwendet" in reply.text
    (reply,) = await person.say(NEW_PASSWORD)
    assert "Ihr Kennwort wurde geändert" in reply.text
    typed = {m.text: m for m in sandbox.received(person.user_id)}
    for attempt in ("Dreizehn-Zei1", OLD_PASSWORD, NEW_PASSWORD):
        assert typed[attempt].deleted
    assert await bind(slapd, ERIKA_DN, NEW_PASSWORD)
    assert not await bind(slapd, ERIKA_DN, OLD_PASSWORD)
    confirmation = (await sink.wait_for(2))[-1]
    assert confirmation.to == MEMBER
    assert confirmation.subject == "Ihr Kennwort wurde geändert"
    # The code was used once; the bot's database holds neither password.
    await person.say(code)
    assert await bind(slapd, ERIKA_DN, NEW_PASSWORD)
    database = services_of(ldap_bot).settings.database
    files = await asyncio.to_thread(read_files, database.parent, database.name + "*")
    for content in files:
        assert NEW_PASSWORD.encode() not in content
        assert OLD_PASSWORD.encode() not in content


async def test_inactive_entry_reads_like_an_unknown_address(
    ldap_bot: BotApp, person: Person, sink: MailSink, slapd: Slapd
) -> None:
    """An entry outside the active filter gets the neutral reply and no mail, like nobody."""
    replies = {}
    for address in (FORMER, UNKNOWN):
        await person.say("/kennwort")
        (replies[address],) = await person.say(address)
        await person.say("abbrechen")
    assert replies[FORMER].text == replies[UNKNOWN].text
    assert SAME_REPLY in replies[FORMER].text
    await settle(ldap_bot)
    assert not sink.mails


async def test_link_ends_when_the_entry_leaves_the_filter(
    ldap_bot: BotApp, person: Person, sink: MailSink, slapd: Slapd
) -> None:
    """/konto links to the LDAP entry; once the entry is "ausgetreten" the link has ended."""
    await person.say("/konto")
    await person.say(MEMBER)
    (mail,) = await sink.wait_for(1)
    (reply,) = await person.say(code_in(mail))
    assert "jetzt mit der Mitgliedschaft von Erika Muster (e…@example.org) verknüpft" in reply.text
    (reply,) = await person.say("/konto")
    assert "Erika Muster" in reply.text
    await asyncio.to_thread(slapd.set_attribute, ERIKA_DN, "employeeType", ["ausgetreten"])
    (reply,) = await person.say("/konto")
    assert "mit keiner Mitgliedschaft verknüpft" in reply.text


async def test_server_down_is_not_possible_now(
    ldap_bot: BotApp,
    person: Person,
    sink: MailSink,
    slapd: Slapd,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With the server down, /kennwort and a dialog's next step say so, and it is logged."""
    code = await request_code(person, sink, MEMBER, "/kennwort")
    (reply,) = await person.say(code)
    assert "neues Kennwort" in reply.text
    slapd.stop()
    with caplog.at_level(logging.WARNING):
        (reply,) = await person.say(NEW_PASSWORD)
        assert UNAVAILABLE in reply.text
        assert "später" in reply.text
        (reply,) = await person.say("/kennwort")
        assert UNAVAILABLE in reply.text
        (reply,) = await person.say("/konto")
        assert UNAVAILABLE in reply.text
    lines = [r.getMessage() for r in caplog.records if r.name == "storage.ldap_directory"]
    assert any("unreachable" in line for line in lines)
    assert all(MEMBER not in r.getMessage() for r in caplog.records)
    slapd.restart()
    assert await bind(slapd, ERIKA_DN, OLD_PASSWORD), "nothing changed"
    # The directory is back: the dialog works again, for every address alike.
    await person.say("/kennwort")
    (reply,) = await person.say(MEMBER)
    assert SAME_REPLY in reply.text


@pytest.fixture
async def ad_bot(
    settings: Settings, clock: ManualClock, sandbox: Sandbox, sink: MailSink, slapd_tls: Slapd
) -> AsyncIterator[BotApp]:
    """Run the bot in Active Directory's password mode, over ldaps:// with the test CA."""
    ldap_settings = replace(
        settings,
        smtp=SmtpSettings.local(sink.host, sink.port, SINK_SENDER),
        directory="ldap",
        ldap=slapd_tls.options(
            url=slapd_tls.ldaps_url,
            ca_file=slapd_tls.ca_file,
            password_mode="ad-unicodepwd",
            name_attribute="displayName",
            id_attribute="objectGUID",
        ),
    )
    app = build_application(ldap_settings, clock=clock, seed_demo=True)
    async with running(app):
        yield app
    refused = [(c.method, c.response) for c in sandbox.calls if c.status == 400]
    assert not refused, refused


async def test_recovery_sets_unicode_pwd_over_ldaps(
    ad_bot: BotApp, person: Person, sink: MailSink, slapd_tls: Slapd
) -> None:
    """AD's mode through the whole recovery: a refusal in German, then unicodePwd is set.

    The test slapd cannot bind with unicodePwd, so the proof is the stored value.
    """
    code = await request_code(person, sink, MEMBER, "/kennwort")
    (reply,) = await person.say(code)
    assert "Senden Sie mir jetzt Ihr neues Kennwort" in reply.text
    # Over AD's 256 characters: the server's constraintViolation reaches the person.
    (reply,) = await person.say("Lang-" * 60)
    assert "Das Mitgliederverzeichnis nimmt dieses Kennwort nicht an" in reply.text
    assert "Es erfüllt seine Regeln nicht. Bitte senden Sie ein anderes" in reply.text
    (reply,) = await person.say(NEW_PASSWORD)
    assert "Ihr Kennwort wurde geändert" in reply.text
    stored = await asyncio.to_thread(slapd_tls.raw_attribute, ERIKA_DN, "unicodePwd")
    assert stored == [f'"{NEW_PASSWORD}"'.encode("utf-16-le")]
    confirmation = (await sink.wait_for(2))[-1]
    assert confirmation.to == MEMBER
    assert "Guten Tag Dr. Erika Muster" in confirmation.body, "the name from displayName"
