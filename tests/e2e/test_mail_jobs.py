"""Mails through a table: retried after a transient SMTP failure, dropped when their code
expired, and still sent after a restart."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.app import build_application, running, services_of
from bot.delivery.mail import SmtpSettings
from bot.domain.account import LIGHT_HASH_COST
from bot.sandbox.mailsink import SINK_SENDER, MailSink
from storage.members import MemberRow
from tests.e2e.conftest import Person
from tests.e2e.test_account import MEMBER, code_in, settle

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    import pytest

    from bot.app import BotApp
    from bot.config import Settings
    from bot.domain.clock import ManualClock
    from bot.sandbox import Sandbox


def states(database: Path) -> list[tuple[str, str, int]]:
    """Return (kind, status, attempts) of every mail row, oldest first."""
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT kind, status, attempts FROM mail_jobs ORDER BY id")
        return [(str(k), str(s), int(a)) for k, s, a in rows]


def account_settings(settings: Settings, sink: MailSink) -> Settings:
    """Return the settings with SMTP pointed at the sink and light password hashing."""
    return replace(
        settings,
        smtp=SmtpSettings.local(sink.host, sink.port, SINK_SENDER),
        hash_cost=LIGHT_HASH_COST,
    )


async def start(settings: Settings, clock: ManualClock) -> AsyncIterator[BotApp]:
    """Run the bot with one member."""
    app = build_application(settings, clock=clock, seed_demo=True)
    async with running(app):
        rows = [MemberRow(2, MEMBER, "Erika Muster", "connect-it-heilbronn-franken")]
        await services_of(app).stores.members.import_members(rows, now=clock.now())
        yield app


async def test_transient_failure_is_retried_and_the_code_works(
    settings: Settings, clock: ManualClock, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """A 451 from the mail server: the mail goes again after the pause, with a working code."""
    async with MailSink() as sink:
        sink.refuse_next(1)
        async for app in start(account_settings(settings, sink), clock):
            person = Person(sandbox, 1001)
            await person.say("/konto")
            (reply,) = await person.say(MEMBER)
            assert "Falls diese Adresse bei uns registriert ist" in reply.text
            await settle(app)
            assert sink.mails == []
            assert states(settings.database) == [("code", "pending", 1)]
            assert any("trying again in 15 s" in r.getMessage() for r in caplog.records)
            clock.advance(timedelta(seconds=15))
            services_of(app).mail.wake()  # type: ignore[union-attr]
            await settle(app)
            (mail,) = await sink.wait_for(1)
            (reply,) = await person.say(code_in(mail))
            assert "verknüpft" in reply.text
            assert states(settings.database) == [("code", "sent", 2)]


async def test_code_mail_dropped_after_its_validity(
    settings: Settings, clock: ManualClock, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """A code mail that cannot go out within the code's 10 minutes is dropped and logged."""
    caplog.set_level(logging.INFO)
    async with MailSink() as sink:
        sink.refuse_next(100)
        async for app in start(account_settings(settings, sink), clock):
            person = Person(sandbox, 1001)
            await person.say("/kennwort")
            await person.say(MEMBER)
            for _ in range(10):
                await settle(app)
                clock.advance(timedelta(minutes=2))
                services_of(app).mail.wake()  # type: ignore[union-attr]
            await settle(app)
            ((kind, status, attempts),) = states(settings.database)
            assert (kind, status) == ("code", "expired")
            assert attempts >= 3
            assert sink.mails == []
            assert any("could not be sent in time" in r.getMessage() for r in caplog.records)
            with sqlite3.connect(settings.database) as conn:
                (email,) = conn.execute("SELECT email FROM mail_jobs").fetchone()
            assert email is None, "the typed address is forgotten when the row ends"


async def test_queued_mail_survives_a_restart(
    settings: Settings, clock: ManualClock, sandbox: Sandbox
) -> None:
    """A mail that could not go before the stop is sent by the next start."""
    async with MailSink() as sink:
        sink.refuse_next(1)
        smtp_settings = account_settings(settings, sink)
        person = Person(sandbox, 1001)
        async for app in start(smtp_settings, clock):
            await person.say("/konto")
            await person.say(MEMBER)
            await settle(app)
        assert states(settings.database) == [("code", "pending", 1)]
        clock.advance(timedelta(seconds=20))
        async for app in start(smtp_settings, clock):
            await settle(app)
            (mail,) = await sink.wait_for(1)
            (reply,) = await person.say(code_in(mail))
            assert "verknüpft" in reply.text


async def test_smtp_checked_at_start_not_fatal(
    settings: Settings, clock: ManualClock, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """No mail server at start: a warning, and the bot answers as usual."""
    import asyncio
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = SmtpSettings.local("127.0.0.1", port, SINK_SENDER)
    app = build_application(replace(settings, smtp=smtp), clock=clock, seed_demo=True)
    async with running(app):
        check = services_of(app).smtp_check
        assert check is not None
        await asyncio.wait_for(asyncio.shield(check), 10)
        (reply,) = await Person(sandbox, 1001).say("/start")
        assert reply.text
    assert any(
        "does not answer as expected" in r.getMessage() and r.levelno == logging.WARNING
        for r in caplog.records
    )
