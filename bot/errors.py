"""The error handler: log first (update id only, never message texts), then apologise."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from telegram import Update
from telegram.error import Conflict, Forbidden, RetryAfter, TelegramError

from bot.domain.tracebacks import describe_without_messages

if TYPE_CHECKING:
    from bot.context import BotContext

log = logging.getLogger(__name__)


async def handle_error(update: object, context: BotContext) -> None:
    """Log the failure and tell the person politely that something went wrong."""
    if update is None and isinstance(context.error, Conflict):
        # getUpdates: another process polls this token. Logged once, not per retry.
        conflicts = context.services.conflicts
        if conflicts is not None:
            conflicts.conflict(context.error.message)
            return
    update_id = update.update_id if isinstance(update, Update) else None
    # An exception's message may quote what a person typed: at ERROR only the frames and
    # the exception types; everything, messages included, at DEBUG.
    log.error(
        "Update %s caused an error:\n%s", update_id, describe_without_messages(context.error)
    )
    log.debug("Update %s caused an error", update_id, exc_info=context.error)
    if not isinstance(update, Update) or isinstance(context.error, Forbidden):
        return
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except TelegramError:
            log.debug("Could not answer the callback query of update %s", update_id)
    chat = update.effective_chat
    if chat is None:
        return
    if isinstance(context.error, RetryAfter):
        # Flood control refused the reply (and its one retry): an apology now would only
        # be refused too, and deepen the flood.
        log.warning("Update %s: no apology while Telegram's flood control holds", update_id)
        return
    try:
        await context.bot.send_message(
            chat.id,
            context.gettext(
                "Sorry, something went wrong on our side. Please try again in a moment, "
                "or send /hilfe."
            ),
        )
    except TelegramError:
        log.warning("Could not send the apology for update %s", update_id)
