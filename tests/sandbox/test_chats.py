"""Groups, channels, member status, my_chat_member and inline queries in the sandbox."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import telegram
from telegram import InlineQueryResultArticle, InputTextMessageContent
from telegram.error import BadRequest, ChatMigrated, Forbidden

from tests.sandbox.conftest import USER

if TYPE_CHECKING:
    from bot.sandbox import Sandbox

GROUP = -100
CHANNEL = -1001234567890


async def test_member_status_and_rights(bot: telegram.Bot, sandbox: Sandbox) -> None:
    """getChatMember answers what the driver set; getChatAdministrators lists the admins."""
    sandbox.add_group(GROUP, "Netzwerk Karlsruhe", chat_type="supergroup")
    sandbox.set_member(GROUP, USER, "administrator", can_change_info=True)
    sandbox.set_member(GROUP, 43, "member")
    admin = await bot.get_chat_member(GROUP, USER)
    assert admin.status == "administrator"
    assert isinstance(admin, telegram.ChatMemberAdministrator)
    assert admin.can_change_info
    assert (await bot.get_chat_member(GROUP, 43)).status == "member"
    sandbox.add_user(44)
    assert (await bot.get_chat_member(GROUP, 44)).status == "left"  # never joined
    me = await bot.get_chat_member(GROUP, sandbox.bot_id)
    assert me.status == "member"
    admins = await bot.get_chat_administrators(GROUP)
    assert [a.user.id for a in admins] == [USER]
    with pytest.raises(ValueError, match="no rights"):
        sandbox.set_member(GROUP, 43, "member", can_post_messages=True)


async def test_channel_by_username_and_posting_rights(bot: telegram.Bot, sandbox: Sandbox) -> None:
    """A channel is found by @username; without the right to post, sends are refused."""
    sandbox.add_channel(CHANNEL, "Netzwerk News", username="netzwerk_news")
    chat = await bot.get_chat("@netzwerk_news")
    assert (chat.id, chat.type) == (CHANNEL, "channel")
    me = await bot.get_chat_member(CHANNEL, sandbox.bot_id)
    assert isinstance(me, telegram.ChatMemberAdministrator)
    assert me.can_post_messages
    await bot.send_message(CHANNEL, "Hallo Kanal")
    sandbox.set_bot_member(CHANNEL, "administrator", by=USER, can_post_messages=False)
    with pytest.raises(BadRequest, match=r"(?i)need administrator rights"):
        await bot.send_message(CHANNEL, "Noch einmal")
    sandbox.set_bot_member(CHANNEL, "member", by=USER)
    with pytest.raises(BadRequest, match=r"(?i)member list is inaccessible"):
        await bot.get_chat_member(CHANNEL, USER)


async def test_removal_sends_my_chat_member_and_refuses_sends(
    bot: telegram.Bot, sandbox: Sandbox
) -> None:
    """Removing the bot from a group is an update, and sends there are refused with 403."""
    sandbox.add_group(GROUP, "Netzwerk Karlsruhe")
    await bot.send_message(GROUP, "Hallo Gruppe")
    sandbox.set_bot_member(GROUP, "kicked", by=USER)
    (update,) = await bot.get_updates(allowed_updates=["my_chat_member"])
    assert update.my_chat_member is not None
    assert update.my_chat_member.old_chat_member.status == "member"
    assert update.my_chat_member.new_chat_member.status == "kicked"
    with pytest.raises(Forbidden, match=r"(?i)kicked from the group chat"):
        await bot.send_message(GROUP, "Hallo?")


async def test_mentions_replies_and_forwarded_channel_posts(
    bot: telegram.Bot, sandbox: Sandbox
) -> None:
    """Mentions get entities, replies carry the message, forwards carry their channel."""
    sandbox.add_group(GROUP, "Netzwerk Karlsruhe")
    sent = await bot.send_message(GROUP, "Frage?")
    sandbox.send_text(USER, "@netzwerkbot_sandbox_bot wann?", chat_id=GROUP)
    sandbox.send_text(USER, "morgen?", chat_id=GROUP, reply_to=sent.message_id)
    sandbox.add_channel(CHANNEL, "Netzwerk News", username="netzwerk_news")
    sandbox.forward_channel_post(USER, CHANNEL, "Ein Beitrag")
    mention, reply, forward = await bot.get_updates()
    assert mention.message is not None
    assert mention.message.parse_entities(["mention"])
    assert reply.message is not None
    assert reply.message.reply_to_message is not None
    assert reply.message.reply_to_message.from_user is not None
    assert reply.message.reply_to_message.from_user.id == sandbox.bot_id
    assert forward.message is not None
    origin = forward.message.forward_origin
    assert isinstance(origin, telegram.MessageOriginChannel)
    assert origin.chat.id == CHANNEL


async def test_inline_query_and_answer(bot: telegram.Bot, sandbox: Sandbox) -> None:
    """An inline query arrives as an update; the answer is checked and kept."""
    assert (await bot.get_me()).supports_inline_queries
    query_id = sandbox.send_inline_query(USER, "karlsruhe")
    (update,) = await bot.get_updates()
    assert update.inline_query is not None
    assert update.inline_query.query == "karlsruhe"
    article = InlineQueryResultArticle(
        "1", "Treffen", InputTextMessageContent("<b>Treffen</b>", parse_mode="HTML")
    )
    await update.inline_query.answer([article], cache_time=30, is_personal=False)
    answer = sandbox.inline_answers[query_id]
    assert answer["cache_time"] == 30
    assert answer["results"][0]["input_message_content"]["message_text"] == "<b>Treffen</b>"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await update.inline_query.answer([article])
    second = sandbox.send_inline_query(USER, "x")
    (update,) = await bot.get_updates(offset=update.update_id + 1)
    bad = InlineQueryResultArticle(
        "1", "Kaputt", InputTextMessageContent("<b>offen", parse_mode="HTML")
    )
    with pytest.raises(BadRequest, match=r"(?i)can.t parse entities"):
        await bot.answer_inline_query(second, [bad])


async def test_inline_mode_off(sandbox: Sandbox) -> None:
    """Without /setinline Telegram sends no inline queries."""
    sandbox.inline_mode = False
    with pytest.raises(ValueError, match="inline mode is off"):
        sandbox.send_inline_query(USER, "karlsruhe")


async def test_group_becomes_a_supergroup(bot: telegram.Bot, sandbox: Sandbox) -> None:
    """Service messages in both chats; the old id is refused with the new one named."""
    sandbox.add_group(GROUP, "Netzwerk Karlsruhe")
    sandbox.set_member(GROUP, USER, "creator")
    sandbox.migrate_group(GROUP, CHANNEL, by=USER)
    old, new = await bot.get_updates()
    assert old.message is not None
    assert old.message.migrate_to_chat_id == CHANNEL
    assert new.message is not None
    assert new.message.chat.type == "supergroup"
    assert new.message.migrate_from_chat_id == GROUP
    with pytest.raises(ChatMigrated) as refused:
        await bot.send_message(GROUP, "Hallo?")
    assert refused.value.new_chat_id == CHANNEL
    await bot.send_message(CHANNEL, "Hallo Supergruppe")
    assert (await bot.get_chat_member(CHANNEL, USER)).status == "creator"
