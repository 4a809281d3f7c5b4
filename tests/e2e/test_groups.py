"""Groups follow topics: admins change the group's /abo, reminders go to the group.

The real bot polls the sandbox; the group's members, their status (getChatMember) and the
bot's own membership (my_chat_member) are set through the sandbox's driver.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.app import services_of
from bot.views import callbacks
from tests.e2e.conftest import until
from tests.e2e.test_subscriptions import KARLSRUHE, ONE_DAY_BEFORE, dispatch

if TYPE_CHECKING:
    from pathlib import Path

    from bot.app import BotApp
    from bot.config import Settings
    from bot.domain.clock import ManualClock
    from bot.sandbox import Sandbox, SentMessage

GROUP = -1001500000001
ADMIN = 2001
MEMBER = 2002
BOT = "@netzwerkbot_sandbox_bot"


def group_rows(database: Path, chat_id: int = GROUP) -> list[tuple[object, ...]]:
    """Return the chat's subscriptions as stored."""
    with sqlite3.connect(database) as conn:
        return conn.execute(
            "SELECT topic, target FROM subscriptions WHERE chat_id = ? ORDER BY topic", (chat_id,)
        ).fetchall()


def subscriber_exists(database: Path, chat_id: int = GROUP) -> bool:
    """Tell whether the chat is stored as a subscriber."""
    with sqlite3.connect(database) as conn:
        row = conn.execute("SELECT 1 FROM subscribers WHERE chat_id = ?", (chat_id,)).fetchone()
    return row is not None


async def say(
    sandbox: Sandbox,
    user: int,
    text: str,
    *,
    replies: int = 1,
    reply_to: int | None = None,
    chat: int = GROUP,
) -> list[SentMessage]:
    """Let a member write in the group; return the bot's new messages there.

    Waits for ``replies`` messages (answering can take a while on a busy machine, without any
    call the sandbox would see); with 0, waits until the bot has been quiet for a second.
    """
    before = len(sandbox.messages(chat))
    sandbox.send_text(user, text, chat_id=chat, reply_to=reply_to)
    deadline = time.monotonic() + 10
    while len(sandbox.messages(chat)) < before + replies:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the bot sent {len(sandbox.messages(chat)) - before} messages")
        await asyncio.sleep(0.01)  # waiting for the bot's HTTP call, not for time to pass
    await sandbox.wait_idle(quiet=1.0 if replies == 0 else 0.3, timeout=10)
    return sandbox.messages(chat)[before:]


async def press(sandbox: Sandbox, user: int, message: SentMessage, label: str) -> str | None:
    """Let a member press a button of a group message; return the alert it answered, if any."""
    for row in (message.reply_markup or {}).get("inline_keyboard", []):
        for button in row:
            if label in button["text"]:
                calls = len(sandbox.calls)
                sandbox.press_button(
                    user, message.message_id, button["callback_data"], chat_id=GROUP
                )
                await sandbox.wait_idle(quiet=0.5, timeout=10)
                answers = [
                    c.params.get("text")
                    for c in sandbox.calls[calls:]
                    if c.method == "answerCallbackQuery"
                ]
                return answers[-1] if answers else None
    raise AssertionError(f"no button {label!r}")


def labels(message: SentMessage) -> list[str]:
    """Return the labels of a message's buttons."""
    return [
        b["text"] for row in (message.reply_markup or {}).get("inline_keyboard", []) for b in row
    ]


def a_group(sandbox: Sandbox) -> None:
    """Register the group, an admin and a plain member."""
    sandbox.add_group(GROUP, "IT-Netzwerk Karlsruhe", chat_type="supergroup")
    sandbox.add_user(ADMIN, first_name="Ada")
    sandbox.add_user(MEMBER, first_name="Max")
    sandbox.set_member(GROUP, ADMIN, "administrator")
    sandbox.set_member(GROUP, MEMBER, "member")


async def subscribe_group(sandbox: Sandbox) -> SentMessage:
    """Let the group's admin switch on "Alle Netzwerktreffen" in the group's /abo."""
    (panel,) = await say(sandbox, ADMIN, f"/abo{BOT}")
    assert panel.text is not None
    assert panel.text.startswith("Abos der Gruppe IT-Netzwerk Karlsruhe")
    assert await press(sandbox, ADMIN, panel, "Alle Netzwerktreffen") is None
    edited = sandbox.messages(GROUP)[-1]
    assert edited.message_id == panel.message_id
    assert "✅ Alle Netzwerktreffen" in labels(edited)
    return edited


async def test_admin_subscribes_the_group_and_a_member_cannot(
    bot: BotApp, sandbox: Sandbox, settings: Settings
) -> None:
    """Only the group's administrators change its subscriptions, asked at every press."""
    a_group(sandbox)
    (panel,) = await say(sandbox, MEMBER, "/abo")  # anyone may look
    alert = await press(sandbox, MEMBER, panel, "Alle Netzwerktreffen")
    assert alert == "Nur die Administratoren der Gruppe können ihre Abos ändern."
    assert group_rows(settings.database) == []

    panel = await subscribe_group(sandbox)
    assert group_rows(settings.database) == [("meetings", "")]
    await press(sandbox, MEMBER, panel, "Neuigkeiten")
    assert group_rows(settings.database) == [("meetings", "")]

    # Demoted a moment ago: the next press asks Telegram again and is refused.
    sandbox.set_member(GROUP, ADMIN, "member")
    alert = await press(sandbox, ADMIN, panel, "Neuigkeiten")
    assert alert == "Nur die Administratoren der Gruppe können ihre Abos ändern."
    assert group_rows(settings.database) == [("meetings", "")]
    sandbox.set_member(GROUP, ADMIN, "creator")
    assert await press(sandbox, ADMIN, panel, "Neuigkeiten") is None
    assert group_rows(settings.database) == [("meetings", ""), ("news", "")]


async def test_reminder_reaches_the_group(
    bot: BotApp, sandbox: Sandbox, clock: ManualClock
) -> None:
    """A group that follows all meetings gets the Karlsruhe reminder in the group."""
    a_group(sandbox)
    await subscribe_group(sandbox)
    clock.set(ONE_DAY_BEFORE)
    await dispatch(bot)
    reminders = [m for m in sandbox.messages(GROUP) if (m.text or "").startswith("Erinnerung")]
    (reminder,) = reminders
    assert "Karlsruhe" in (reminder.text or "")
    assert sandbox.messages(ADMIN) == []  # nothing went to the admin privately


async def test_removal_from_the_group_ends_its_subscriptions(
    bot: BotApp, sandbox: Sandbox, settings: Settings, clock: ManualClock
) -> None:
    """my_chat_member "kicked": the group's subscriptions end, its reminder is not sent."""
    a_group(sandbox)
    await subscribe_group(sandbox)
    sandbox.set_bot_member(GROUP, "kicked", by=ADMIN)
    await until(lambda: not subscriber_exists(settings.database))
    sends = len(sandbox.accepted_sends)
    clock.set(ONE_DAY_BEFORE)
    await dispatch(bot)
    assert len(sandbox.accepted_sends) == sends
    assert [c for c in sandbox.calls if c.chat_id == GROUP and c.status == 403] == []


async def test_a_403_from_the_group_ends_its_subscriptions(
    bot: BotApp, sandbox: Sandbox, settings: Settings, clock: ManualClock
) -> None:
    """Removed without an update reaching the bot: the refused reminder ends them."""
    a_group(sandbox)
    await subscribe_group(sandbox)
    sandbox.inject_fault(GROUP, "blocked")
    clock.set(ONE_DAY_BEFORE)
    await dispatch(bot)
    assert not subscriber_exists(settings.database)
    sandbox.clear_faults()
    clock.advance(timedelta(hours=22))  # the 2-hour reminder's time
    await dispatch(bot)
    assert not [m for m in sandbox.messages(GROUP) if (m.text or "").startswith("Erinnerung")]


async def test_free_text_in_the_group_only_when_addressed(bot: BotApp, sandbox: Sandbox) -> None:
    """The members' conversation is left alone; a mention or a reply to the bot is answered."""
    a_group(sandbox)
    assert await say(sandbox, MEMBER, "Wann ist das nächste Treffen?", replies=0) == []
    assert await say(sandbox, MEMBER, "/gibtsnicht", replies=0) == []  # another bot's?
    (answer,) = await say(sandbox, MEMBER, f"{BOT} wann ist das nächste Treffen?")
    assert "Karlsruhe" in (answer.text or "")
    assert answer.reply_to is not None  # it quotes whose question it answers
    (again,) = await say(sandbox, MEMBER, "Und was macht cyberLAGO?", reply_to=answer.message_id)
    assert "cyberLAGO" in (again.text or "")
    (cards,) = await say(sandbox, MEMBER, f"/netzwerke{BOT}")
    assert "Netzwerke" in (cards.text or "")


async def test_greeting_when_added_and_the_group_menu(bot: BotApp, sandbox: Sandbox) -> None:
    """A group that adds the bot is greeted once; groups get a menu of what works there."""
    a_group(sandbox)
    sandbox.set_bot_member(GROUP, "left", by=ADMIN)
    sandbox.set_bot_member(GROUP, "member", by=ADMIN)
    await until(lambda: len(sandbox.messages(GROUP)) == 1)
    await sandbox.wait_idle(quiet=0.3, timeout=10)
    (greeting,) = sandbox.messages(GROUP)
    assert (greeting.text or "").startswith("Guten Tag! Ich bin der Assistent des IT Bündnis BW.")
    assert BOT in (greeting.text or "")
    sandbox.set_bot_member(GROUP, "administrator", by=ADMIN)  # promoted: no second greeting
    await sandbox.wait_idle(quiet=0.3, timeout=10)
    assert len(sandbox.messages(GROUP)) == 1
    for language in ("", "de"):
        menu = [c["command"] for c in sandbox.commands({"type": "all_group_chats"}, language)]
        assert menu == ["netzwerke", "termine", "treffen", "abo", "erinnerungen", "stopp", "hilfe"]


async def test_subscriptions_follow_the_group_into_its_supergroup(
    bot: BotApp, sandbox: Sandbox, settings: Settings, clock: ManualClock
) -> None:
    """A basic group upgraded to a supergroup keeps what it follows under its new id."""
    basic, upgraded = -4001, -1004001
    sandbox.add_group(basic, "IT-Netzwerk Ulm")
    sandbox.set_member(basic, ADMIN, "creator")
    (panel,) = await say(sandbox, ADMIN, "/abo", chat=basic)
    for row in panel.reply_markup["inline_keyboard"]:
        for button in row:
            if "Alle Netzwerktreffen" in button["text"]:
                sandbox.press_button(
                    ADMIN, panel.message_id, button["callback_data"], chat_id=basic
                )
    await until(lambda: group_rows(settings.database, basic) == [("meetings", "")])

    sandbox.migrate_group(basic, upgraded, by=ADMIN)
    await until(lambda: group_rows(settings.database, upgraded) == [("meetings", "")])
    assert group_rows(settings.database, basic) == []
    assert group_rows(settings.database, upgraded) == [("meetings", "")]
    clock.set(ONE_DAY_BEFORE)
    await dispatch(bot)
    (reminder,) = sandbox.messages(upgraded)
    assert (reminder.text or "").startswith("Erinnerung")


async def test_cancel_notice_reaches_the_group(
    bot: BotApp, sandbox: Sandbox, clock: ManualClock
) -> None:
    """A group reminded of a meeting hears when it is cancelled."""
    a_group(sandbox)
    await subscribe_group(sandbox)
    clock.set(ONE_DAY_BEFORE)
    await dispatch(bot)
    services = services_of(bot)
    await services.stores.catalog.cancel_event(
        KARLSRUHE, actor=None, now=clock.now(), tz=services.settings.timezone
    )
    await dispatch(bot)
    texts = [m.text or "" for m in sandbox.messages(GROUP)]
    assert texts[-2].startswith("Erinnerung")
    assert texts[-1].startswith("Abgesagt: Frühjahrstreffen")


async def test_a_forged_channel_button_in_a_group_is_answered(
    bot: BotApp, sandbox: Sandbox, settings: Settings
) -> None:
    """Data naming a channel, pressed in a group, changes nothing and gets an answer."""
    a_group(sandbox)
    panel = await subscribe_group(sandbox)
    for data in (f"c:-1001234567890:{callbacks.SUB_OPEN}", "c:-1001234567890:sub:t:news"):
        calls = len(sandbox.calls)
        sandbox.press_button(ADMIN, panel.message_id, data, check=False, chat_id=GROUP)
        await until(
            lambda n=calls: any(c.method == "answerCallbackQuery" for c in sandbox.calls[n:])
        )
        (answer,) = [c for c in sandbox.calls[calls:] if c.method == "answerCallbackQuery"]
        assert answer.params.get("text") == (
            "Nur die Administratoren des Kanals können seine Abos ändern."
        )
    assert group_rows(settings.database) == [("meetings", "")]
