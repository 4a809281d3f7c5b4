"""Member accounts end to end: the real bot over HTTP, the sandbox, a real local SMTP server.

Linking, password recovery verified with ``members check-password``, no account
enumeration (identical reply, sent before the address is even looked up, and no mail),
void and expired codes, rate limits, the deleted password message, the privacy export and
deletion, logs without personal data, and a property: no sequence of inputs without the
right code changes a password.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import re
import time
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import members_cli
from bot.app import BotApp, build_application, running, services_of
from bot.delivery.mail import SmtpSettings
from bot.domain.account import LIGHT_HASH_COST, key_file_for
from bot.sandbox.mailsink import SINK_SENDER, MailSink
from storage.members import MemberRow
from tests.e2e.conftest import Person

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from bot.config import Settings
    from bot.domain.clock import ManualClock
    from bot.sandbox import Sandbox, SentMessage
    from bot.sandbox.mailsink import ReceivedMail

MEMBER: Final = "erika.muster@example.org"
OTHER: Final = "max.beispiel@example.org"
UNKNOWN: Final = "niemand@example.org"
NEW_PASSWORD: Final = "Brombeerhecke-Neckarufer-73"
SAME_REPLY: Final = (
    "Falls diese Adresse bei uns registriert ist, haben wir Ihnen einen Code geschickt."
)
CODE: Final = re.compile(r"Ihr Code: (\d{6})")


@pytest.fixture
async def account_bot(
    settings: Settings, clock: ManualClock, sandbox: Sandbox, sink: MailSink
) -> AsyncIterator[BotApp]:
    """Run the bot with SMTP pointed at the sink, light argon2 parameters and two members."""
    account_settings = replace(
        settings,
        smtp=SmtpSettings.local(sink.host, sink.port, SINK_SENDER),
        hash_cost=LIGHT_HASH_COST,
    )
    app = build_application(account_settings, clock=clock, seed_demo=True)
    async with running(app):
        members = services_of(app).stores.members
        rows = [
            MemberRow(2, MEMBER, "Erika Muster", "connect-it-heilbronn-franken"),
            MemberRow(3, OTHER, "Max Beispiel", "mit-pforzheim"),
        ]
        await members.import_members(rows, now=clock.now())
        yield app
    refused = [(c.method, c.response) for c in sandbox.calls if c.status == 400]
    assert not refused, refused


async def settle(app: BotApp) -> None:
    """Wait until every update is handled and the mail queue has run every job."""
    mail = services_of(app).mail
    assert mail is not None
    idle_checks = 0
    while idle_checks < 3:  # handlers submit their job right after their reply's HTTP call
        busy = not app.update_queue.empty() or app.update_processor.current_concurrent_updates
        idle_checks = 0 if busy else idle_checks + 1
        await asyncio.sleep(0.002)
    await mail.join()


def code_in(mail: ReceivedMail) -> str:
    """Return the six-digit code of a code mail."""
    found = CODE.search(mail.body)
    assert found is not None, mail.body
    return found.group(1)


async def request_code(person: Person, sink: MailSink, address: str, command: str) -> str:
    """Start a dialog, give the address, and return the code the mail brought."""
    before = len(sink.mails)
    await person.say(command)
    await person.say(address)
    mails = await sink.wait_for(before + 1)
    return code_in(mails[-1])


async def check_password(settings: Settings, email: str, password: str) -> int:
    """Run ``netzwerkbot members check-password`` against the bot's database."""
    parser = argparse.ArgumentParser()
    members_cli.add_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["members", "check-password", email])
    out = io.StringIO()
    return await members_cli.run(args, settings, stdin=io.StringIO(password + "\n"), out=out)


async def test_link_the_chat(
    account_bot: BotApp, person: Person, sink: MailSink, settings: Settings
) -> None:
    """/konto links the chat after a code by e-mail; /konto shows it; /konto_trennen undoes."""
    (reply,) = await person.say("/konto")
    assert "mit keiner Mitgliedschaft verknüpft" in reply.text
    (reply,) = await person.say("  Erika.Muster@Example.org ")
    assert SAME_REPLY in reply.text
    (mail,) = await sink.wait_for(1)
    assert mail.to == MEMBER
    assert mail.subject == "Ihr Code für die Verknüpfung mit Telegram"
    assert "Guten Tag Erika Muster" in mail.body
    (reply,) = await person.say(code_in(mail))
    assert "jetzt mit der Mitgliedschaft von Erika Muster (e…@example.org) verknüpft" in reply.text
    (reply,) = await person.say("/konto")
    assert "verknüpft" in reply.text
    assert "e…@example.org" in reply.text
    assert MEMBER not in reply.text, "the address is shown masked"
    (reply,) = await person.say("/konto_trennen")
    assert "nicht mehr mit Ihrer Mitgliedschaft verknüpft" in reply.text
    member = await services_of(account_bot).stores.members.find(MEMBER)
    assert member is not None
    assert member.telegram_user_id is None


async def test_recover_password_and_check_it(
    account_bot: BotApp, person: Person, sink: MailSink, sandbox: Sandbox, settings: Settings
) -> None:
    """A fresh code, a new password in the dialog (deleted at once), a confirmation mail."""
    code = await request_code(person, sink, MEMBER, "/kennwort")
    (reply,) = await person.say(code)
    assert "Senden Sie mir jetzt Ihr neues Kennwort" in reply.text
    (reply,) = await person.say("zu kurz")
    assert "kürzer als 12 Zeichen" in reply.text
    (reply,) = await person.say(MEMBER)
    assert "Ihre E-Mail-Adresse" in reply.text
    (reply,) = await person.say("Passwort2024!")
    assert "verbreitetes Kennwort" in reply.text
    (reply,) = await person.say(NEW_PASSWORD)
    assert "Ihr Kennwort wurde geändert" in reply.text
    assert "meldet Sie nicht an" in reply.text
    typed = {m.text: m for m in sandbox.received(person.user_id)}
    for attempt in ("zu kurz", MEMBER, "Passwort2024!", NEW_PASSWORD):
        assert typed[attempt].deleted, f"the password message {attempt!r} was deleted"
    assert not typed["/kennwort"].deleted
    confirmation = (await sink.wait_for(2))[-1]
    assert confirmation.subject == "Ihr Kennwort wurde geändert"
    assert "Ihr Kennwort wurde geändert. Waren Sie das nicht?" in confirmation.body
    assert NEW_PASSWORD not in confirmation.body
    assert await check_password(settings, MEMBER, NEW_PASSWORD) == 0
    assert await check_password(settings, MEMBER, NEW_PASSWORD + "x") == 1
    # The code was used once: typing it again reaches no dialog, and nothing changes.
    await person.say(code)
    member = await services_of(account_bot).stores.members.find(MEMBER)
    assert member is not None
    assert member.telegram_user_id is None, "recovery never logs in or links automatically"


async def test_unknown_address_same_reply_before_lookup_and_no_mail(
    account_bot: BotApp,
    sandbox: Sandbox,
    sink: MailSink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Known and unknown addresses get the identical reply, sent before the address is looked
    up; a mail follows only for the known one."""
    members = services_of(account_bot).stores.members
    lookups: list[float] = []
    find = members.find

    async def timed_find(email: str) -> Any:
        lookups.append(time.monotonic())
        return await find(email)

    monkeypatch.setattr(members, "find", timed_find)
    replies: dict[str, SentMessage] = {}
    for user_id, address in ((2001, MEMBER), (2002, UNKNOWN)):
        person = Person(sandbox, user_id)
        await person.say("/kennwort")
        (replies[address],) = await person.say(address)
        await settle(account_bot)
        reply_call = next(
            c
            for c in reversed(sandbox.calls)
            if c.method == "sendMessage" and c.chat_id == user_id
        )
        assert lookups, "the job looked the address up"
        assert reply_call.time < lookups[-1], "the reply went out before the lookup"
    assert replies[MEMBER].text == replies[UNKNOWN].text
    assert replies[MEMBER].reply_markup == replies[UNKNOWN].reply_markup
    assert SAME_REPLY in replies[UNKNOWN].text
    assert [m.to for m in sink.mails] == [MEMBER]
    assert not sink.to(UNKNOWN)
    # Wrong codes read the same for both, too.
    texts = []
    for user_id in (2001, 2002):
        (reply,) = await Person(sandbox, user_id).say("000000")
        texts.append(reply.text)
    assert texts[0] == texts[1]
    assert "noch 4 Versuche" in texts[0]


async def members_command(settings: Settings, *argv: str) -> int:
    """Run ``netzwerkbot members ARGV`` on the bot's database while the bot runs."""
    parser = argparse.ArgumentParser()
    members_cli.add_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["members", *argv])
    return await members_cli.run(args, settings, out=io.StringIO(), err=io.StringIO())


async def test_deactivated_member_is_like_an_unknown_address(
    account_bot: BotApp, person: Person, sink: MailSink, sandbox: Sandbox, settings: Settings
) -> None:
    """Deactivating a linked member ends the link; their address gets the unknown's replies."""
    await person.say("/konto")
    await person.say(MEMBER)
    (mail,) = await sink.wait_for(1)
    (reply,) = await person.say(code_in(mail))
    assert "jetzt mit der Mitgliedschaft von Erika Muster" in reply.text
    # An open dialog of the member ends too: the code of the mail is useless afterwards.
    other = Person(sandbox, 1002)
    code = await request_code(other, sink, MEMBER, "/kennwort")
    assert await members_command(settings, "deactivate", MEMBER) == 0
    replies = await other.say(code)
    assert all("neues Kennwort" not in r.text for r in replies)
    (reply,) = await person.say("/konto")
    assert "mit keiner Mitgliedschaft verknüpft" in reply.text, "the link has ended"
    await person.say("abbrechen")
    replies_by_address = {}
    for address in (MEMBER, UNKNOWN):
        await person.say("/kennwort")
        (replies_by_address[address],) = await person.say(address)
        await person.say("abbrechen")
    assert replies_by_address[MEMBER].text == replies_by_address[UNKNOWN].text
    assert SAME_REPLY in replies_by_address[MEMBER].text
    await settle(account_bot)
    assert len(sink.mails) == 2, "no code for a deactivated member"
    assert await check_password(settings, MEMBER, NEW_PASSWORD) == 1


async def test_five_wrong_codes_void_the_code(
    account_bot: BotApp, person: Person, sink: MailSink, settings: Settings
) -> None:
    """After five wrong entries even the right code is refused."""
    code = await request_code(person, sink, MEMBER, "/kennwort")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        (reply,) = await person.say(wrong)
        assert f"noch {left} Versuch" in reply.text
    (reply,) = await person.say(wrong)
    assert "nach fünf falschen Eingaben ungültig" in reply.text
    (reply,) = await person.say(code)
    assert "ungültig" in reply.text
    assert "neues Kennwort" not in reply.text
    member = await services_of(account_bot).stores.members.find(MEMBER)
    assert member is not None
    assert not member.has_password


async def test_expired_code_is_refused(
    account_bot: BotApp, person: Person, sink: MailSink, clock: ManualClock
) -> None:
    """A code typed after ten minutes is refused (the clock is moved, nobody sleeps)."""
    code = await request_code(person, sink, MEMBER, "/kennwort")
    clock.advance(timedelta(minutes=10, seconds=1))
    (reply,) = await person.say(code)
    assert "abgelaufen" in reply.text or "beendet" in reply.text
    code = await request_code(person, sink, MEMBER, "/kennwort")
    clock.advance(timedelta(minutes=9, seconds=59))
    (reply,) = await person.say(code)
    assert "neues Kennwort" in reply.text
    clock.advance(timedelta(minutes=10, seconds=1))
    (reply,) = await person.say(NEW_PASSWORD)
    assert "beendet" in reply.text, "the password step has its own deadline"
    member = await services_of(account_bot).stores.members.find(MEMBER)
    assert member is not None
    assert not member.has_password


async def test_rate_limits(
    account_bot: BotApp, sandbox: Sandbox, sink: MailSink, clock: ManualClock
) -> None:
    """Three requests per hour per chat and per address (known or not)."""
    person = Person(sandbox, 3001)
    for address in (UNKNOWN, "a" + UNKNOWN, "b" + UNKNOWN):
        await person.say("/kennwort")
        (reply,) = await person.say(address)
        assert SAME_REPLY in reply.text
    await person.say("/kennwort")
    (reply,) = await person.say(MEMBER)
    assert "bereits drei Codes angefordert" in reply.text
    # Per address: three chats ask for the same unknown address, the fourth is refused.
    for user_id in (3002, 3003, 3004):
        other = Person(sandbox, user_id)
        await other.say("/kennwort")
        (reply,) = await other.say("C" + UNKNOWN)
        assert SAME_REPLY in reply.text
    late = Person(sandbox, 3005)
    await late.say("/kennwort")
    (reply,) = await late.say("c" + UNKNOWN.upper())
    assert "bereits drei Codes angefordert" in reply.text, "counted on the normalised address"
    await settle(account_bot)
    assert not sink.mails
    clock.advance(timedelta(hours=1, seconds=1))
    await person.say("/kennwort")
    (reply,) = await person.say(MEMBER)
    assert SAME_REPLY in reply.text
    assert (await sink.wait_for(1))[0].to == MEMBER


async def test_other_command_or_cancel_ends_the_dialog(
    account_bot: BotApp, person: Person, sink: MailSink, sandbox: Sandbox
) -> None:
    """Leaving the dialog leaves nothing usable: the code no longer works."""
    code = await request_code(person, sink, MEMBER, "/kennwort")
    await person.say("/netzwerke")
    replies = await person.say(code)
    assert all("neues Kennwort" not in r.text for r in replies)
    code = await request_code(person, sink, MEMBER, "/kennwort")
    (reply,) = await person.say("abbrechen")
    assert "Abgebrochen" in reply.text
    replies = await person.say(code)
    assert all("neues Kennwort" not in r.text for r in replies)
    # In the password step even a command is deleted first (a password may start with "/").
    code = await request_code(person, sink, MEMBER, "/kennwort")
    await person.say(code)
    (reply,) = await person.say("/hilfe")
    assert "/netzwerke" in reply.text, "the command still runs"
    assert [m.deleted for m in sandbox.received(person.user_id) if m.text == "/hilfe"] == [True]
    replies = await person.say(NEW_PASSWORD)
    assert all("geändert" not in r.text for r in replies), "the dialog ended"


async def test_free_text_hands_over_to_the_dialog(
    account_bot: BotApp, person: Person, sink: MailSink
) -> None:
    """ "Ich habe mein Passwort vergessen" gets the answer with a button into /kennwort."""
    (reply,) = await person.say("Ich habe mein Passwort vergessen")
    assert "/kennwort" in reply.text
    await person.press("Neues Kennwort festlegen")
    assert "bestätigen Sie bitte zuerst" in (person.messages()[-1].text or "")
    (reply,) = await person.say(MEMBER)
    assert SAME_REPLY in reply.text
    assert (await sink.wait_for(1))[0].to == MEMBER


async def test_logs_hold_no_personal_data(
    account_bot: BotApp,
    person: Person,
    sink: MailSink,
    sandbox: Sandbox,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A whole recovery captured at DEBUG: no token, address, code, password or text."""
    caplog.set_level(logging.DEBUG)
    question = "Ich habe mein Passwort vergessen, Geheimnis-4711"
    await person.say(question)
    code = await request_code(person, sink, MEMBER, "/kennwort")
    await person.say("000000")
    await person.say(code)
    await person.say(NEW_PASSWORD)
    await sink.wait_for(2)
    await person.say("/kennwort")
    await person.say(UNKNOWN)
    await settle(account_bot)
    key = key_file_for(settings.database).read_text().strip()
    secrets = [sandbox.token, MEMBER, UNKNOWN, code, NEW_PASSWORD, question, "Geheimnis", key]
    assert caplog.records
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        for secret in secrets:
            assert secret not in text, (record.name, record.levelname, secret)


async def test_export_and_delete_leave_nothing_behind(
    account_bot: BotApp, person: Person, sink: MailSink, sandbox: Sandbox
) -> None:
    """/meine_daten sends a JSON document; /daten_loeschen removes everything but the member."""
    code = await request_code(person, sink, MEMBER, "/konto")
    await person.say(code)
    await person.say("/abo")
    await person.press("Alle Netzwerktreffen")
    await person.say("/kennwort")
    await person.say(UNKNOWN)  # a counted code request
    (document,) = await person.say("/meine_daten")
    assert document.document is not None
    assert document.document.file_name == "meine-daten.json"
    data = json.loads(document.document.content)
    assert data["telegram_user_id"] == person.user_id
    assert data["member"]["email"] == MEMBER
    assert data["member"]["has_password"] is False
    assert "password_hash" not in json.dumps(data)
    assert {"topic": "meetings", "target": ""}.items() <= data["subscriptions"][0].items()
    assert data["reminders"], "the demo meetings bring reminders"
    # Any other command ends an open dialog, so the export finds none.
    assert data["account_dialog"] is None
    assert len(data["code_requests"]) == 2
    assert UNKNOWN not in json.dumps(data), "typed addresses are kept only as an HMAC"

    (question,) = await person.say("/daten_loeschen")
    assert "Soll ich alles löschen" in (question.text or "")
    await person.press("Nein", question)
    assert "nichts gelöscht" in (person.messages()[-1].text or "")
    await person.say("/daten_loeschen")
    await person.press("Ja, alles löschen")
    assert "Erledigt" in (person.messages()[-1].text or "")

    services = services_of(account_bot)
    db = services.stores.db
    for table, column in (
        ("subscribers", "chat_id"),
        ("subscriptions", "chat_id"),
        ("reminders", "chat_id"),
        ("outbox", "chat_id"),
        ("account_flows", "chat_id"),
        ("account_requests", "chat_id"),
        ("members", "telegram_user_id"),
    ):
        row = await db.fetchone(
            f"SELECT COUNT(*) FROM {table} WHERE {column} = ?",  # noqa: S608 - names above
            (person.user_id,),
        )
        assert row is not None
        assert row[0] == 0, table
    member = await services.stores.members.find(MEMBER)
    assert member is not None, "the member record stays"
    assert member.telegram_user_id is None
    (entry,) = [
        e for e in await services.stores.admins.latest() if e.action.startswith("personal")
    ]
    assert entry.actor is None
    assert str(person.user_id) not in json.dumps(dict(entry.detail))
    (document,) = await person.say("/meine_daten")
    assert document.document is not None
    after = json.loads(document.document.content)
    assert after["member"] is None
    assert after["subscriber"] is None
    assert after["subscriptions"] == after["reminders"] == after["outbox"] == []
    assert after["account_dialog"] is None
    assert after["code_requests"] == []


async def test_without_smtp_the_account_commands_say_so(bot: BotApp, person: Person) -> None:
    """No NETZWERKBOT_SMTP_HOST: a polite notice; the answers point to the website."""
    (reply,) = await person.say("/kennwort")
    assert "derzeit leider nicht verfügbar" in reply.text
    (reply,) = await person.say("/konto")
    assert "derzeit leider nicht verfügbar" in reply.text
    (reply,) = await person.say("Ich habe mein Passwort vergessen")
    assert "Kennwort vergessen?" in reply.text
    assert "/kennwort" not in reply.text
    (reply,) = await person.say("/datenschutz")
    assert "Datenschutz" in reply.text


# --- property: no sequence of inputs changes a password without the right code ----------

ACTIONS = st.one_of(
    st.sampled_from(
        [
            ("say", "/kennwort"),
            ("say", "/konto"),
            ("say", MEMBER),
            ("say", MEMBER.upper()),
            ("say", UNKNOWN),
            ("say", "abbrechen"),
            ("say", "/hilfe"),
            ("say", NEW_PASSWORD),
            ("victim_code", ""),
        ]
    ),
    st.from_regex(r"\A\d{6}\Z").map(lambda code: ("say", code)),
    st.from_regex(r"\A\d{3} \d{3}\Z").map(lambda code: ("say", code)),
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
        min_size=1,
        max_size=30,
    )
    .filter(lambda s: s.strip() and not s.startswith("/"))
    .map(lambda text: ("say", text)),
    st.integers(min_value=1, max_value=15).map(lambda minutes: ("advance", str(minutes))),
)


async def quick_say(sandbox: Sandbox, user_id: int, text: str) -> None:
    """Send a message and wait until the bot answered it (at least one reply)."""
    before = len(sandbox.messages(user_id))
    sandbox.send_text(user_id, text)
    deadline = time.monotonic() + 10
    while len(sandbox.messages(user_id)) <= before:
        assert time.monotonic() < deadline, f"no reply to {text!r}"
        await asyncio.sleep(0.005)
    await sandbox.wait_idle(user_id, quiet=0.02, timeout=10)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=st.lists(ACTIONS, min_size=1, max_size=8))
async def test_no_password_change_without_the_right_code(
    account_bot: BotApp,
    sandbox: Sandbox,
    sink: MailSink,
    clock: ManualClock,
    actions: list[tuple[str, str]],
) -> None:
    """Whatever an attacker's chat types, without the mailed code nothing changes.

    ``victim_code`` lets the member's own chat request a code; the attacker then types the
    code from the member's mail into their own chat (codes are bound to their chat).
    """
    services = services_of(account_bot)
    attacker = 500_000 + len(sandbox.calls)
    victim = attacker + 1
    sandbox.add_user(attacker)
    sandbox.add_user(victim)
    for kind, value in actions:
        if kind == "advance":
            clock.advance(timedelta(minutes=int(value)))
        elif kind == "victim_code":
            before = len(sink.mails)
            await quick_say(sandbox, victim, "/kennwort")
            await quick_say(sandbox, victim, MEMBER)
            await settle(account_bot)
            if len(sink.mails) > before:  # not rate-limited
                await quick_say(sandbox, attacker, code_in(sink.mails[-1]))
        else:
            await quick_say(sandbox, attacker, value)
    await settle(account_bot)
    member = await services.stores.members.find(MEMBER)
    assert member is not None
    assert not member.has_password, actions
    # Keep the rate limits from starving later examples of mails.
    clock.advance(timedelta(hours=2))


async def _wrong_codes(person: Person, code: str, times: int) -> SentMessage:
    """Type a wrong code ``times`` times; return the last reply."""
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    reply = None
    for _ in range(times):
        (reply,) = await person.say(wrong)
    assert reply is not None
    return reply


async def test_ten_wrong_codes_pause_the_address_for_a_day(
    account_bot: BotApp, sandbox: Sandbox, sink: MailSink, clock: ManualClock
) -> None:
    """Ten wrong codes for one address in 24 hours: no codes for it for 24 hours, one mail."""
    first, second = Person(sandbox, 3101), Person(sandbox, 3102)
    code = await request_code(first, sink, MEMBER, "/kennwort")
    await _wrong_codes(first, code, 5)
    clock.advance(timedelta(hours=2))
    code = await request_code(second, sink, MEMBER, "/konto")
    await _wrong_codes(second, code, 4)
    reply = await _wrong_codes(second, code, 1)
    assert "für 24 Stunden keine Codes mehr" in reply.text
    mails = await sink.wait_for(3)
    notice = mails[-1]
    assert notice.to == MEMBER
    assert notice.subject == "Codes für Ihre Adresse sind für 24 Stunden gesperrt"
    assert "10-mal" in notice.body
    # The per-hour limit is long over, yet no code goes out for this address.
    clock.advance(timedelta(hours=2))
    await first.say("/kennwort")
    (reply,) = await first.say(MEMBER)
    assert "für 24 Stunden keine Codes mehr" in reply.text
    await settle(account_bot)
    assert len(sink.mails) == 3, "no code, and the notice was sent once"
    # Another address is not affected; after 24 hours the member can ask again.
    await second.say("/kennwort")
    (reply,) = await second.say(OTHER)
    assert SAME_REPLY in reply.text
    clock.advance(timedelta(hours=22, minutes=1))  # 24 hours after the tenth wrong code
    code = await request_code(first, sink, MEMBER, "/kennwort")
    (reply,) = await first.say(code)
    assert "neues Kennwort" in reply.text


async def test_password_typed_too_early_or_too_late_is_deleted(
    account_bot: BotApp, person: Person, sink: MailSink, sandbox: Sandbox, clock: ManualClock
) -> None:
    """A password at the code step, or after the dialog's time is up, is deleted at once."""
    code = await request_code(person, sink, MEMBER, "/kennwort")
    (reply,) = await person.say(NEW_PASSWORD)
    assert "Ich habe Ihre Nachricht gelöscht" in reply.text
    (reply,) = await person.say(code)
    assert "neues Kennwort" in reply.text, "the dialog goes on"
    await person.say("abbrechen")

    await request_code(person, sink, MEMBER, "/kennwort")
    clock.advance(timedelta(minutes=11))
    (reply,) = await person.say(NEW_PASSWORD + "!")
    assert "Ich habe Ihre Nachricht gelöscht" in reply.text
    assert "/kennwort" in reply.text
    typed = {m.text: m for m in sandbox.received(person.user_id)}
    assert typed[NEW_PASSWORD].deleted
    assert typed[NEW_PASSWORD + "!"].deleted
    assert not typed[code].deleted
    assert not typed[MEMBER].deleted
