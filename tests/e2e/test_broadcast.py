"""Broadcasts end to end: an admin composes in the chat, the runner delivers, the report counts.

The real bot polls the sandbox over HTTP with a real SQLite file. Tests with flood emulation
on use at most 300 recipients; the 429 storm runs with it off and ``NETZWERKBOT_SEND_RATE=0``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import struct
import time
import zlib
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

import pytest

from bot.app import BotApp, build_application, running, services_of
from bot.domain.circulars import Audience, Content
from bot.sandbox.flood import counts_for_flood
from handlers import broadcast as broadcast_handlers
from storage.subscriptions import Subscription, Topic
from tests.conftest import BERLIN
from tests.e2e.conftest import Person

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from bot.config import Settings
    from bot.domain.clock import ManualClock
    from bot.sandbox import Sandbox, SentMessage

ADMIN: Final = 7101
MEMBER: Final = 7102
FIRST: Final = 30_000_000
REFUSAL: Final = "Dafür fehlen Ihnen leider die Rechte."
TEXT: Final = "Wichtig: Das Netzwerktreffen im März findet online statt."
BOLD: Final = [{"type": "bold", "offset": 0, "length": 8}]


@pytest.fixture
async def admin_bot(
    settings: Settings, clock: ManualClock, sandbox: Sandbox
) -> AsyncIterator[BotApp]:
    """Run the bot with one admin from the environment."""
    app = build_application(
        dataclasses.replace(settings, admins=frozenset({ADMIN})), clock=clock, seed_demo=True
    )
    async with running(app):
        yield app


async def subscribe_news(app: BotApp, sandbox: Sandbox, chats: list[int]) -> None:
    """Let each chat follow the news (and exist in the sandbox)."""
    services = services_of(app)
    for chat in chats:
        sandbox.add_user(chat, first_name="Mitglied")
        await services.stores.subscriptions.subscribe(
            chat, Subscription(Topic.NEWS), now=services.clock.now()
        )


def received(sandbox: Sandbox, chats: list[int]) -> Counter[int]:
    """Count the messages each chat got from the bot."""
    return Counter({chat: len(sandbox.messages(chat)) for chat in chats})


def received_by(sandbox: Sandbox, chats: list[int]) -> list[int]:
    """Return the chats among ``chats`` of every message the sandbox accepted, in order."""
    wanted = set(chats)
    return [c.chat_id for c in sandbox.accepted_sends if c.chat_id in wanted]


def png() -> bytes:
    """Return a valid 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


async def wait_messages(person: Person, count: int) -> list[SentMessage]:
    """Wait until the bot has sent ``count`` messages to this person; return them all.

    Messages beyond Telegram's one per second in a chat are paced by the bot, so they may
    arrive after the sandbox looked idle for a moment.
    """
    deadline = time.monotonic() + 10
    while len(person.messages()) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(person.messages())} of {count} messages")
        await asyncio.sleep(0.01)
    return person.messages()


async def compose_to_news(
    admin: Person, *, hint: bool = False, **message: object
) -> tuple[SentMessage, SentMessage, SentMessage]:
    """Compose a broadcast to the news subscribers; return summary, preview and question."""
    (prompt,) = await admin.say("/rundschreiben")
    assert "Senden Sie mir jetzt die Nachricht" in (prompt.text or "")
    (menu,) = await admin.send(**message)
    assert menu.text == "An wen soll das Rundschreiben gehen?"
    before = len(admin.messages())
    await admin.press("Alle Abonnenten der Neuigkeiten", menu)
    preview, question = (await wait_messages(admin, before + 2))[before:]
    summary = admin.messages()[before - 1]
    assert summary.message_id == menu.message_id
    return summary, preview, question


async def test_text_broadcast_reaches_everyone_once(
    admin_bot: BotApp, sandbox: Sandbox, settings: Settings
) -> None:
    """Bold text to 200 subscribers, some blocked or gone; each other gets it exactly once."""
    sandbox.set_flood(True)
    chats = list(range(FIRST, FIRST + 200))
    await subscribe_news(admin_bot, sandbox, chats)
    blocked, gone = chats[:4], chats[4:7]
    for chat in blocked:
        sandbox.inject_fault(chat, "blocked")
    for chat in gone:
        sandbox.inject_fault(chat, "chat_not_found")
    admin = Person(sandbox, ADMIN, "Ada")

    summary, preview, question = await compose_to_news(admin, text=TEXT, entities=BOLD)
    assert "200 Empfänger" in (summary.text or "")
    assert (preview.text, preview.entities) == (TEXT, BOLD), "the preview is the message itself"
    assert question.text == "Abschicken?"
    await admin.press("Jetzt senden", question)
    assert "geht jetzt an 200 Empfänger" in (admin.messages()[-1].text or "")
    await services_of(admin_bot).broadcaster.run()

    counts = received(sandbox, chats)
    unreachable = set(blocked) | set(gone)
    assert all(counts[c] == 0 for c in unreachable)
    assert all(counts[c] == 1 for c in chats if c not in unreachable)
    for chat in chats[7:10]:
        (message,) = sandbox.messages(chat)
        assert (message.text, message.entities) == (TEXT, BOLD)
    report = admin.messages()[-1].text or ""
    assert "Rundschreiben Nr. 1 ist verschickt." in report
    assert "Zugestellt: 193" in report
    assert "Blockiert oder nicht erreichbar: 7" in report
    assert "Fehlgeschlagen: 0" in report
    assert "Dauer:" in report
    assert sandbox.flood_refusals == 0, "the bot keeps to Telegram's limits"
    registry = services_of(admin_bot).metrics.registry
    for outcome, count in (("sent", 193), ("blocked", 7), ("failed", 0)):
        labels = {"kind": "circular", "outcome": outcome}
        assert registry.get_sample_value("netzwerkbot_pushes_total", labels) == count
    with sqlite3.connect(settings.database) as conn:
        inactive = conn.execute("SELECT chat_id FROM subscribers WHERE status = 'blocked'")
        assert sorted(r[0] for r in inactive) == sorted(unreachable)
        actions = [r[0] for r in conn.execute("SELECT action FROM audit ORDER BY id")]
        details = " ".join(r[0] for r in conn.execute("SELECT detail FROM audit"))
    assert actions[-2:] == ["broadcast_created", "broadcast_started"]
    assert "Netzwerktreffen" not in details, "the audit never holds the text"


async def test_photo_broadcast_and_caption_limit(admin_bot: BotApp, sandbox: Sandbox) -> None:
    """A photo with caption entities arrives unchanged; a caption over 1,024 is refused."""
    sandbox.set_flood(True)
    chats = list(range(FIRST, FIRST + 5))
    await subscribe_news(admin_bot, sandbox, chats)
    admin = Person(sandbox, ADMIN, "Ada")
    # A file the sandbox knows (Telegram's file_ids are per bot): uploaded once by the bot.
    sandbox.add_user(MEMBER)
    uploaded = await admin_bot.bot.send_photo(MEMBER, png())
    photo = [p.to_dict() for p in uploaded.photo]
    caption_entities = [{"type": "italic", "offset": 0, "length": 6}]

    await admin.say("/rundschreiben")
    (hint,) = await admin.send(photo=photo, caption="x" * 1025)
    assert "zu lang (1.025 Zeichen" in (hint.text or "")
    (menu,) = await admin.send(
        photo=photo, caption="Bilder vom Treffen", caption_entities=caption_entities
    )
    before = len(admin.messages())
    await admin.press("Alle Abonnenten der Neuigkeiten", menu)
    preview, question = (await wait_messages(admin, before + 2))[before:]
    assert preview.photo is not None
    assert preview.caption_entities == caption_entities
    await admin.press("Jetzt senden", question)
    await services_of(admin_bot).broadcaster.run()
    for chat in chats:
        (message,) = sandbox.messages(chat)
        assert message.photo is not None
        assert message.photo.file_id == photo[-1]["file_id"]
        assert (message.caption, message.caption_entities) == (
            "Bilder vom Treffen",
            caption_entities,
        )


async def test_non_admin_is_refused(admin_bot: BotApp, sandbox: Sandbox) -> None:
    """Members cannot compose or steer broadcasts."""
    member = Person(sandbox, MEMBER)
    for command in ("/rundschreiben", "/rundschreiben_status"):
        (reply,) = await member.say(command)
        assert reply.text == REFUSAL


async def test_planned_survives_restart_pause_and_resume(
    settings: Settings, sandbox: Sandbox, clock: ManualClock
) -> None:
    """Planned in the chat, paused and resumed, it goes out at its time after a restart."""
    settings = dataclasses.replace(settings, admins=frozenset({ADMIN}))
    chats = list(range(FIRST, FIRST + 10))
    admin = Person(sandbox, ADMIN, "Ada")
    app = build_application(settings, clock=clock, seed_demo=True)
    async with running(app):
        await subscribe_news(app, sandbox, chats)
        _, _, question = await compose_to_news(admin, text=TEXT, entities=BOLD)
        await admin.press("Planen", question)
        assert "TT.MM.JJJJ HH:MM" in (admin.messages()[-1].text or "")
        (reply,) = await admin.say("26.11.2026 09:00")
        assert "vorbei" in (reply.text or "")
        (reply,) = await admin.say("morgen")
        assert "TT.MM.JJJJ HH:MM" in (reply.text or "")
        (reply,) = await admin.say("27.11.2026 09:00")
        assert reply.text == (
            "Rundschreiben Nr. 1 ist für 27.11.26, 09:00 geplant. /rundschreiben_status zeigt es."
        )
        (status,) = await admin.say("/rundschreiben_status")
        assert "geplant" in (status.text or "")
        await admin.press("Nr. 1 pausieren", status)
        assert "pausiert" in (admin.messages()[-1].text or "")
        await admin.press("Nr. 1 fortsetzen", admin.messages()[-1])
        assert "geplant" in (admin.messages()[-1].text or "")
        await services_of(app).broadcaster.run()
    assert received(sandbox, chats) == Counter(dict.fromkeys(chats, 0))

    clock.set(datetime(2026, 11, 27, 9, 0, tzinfo=BERLIN))
    app = build_application(settings, clock=clock, seed_demo=True)
    async with running(app):
        await services_of(app).broadcaster.run()
    assert received(sandbox, chats) == Counter(dict.fromkeys(chats, 1))
    assert "Zugestellt: 10" in (admin.messages()[-1].text or "")


async def test_cancel_in_the_conversation_sends_nothing(
    admin_bot: BotApp, sandbox: Sandbox
) -> None:
    """ "Abbrechen" after the preview discards the draft; /abbrechen ends at any step."""
    chats = list(range(FIRST, FIRST + 3))
    await subscribe_news(admin_bot, sandbox, chats)
    admin = Person(sandbox, ADMIN, "Ada")
    _, _, question = await compose_to_news(admin, text=TEXT)
    await admin.press("Abbrechen", question)
    assert admin.messages()[-1].text == "Abgebrochen. Es wurde nichts verschickt."
    await admin.say("/rundschreiben")
    (reply,) = await admin.say("/abbrechen")
    assert reply.text == "Abgebrochen. Es wurde nichts verschickt."
    replies = await admin.say("Wann ist das nächste Treffen?")
    assert all(r.text != "An wen soll das Rundschreiben gehen?" for r in replies)
    await services_of(admin_bot).broadcaster.run()
    assert received(sandbox, chats) == Counter(dict.fromkeys(chats, 0))


async def test_429_storm_loses_nothing_and_waits(
    settings: Settings, sandbox: Sandbox, clock: ManualClock
) -> None:
    """Every send refused for a while: nothing is lost, nothing is retried before retry_after."""
    retry_after = 1
    chats = list(range(FIRST, FIRST + 200))
    settings = dataclasses.replace(settings, admins=frozenset({ADMIN}), send_rate=0.0)
    sandbox.add_user(ADMIN)
    app = build_application(settings, clock=clock, seed_demo=True)
    async with running(app):
        await subscribe_news(app, sandbox, chats)
        services = services_of(app)
        store = services.stores.broadcasts
        broadcast = await store.create(
            Content("text", text=TEXT), Audience("news"), by=ADMIN, chat_id=ADMIN, now=clock.now()
        )
        await store.start(broadcast.id, by=ADMIN, now=clock.now())
        services.broadcaster.wake()
        deadline = time.monotonic() + 10
        while len(received_by(sandbox, chats)) < 20:  # the storm breaks out mid-broadcast
            assert time.monotonic() < deadline
            await asyncio.sleep(0.001)
        sandbox.storm(seconds=2.5, retry_after=retry_after)
        await services.broadcaster.run()

    assert received(sandbox, chats) == Counter(dict.fromkeys(chats, 1)), "nobody lost, no twice"
    sends = [c for c in sandbox.calls if counts_for_flood(c.method) and c.chat_id in set(chats)]
    refused = [c for c in sends if c.status == 429]
    assert refused, "the storm happened"
    # Requests already on their way when the first 429 arrived may land just after it.
    slack = 0.05
    for refusal in refused:
        early = [
            c for c in sends if refusal.time + slack < c.time < refusal.time + retry_after - slack
        ]
        assert not early, f"{len(early)} sends within retry_after of a 429"


async def test_silence_discards_the_draft(
    settings: Settings, clock: ManualClock, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A composition left alone ends with a note; its draft is cancelled and nothing is sent.

    PTB runs conversation timeouts on APScheduler's real clock, so this test shortens the
    timeout instead of moving the bot's clock.
    """
    monkeypatch.setattr(broadcast_handlers, "CONVERSATION_TIMEOUT", timedelta(seconds=0.3))
    app = build_application(
        dataclasses.replace(settings, admins=frozenset({ADMIN})), clock=clock, seed_demo=True
    )
    async with running(app):
        chats = list(range(FIRST, FIRST + 3))
        await subscribe_news(app, sandbox, chats)
        admin = Person(sandbox, ADMIN, "Ada")
        await compose_to_news(admin, text=TEXT)
        for _ in range(200):  # waiting for the bot's timeout job, at most 10 s
            if (admin.messages()[-1].text or "").startswith("Das Rundschreiben wurde nach"):
                break
            await asyncio.sleep(0.05)
        assert (admin.messages()[-1].text or "").endswith("Es wurde nichts gesendet.")
        await services_of(app).broadcaster.run()
        with sqlite3.connect(settings.database) as conn:
            statuses = conn.execute("SELECT status FROM broadcasts").fetchall()
    assert statuses == [("cancelled",)]
    assert received(sandbox, chats) == Counter(dict.fromkeys(chats, 0))


async def test_cancel_from_the_status_list_asks_first(
    admin_bot: BotApp, sandbox: Sandbox, settings: Settings
) -> None:
    """Cancelling a planned circular asks first; "Zurück" changes nothing, "Ja" cancels."""
    chats = list(range(FIRST, FIRST + 3))
    await subscribe_news(admin_bot, sandbox, chats)
    admin = Person(sandbox, ADMIN, "Ada")
    _, _, question = await compose_to_news(admin, text=TEXT)
    await admin.press("Planen", question)
    await admin.say("27.11.2026 09:00")
    (status,) = await admin.say("/rundschreiben_status")
    await admin.press("Nr. 1 abbrechen", status)
    assert "wirklich abbrechen" in (admin.messages()[-1].text or "")
    await admin.press("Zurück", admin.messages()[-1])
    assert "geplant" in (admin.messages()[-1].text or "")
    await admin.press("Nr. 1 abbrechen", admin.messages()[-1])
    await admin.press("Ja, abbrechen", admin.messages()[-1])
    with sqlite3.connect(settings.database) as conn:
        assert conn.execute("SELECT status FROM broadcasts").fetchall() == [("cancelled",)]
    await services_of(admin_bot).broadcaster.run()
    assert received(sandbox, chats) == Counter(dict.fromkeys(chats, 0))
