"""Who blocked or removed the bot: Telegram says so with ``my_chat_member`` (and 403 on sends).

A person who blocks the bot gets nothing more until they come back; unblocking and /start
count as coming back. A group or channel that removes the bot (or takes away a channel's
right to post) ends its subscriptions at once: nothing more is sent there, and its admins
choose its topics afresh if they add the bot again. A group that adds the bot gets one short
greeting saying how it works there (never a channel: that would be a public post). A group
that becomes a supergroup gets a new chat id: its subscriptions move along.
"""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING, Any

from telegram import ChatMember, ChatMemberAdministrator
from telegram.error import TelegramError
from telegram.ext import ChatMemberHandler, MessageHandler, filters

if TYPE_CHECKING:
    from telegram import Update
    from telegram.ext import BaseHandler

    from bot.context import BotContext

log = logging.getLogger(__name__)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Return this feature's handlers in priority order."""
    return [
        ChatMemberHandler(track_block, ChatMemberHandler.MY_CHAT_MEMBER),
        MessageHandler(filters.StatusUpdate.MIGRATE, follow_migration),
    ]


async def track_block(update: Update, context: BotContext) -> None:
    """Record that a person blocked or unblocked the bot, or a group or channel removed it."""
    change = update.my_chat_member
    if change is None:
        return
    if change.chat.type != change.chat.PRIVATE:
        await track_removal(update, context)
        return
    store = context.services.stores.subscriptions
    now = context.services.clock.now()
    if change.new_chat_member.status in (ChatMember.BANNED, ChatMember.LEFT):
        if await store.mark_blocked(change.chat.id, now=now):
            log.info("A subscriber blocked the bot (update %s)", update.update_id)
    elif change.new_chat_member.status == ChatMember.MEMBER:
        await store.mark_active(change.chat.id, now=now)


async def track_removal(update: Update, context: BotContext) -> None:
    """End a group's or channel's subscriptions when the bot may no longer write there."""
    change = update.my_chat_member
    if change is None:
        return
    member = change.new_chat_member
    gone = member.status in (ChatMember.BANNED, ChatMember.LEFT) or (
        member.status == ChatMember.RESTRICTED and not getattr(member, "is_member", True)
    )
    if change.chat.type == change.chat.CHANNEL and not gone:
        # A channel takes only its admins' posts: an admin without the right to post is out.
        gone = (
            not (isinstance(member, ChatMemberAdministrator) and member.can_post_messages)
            and member.status != ChatMember.OWNER
        )
    joined = (
        change.chat.type != change.chat.CHANNEL
        and change.old_chat_member.status in (ChatMember.BANNED, ChatMember.LEFT)
        and member.status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR)
    )
    if joined:
        await greet_group(context, change.chat.id)
    if gone and await context.services.stores.subscriptions.end_chat(change.chat.id):
        log.info(
            "Removed from a group or channel: its subscriptions ended (update %s)",
            update.update_id,
        )


async def greet_group(context: BotContext, chat_id: int) -> None:
    """Say once, when added to a group, what the bot does there and who changes it."""
    text = context.gettext(
        "Hello! I am the assistant of the IT Bündnis BW. The administrators of this group "
        "choose with /abo what I post here: reminders of meetings, changes and circulars. I "
        "answer questions when you mention me ({mention}) or reply to one of my messages."
    ).format(mention=html.escape(f"@{context.bot.username}"))
    try:
        await context.bot.send_message(chat_id, text)
    except TelegramError:
        log.warning("Could not greet a group that added the bot", exc_info=True)


async def follow_migration(update: Update, context: BotContext) -> None:
    """Move a group's subscriptions to the supergroup it became (either service message)."""
    if (message := update.effective_message) is None:
        return
    if message.migrate_to_chat_id is not None:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id is not None:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    services = context.services
    if await services.stores.subscriptions.move_chat(old, new, now=services.clock.now()):
        log.info(
            "A group became a supergroup: its subscriptions moved (update %s)", update.update_id
        )
