"""Free text in private chats: members' questions answered from the alliance's data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram.ext import MessageHandler, filters

from bot.qa import answer_question
from bot.respond import send_replies

if TYPE_CHECKING:
    from telegram import Update
    from telegram.ext import BaseHandler

    from bot.context import BotContext

QUESTION = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Return this feature's handlers in priority order."""
    return [MessageHandler(QUESTION, answer)]


async def answer(update: Update, context: BotContext) -> None:
    """Answer a question typed in German."""
    if (message := update.effective_message) is None or message.text is None:
        return
    await send_replies(update, answer_question(message.text, await context.render_context()))
