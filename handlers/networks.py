"""/netzwerke: the regional networks as buttons, and each network's card."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.views import catalog
from bot.views.callbacks import NETWORK_LIST, NETWORK_SHOW
from handlers.respond import send_replies, show_in_place

if TYPE_CHECKING:
    from telegram import Update
    from telegram.ext import BaseHandler

    from bot.context import BotContext

SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Return this feature's handlers in priority order."""
    return [
        CommandHandler("netzwerke", list_networks),
        CallbackQueryHandler(show_network_list, pattern=rf"^{re.escape(NETWORK_LIST)}$"),
        CallbackQueryHandler(show_network, pattern=rf"^{re.escape(NETWORK_SHOW)}{SLUG}$"),
    ]


async def list_networks(update: Update, context: BotContext) -> None:
    """Show all networks as buttons."""
    await send_replies(update, [catalog.network_list(await context.render_context())])


async def show_network_list(update: Update, context: BotContext) -> None:
    """Show all networks in place of the pressed message."""
    if (query := update.callback_query) is None:
        return
    await show_in_place(query, catalog.network_list(await context.render_context()))


async def show_network(update: Update, context: BotContext) -> None:
    """Show the card of the network whose button was pressed."""
    if (query := update.callback_query) is None or query.data is None:
        return
    ctx = await context.render_context()
    network = ctx.catalog.network(query.data.removeprefix(NETWORK_SHOW))
    if network is None:
        await query.answer(context.gettext("This network is no longer in my data."))
        return
    await show_in_place(query, catalog.network_card(ctx, network))
