"""Everything no feature took: unknown commands, stickers and photos, stale or forged buttons."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from telegram.ext import CallbackQueryHandler, MessageHandler, filters

if TYPE_CHECKING:
    from telegram import Update
    from telegram.ext import BaseHandler

    from bot.context import BotContext

log = logging.getLogger(__name__)

PRIVATE_MESSAGE = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Return this feature's handlers in priority order."""
    return [
        MessageHandler(PRIVATE_MESSAGE & filters.COMMAND, unknown_command),
        MessageHandler(PRIVATE_MESSAGE & ~filters.TEXT & ~filters.StatusUpdate.ALL, not_text),
        CallbackQueryHandler(unknown_button),
    ]


async def unknown_command(update: Update, context: BotContext) -> None:
    """Say that the command does not exist and point to the help."""
    if (message := update.effective_message) is None:
        return
    await message.reply_text(
        context.gettext("I do not know this command. Send /hilfe to see what I can do."),
        do_quote=False,
    )


async def not_text(update: Update, context: BotContext) -> None:
    """Say politely that only text messages are understood."""
    if (message := update.effective_message) is None:
        return
    await message.reply_text(
        context.gettext(
            "I can only read text messages. Please write your question, for example "
            "“When is the next meeting?”, or send /hilfe."
        ),
        do_quote=False,
    )


async def unknown_button(update: Update, context: BotContext) -> None:
    """Answer a button the bot does not know (stale or forged data) without acting on it."""
    if (query := update.callback_query) is None:
        return
    log.info("Ignored unknown callback data in update %s", update.update_id)
    await query.answer(
        context.gettext("This button is no longer valid. Please send /start."), show_alert=True
    )
