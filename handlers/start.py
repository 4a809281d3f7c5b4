"""/start: the welcome, and the deep links ``netzwerk_<slug>`` and ``termin_<id>``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.views import callbacks, catalog
from bot.views.inline import DEEP_LINK_EVENT, DEEP_LINK_NETWORK
from bot.views.replies import Reply
from handlers.respond import send_replies, show_in_place

if TYPE_CHECKING:
    from telegram import Update
    from telegram.ext import BaseHandler

    from bot.context import BotContext


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Return this feature's handlers in priority order."""
    return [
        CommandHandler("start", start),
        CallbackQueryHandler(show_welcome, pattern=rf"^{callbacks.START_WELCOME}$"),
    ]


async def start(update: Update, context: BotContext) -> None:
    """Greet the person, or open the network or event a deep link names."""
    if update.effective_message is None:
        return
    chat = update.effective_chat
    if chat is not None and chat.type == chat.PRIVATE:
        # Someone who had blocked the bot is back: send to them again.
        await context.services.stores.subscriptions.mark_active(
            chat.id, now=context.services.clock.now()
        )
    ctx = await context.render_context()
    payload = context.args[0] if context.args else ""
    _ = context.gettext
    reply: Reply
    if payload.startswith(DEEP_LINK_NETWORK):
        network = ctx.catalog.network(payload.removeprefix(DEEP_LINK_NETWORK))
        if network is not None:
            reply = catalog.network_card(ctx, network)
        else:
            reply = _with_notice(catalog.network_list(ctx), _("I do not know this network."))
    elif payload.startswith(DEEP_LINK_EVENT):
        event = ctx.catalog.event(payload.removeprefix(DEEP_LINK_EVENT))
        if event is not None:
            reply = catalog.event_card(ctx, event)
        else:
            reply = _with_notice(
                catalog.event_list(ctx, past=False, page=0), _("I do not know this meeting.")
            )
    else:
        user = update.effective_user
        reply = catalog.welcome_reply(ctx, user.first_name if user else None)
    await send_replies(update, [reply])


async def show_welcome(update: Update, context: BotContext) -> None:
    """Show the welcome in place of the pressed message."""
    if (query := update.callback_query) is None:
        return
    user = update.effective_user
    ctx = await context.render_context()
    await show_in_place(query, catalog.welcome_reply(ctx, user.first_name if user else None))


def _with_notice(reply: Reply, notice: str) -> Reply:
    """Put a short notice (already translated, no user input) above a reply."""
    return Reply(f"{notice}\n\n{reply.text}", reply.buttons)
