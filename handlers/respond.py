"""Sending replies: new messages for commands and text, in-place edits for buttons."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from telegram import Message, ReplyParameters
from telegram.error import BadRequest

if TYPE_CHECKING:
    from collections.abc import Sequence

    from telegram import CallbackQuery, Update

    from bot.views.replies import Reply

log = logging.getLogger(__name__)


async def send_replies(update: Update, replies: Sequence[Reply]) -> None:
    """Send each reply as a new message in the update's chat.

    In a group the first reply quotes the message it answers, so that it is clear whose
    question it answers among the members' conversation.
    """
    message = update.effective_message
    if message is None:
        return
    quote = message.chat.type != message.chat.PRIVATE
    for reply in replies:
        if quote:
            # The question may be deleted meanwhile: then the answer goes out unquoted.
            where = ReplyParameters(message.message_id, allow_sending_without_reply=True)
            await message.reply_text(
                reply.text, reply_markup=reply.markup(), reply_parameters=where
            )
            quote = False
        else:
            await message.reply_text(reply.text, reply_markup=reply.markup(), do_quote=False)


async def show_in_place(query: CallbackQuery, reply: Reply) -> None:
    """Replace the message whose button was pressed; send anew if it cannot be edited."""
    await query.answer()
    message = query.message
    if not isinstance(message, Message) or message.text is None:
        # Too old to be accessible, or a document: a new message is the honest answer.
        if query.message is not None:
            await query.get_bot().send_message(
                query.message.chat.id, reply.text, reply_markup=reply.markup()
            )
        return
    try:
        await message.edit_text(reply.text, reply_markup=reply.markup())
    except BadRequest as error:
        # Pressing the same button twice changes nothing; Telegram calls that an error.
        if "message is not modified" not in error.message.lower():
            raise
