"""Channels: an alliance admin connects one, picks its topics, and it gets the circulars.

The real bot polls the sandbox; the channel, the bot's rights there and its administrators
are set through the sandbox's driver.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from typing import TYPE_CHECKING, Final

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.app import BotApp, build_application, running, services_of
from bot.views import callbacks
from tests.e2e.conftest import Person, until
from tests.e2e.test_broadcast import TEXT, compose_to_news

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from bot.config import Settings
    from bot.domain.clock import ManualClock
    from bot.sandbox import Sandbox, SentMessage

ADMIN: Final = 7201
MEMBER: Final = 7202
CHANNEL: Final = -1001700000001
NAME: Final = "netzwerk_news"


@pytest.fixture
async def admin_bot(
    settings: Settings, clock: ManualClock, sandbox: Sandbox
) -> AsyncIterator[BotApp]:
    """Run the bot with one alliance admin from the environment."""
    app = build_application(
        dataclasses.replace(settings, admins=frozenset({ADMIN})), clock=clock, seed_demo=True
    )
    async with running(app):
        yield app


@pytest.fixture
def admin(sandbox: Sandbox) -> Person:
    """Return the alliance admin, who administers the channel too."""
    person = Person(sandbox, ADMIN, "Ada")
    sandbox.add_channel(CHANNEL, "IT-Netzwerk News", username=NAME)
    sandbox.set_member(CHANNEL, ADMIN, "administrator", can_post_messages=True)
    return person


def topics(database: Path) -> list[tuple[object, ...]]:
    """Return the channel's subscriptions as stored."""
    with sqlite3.connect(database) as conn:
        return conn.execute(
            "SELECT topic, target FROM subscriptions WHERE chat_id = ?", (CHANNEL,)
        ).fetchall()


def connected(database: Path) -> bool:
    """Tell whether the channel is stored as connected."""
    with sqlite3.connect(database) as conn:
        row = conn.execute("SELECT 1 FROM channels WHERE chat_id = ?", (CHANNEL,)).fetchone()
    return row is not None


async def connect_and_follow_news(admin: Person, how: str = "name") -> SentMessage:
    """Connect the channel and switch on its news; return the channel's panel."""
    if how == "name":
        (done,) = await admin.say(f"/kanal_verbinden @{NAME}")
    else:
        (question,) = await admin.say("/kanal_verbinden")
        assert "Welchen Kanal soll ich verbinden?" in (question.text or "")
        (done,) = await admin.forward_post(CHANNEL, "Einladung zum Treffen")
    assert done.text == (
        "Der Kanal IT-Netzwerk News ist verbunden. Wählen Sie, welchen Themen er folgt: "
        "Erinnerungen, Änderungsmitteilungen und Rundschreiben zu diesen Themen werden dann "
        "dort veröffentlicht."
    )
    await admin.press("Themen wählen", done)
    panel = admin.messages()[-1]
    assert (panel.text or "").startswith("Abos des Kanals IT-Netzwerk News")
    await admin.press("Neuigkeiten", panel)
    panel = admin.messages()[-1]
    data = [b["callback_data"] for b in panel.buttons()]
    assert all(d.startswith(f"c:{CHANNEL}:") for d in data), "every button names the channel"
    assert all(len(d.encode()) <= 64 for d in data)
    return panel


def audited(database: Path) -> list[tuple[object, ...]]:
    """Return the audit log's actor, action and detail, oldest first."""
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT actor, action, detail FROM audit ORDER BY id").fetchall()


async def test_topic_changes_of_a_channel_are_audited(
    admin_bot: BotApp, settings: Settings, admin: Person
) -> None:
    """An alliance admin's toggles and /stopp in a channel's panel are in the audit log."""
    panel = await connect_and_follow_news(admin)
    await admin.press("Alles abbestellen", panel)
    await admin.press("Ja", admin.messages()[-1])
    await admin.press("Rückgängig", admin.messages()[-1])
    entries = [(a, json.loads(str(d))) for actor, a, d in audited(settings.database)]
    assert all(actor == ADMIN for actor, _, _ in audited(settings.database))
    assert entries == [
        ("channel_connected", {"chat_id": CHANNEL}),
        ("channel_topics_changed", {"chat_id": CHANNEL, "change": "toggled", "topic": "news"}),
        ("channel_topics_changed", {"chat_id": CHANNEL, "change": "stopped"}),
        ("channel_topics_changed", {"chat_id": CHANNEL, "change": "restored"}),
    ]


async def test_connected_channel_gets_a_circular(
    admin_bot: BotApp, sandbox: Sandbox, settings: Settings, admin: Person
) -> None:
    """Connected by name, following the news: a circular is posted in the channel."""
    await connect_and_follow_news(admin)
    assert topics(settings.database) == [("news", "")]

    _, _, question = await compose_to_news(admin, text=TEXT)
    await admin.press("Jetzt senden", question)
    await services_of(admin_bot).broadcaster.run()
    (post,) = sandbox.messages(CHANNEL)
    assert post.text == TEXT
    assert "Zugestellt: 1" in (admin.messages()[-1].text or "")


async def test_connect_by_forwarding_a_post(
    admin_bot: BotApp, settings: Settings, admin: Person
) -> None:
    """After a bare /kanal_verbinden a forwarded post names the channel."""
    await connect_and_follow_news(admin, how="forward")
    assert connected(settings.database)
    assert topics(settings.database) == [("news", "")]


async def test_checks_before_connecting(
    admin_bot: BotApp, sandbox: Sandbox, settings: Settings, admin: Person
) -> None:
    """Only alliance admins who administer the channel, and only where the bot may post."""
    member = Person(sandbox, MEMBER, "Max")
    sandbox.set_member(CHANNEL, MEMBER, "administrator", can_post_messages=True)
    (refusal,) = await member.say(f"/kanal_verbinden @{NAME}")
    assert refusal.text == "Dafür fehlen Ihnen leider die Rechte."

    sandbox.set_bot_member(CHANNEL, "administrator", by=ADMIN, can_post_messages=False)
    (answer,) = await admin.say(f"/kanal_verbinden @{NAME}")
    assert "kein Administrator mit dem Recht" in (answer.text or "")

    sandbox.set_bot_member(CHANNEL, "administrator", by=ADMIN, can_post_messages=True)
    sandbox.set_member(CHANNEL, ADMIN, "member")
    (answer,) = await admin.say(f"/kanal_verbinden @{NAME}")
    assert answer.text == "Nur ein Administrator des Kanals IT-Netzwerk News kann ihn verbinden."

    (answer,) = await admin.say("/kanal_verbinden @gibt_es_nicht")
    assert (answer.text or "").startswith("Diesen Kanal finde ich nicht.")
    assert not connected(settings.database)


async def test_every_press_is_checked(
    admin_bot: BotApp, sandbox: Sandbox, settings: Settings, admin: Person
) -> None:
    """A forged button from someone else, or from an admin no longer the channel's, fails."""
    panel = await connect_and_follow_news(admin)
    member = Person(sandbox, MEMBER, "Max")
    forged = callbacks.for_chat(CHANNEL, callbacks.toggle(callbacks.CODE_WEEKLY))
    sandbox.press_button(MEMBER, 1, forged, check=False)
    await sandbox.wait_idle(quiet=0.3, timeout=10)
    assert topics(settings.database) == [("news", "")]
    assert member.messages() == []

    sandbox.set_member(CHANNEL, ADMIN, "member")
    await admin.press("Wochenvorschau", panel)
    assert topics(settings.database) == [("news", "")]
    answers = [c.params.get("text") for c in sandbox.calls if c.method == "answerCallbackQuery"]
    assert answers[-1] == "Nur die Administratoren des Kanals können seine Abos ändern."


async def test_disconnect_and_removal_end_the_subscriptions(
    admin_bot: BotApp, sandbox: Sandbox, settings: Settings, admin: Person
) -> None:
    """/kanal_trennen ends them; so does removing the bot from the channel."""
    await connect_and_follow_news(admin)
    (choice,) = await admin.say("/kanal_trennen")
    await admin.press("IT-Netzwerk News (@netzwerk_news)", choice)
    assert admin.messages()[-1].text == (
        "Der Kanal IT-Netzwerk News ist getrennt und erhält nichts mehr von mir."
    )
    assert not connected(settings.database)
    assert topics(settings.database) == []

    await connect_and_follow_news(admin)
    sandbox.set_bot_member(CHANNEL, "left", by=ADMIN)
    await until(lambda: not connected(settings.database))
    assert topics(settings.database) == []
    # Added again: a channel gets no greeting (it would be a public post), nor old topics.
    sandbox.set_bot_member(CHANNEL, "administrator", by=ADMIN, can_post_messages=True)
    await sandbox.wait_idle(quiet=0.3, timeout=10)
    assert sandbox.messages(CHANNEL) == []
    assert topics(settings.database) == []


async def test_a_press_under_a_channel_post_opens_the_private_chat(
    admin_bot: BotApp, sandbox: Sandbox, admin: Person
) -> None:
    """A reader's press never edits the channel's post nor posts into the channel.

    Every reader sees the same post: "Details" edited it for all of them, ".ics-Datei" posted
    a file into the channel at every press, and "Abos verwalten" was never answered.
    """
    await connect_and_follow_news(admin)
    event, slug = "demo-2027-03-karlsruhe", "mit-pforzheim"
    buttons = {
        callbacks.event_show(event): f"?start=termin_{event}",
        callbacks.event_ics(event): f"?start=termin_{event}",
        callbacks.network_show(slug): f"?start=netzwerk_{slug}",
        callbacks.SUB_OPEN: "?start=kanal",
        callbacks.subscribe(callbacks.CODE_NEWS): "?start=kanal",
        callbacks.HELP: "?start=kanal",
    }
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(str(n), callback_data=data)] for n, data in enumerate(buttons)]
    )
    post = await admin_bot.bot.send_message(
        CHANNEL, "Erinnerung an ein Treffen", reply_markup=markup
    )
    (before,) = sandbox.messages(CHANNEL)
    for data, link in buttons.items():
        answered = len([c for c in sandbox.calls if c.method.lower() == "answercallbackquery"])
        sandbox.press_button(MEMBER, post.message_id, data, chat_id=CHANNEL)
        await until(
            lambda n=answered: (
                len([c for c in sandbox.calls if c.method.lower() == "answercallbackquery"]) > n
            )
        )
        answer = [c for c in sandbox.calls if c.method.lower() == "answercallbackquery"][-1]
        assert answer.params.get("url") == f"https://t.me/{sandbox.bot_username}{link}", data
    await sandbox.wait_idle(CHANNEL, quiet=0.2, timeout=10)
    (after,) = sandbox.messages(CHANNEL)
    assert (after.text, after.reply_markup) == (before.text, before.reply_markup)
