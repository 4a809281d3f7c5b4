"""Who blocked the bot: Telegram says so with a ``my_chat_member`` update (and 403 on sends).

A person who blocks the bot gets nothing more until they come back; unblocking and /start
count as coming back.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from telegram import ChatMember
from telegram.ext import ChatMemberHandler

if TYPE_CHECKING:
    from telegram import Update
    from telegram.ext import BaseHandler

    from bot.context import BotContext

log = logging.getLogger(__name__)


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Return this feature's handlers in priority order."""
    return [ChatMemberHandler(track_block, ChatMemberHandler.MY_CHAT_MEMBER)]


async def track_block(update: Update, context: BotContext) -> None:
    """Record that a person blocked or unblocked the bot in their private chat."""
    change = update.my_chat_member
    if change is None or change.chat.type != change.chat.PRIVATE:
        return
    store = context.services.stores.subscriptions
    now = context.services.clock.now()
    if change.new_chat_member.status in (ChatMember.BANNED, ChatMember.LEFT):
        if await store.mark_blocked(change.chat.id, now=now):
            log.info("A subscriber blocked the bot (update %s)", update.update_id)
    elif change.new_chat_member.status == ChatMember.MEMBER:
        await store.mark_active(change.chat.id, now=now)
