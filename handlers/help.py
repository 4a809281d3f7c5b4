"""/hilfe and /help: what to ask and which commands exist."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.views import catalog
from bot.views.callbacks import HELP
from handlers.respond import send_replies, show_in_place

if TYPE_CHECKING:
    from telegram import Update
    from telegram.ext import BaseHandler

    from bot.context import BotContext


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Return this feature's handlers in priority order."""
    return [
        CommandHandler(["hilfe", "help"], show_help),
        CallbackQueryHandler(show_help_in_place, pattern=rf"^{re.escape(HELP)}$"),
    ]


async def show_help(update: Update, context: BotContext) -> None:
    """Explain what the bot can do."""
    await send_replies(update, [catalog.help_reply(await context.render_context())])


async def show_help_in_place(update: Update, context: BotContext) -> None:
    """Show the help in place of the pressed message."""
    if (query := update.callback_query) is None:
        return
    await show_in_place(query, catalog.help_reply(await context.render_context()))
