"""The error handler: log first (update id only, never message texts), then apologise."""

from __future__ import annotations

import logging
import traceback
from typing import TYPE_CHECKING

from telegram import Update
from telegram.error import Forbidden, TelegramError

if TYPE_CHECKING:
    from bot.context import BotContext

log = logging.getLogger(__name__)


async def handle_error(update: object, context: BotContext) -> None:
    """Log the failure and tell the person politely that something went wrong."""
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


def describe_without_messages(error: BaseException | None) -> str:
    """Return the traceback of an exception chain with its frames but without messages."""
    if error is None:
        return "(no exception)"
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = "".join(traceback.format_tb(current.__traceback__))
        parts.append(f"{frames}{type(current).__module__}.{type(current).__qualname__}")
        current = current.__cause__ or current.__context__
    return "\n-- caused by or during --\n".join(reversed(parts))
