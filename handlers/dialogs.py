"""What the two admin dialogs (/termin_neu and friends, /rundschreiben) share.

One dialog at a time owns an admin's chat; both end after the same silence, tell the admin
so, and end the same way after a restart that outlived them (the persistence loads them in the
``EXPIRED`` state, see bot/persistence.py). The dialogs themselves stay in their features.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from telegram import Update
from telegram.ext import ConversationHandler, TypeHandler

from bot.domain.text import N_
from storage.drafts import EXPIRED

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine
    from typing import Any

    from telegram.ext import BaseHandler

    from bot.context import BotContext

    EndHandler = Callable[[Update, BotContext], Coroutine[Any, Any, int]]

CONVERSATION_TIMEOUT: Final = timedelta(minutes=30)

# user_data: which admin dialog owns the chat (one at a time), and since when (Unix time: the
# claim is kept across a restart with the dialog's draft).
DIALOG_KEY: Final = "admin.dialog"
# A claim older than this is stale (the dialogs end after 30 minutes of silence anyway).
DIALOG_STALE_SECONDS: Final = 2 * 60 * 60
DIALOG_NAMES: Final = {
    "meetings": N_("You are editing a meeting at the moment."),
    "broadcast": N_("You are writing a circular at the moment."),
}


def closing_states(
    timed_out: EndHandler,
) -> dict[object, list[BaseHandler[Update, BotContext, object]]]:
    """Return the states that end a dialog after its silence: PTB's timeout, after a restart."""

    async def expired(update: Update, context: BotContext) -> int:
        """End a dialog whose time ran out while the bot was down, as a timeout does."""
        if update.callback_query is not None:
            await update.callback_query.answer()  # a button pressed after the restart
        return await timed_out(update, context)

    return {
        ConversationHandler.TIMEOUT: [TypeHandler(Update, timed_out)],
        EXPIRED: [TypeHandler(Update, expired)],
    }


async def tell_timed_out(update: Update, context: BotContext, message: str) -> int:
    """Tell the admin a dialog ended after its silence (``message`` has a {minutes} field)."""
    if update.effective_chat is not None:
        minutes = int(CONVERSATION_TIMEOUT.total_seconds() // 60)
        await context.bot.send_message(update.effective_chat.id, message.format(minutes=minutes))
    return ConversationHandler.END


async def claim_dialog(update: Update, context: BotContext, name: str) -> bool:
    """Let the admin dialog ``name`` own the chat, or refuse with a hint if another does.

    Two dialogs at once would both take the admin's next message: with /rundschreiben open,
    /termin_neu's title became the circular's text. The features do not know each other;
    each claims the chat here when it starts and releases it when it ends.
    """
    data = context.user_data
    if data is None:
        return True
    held = _claim(data.get(DIALOG_KEY))
    if held is not None and held[0] != name and time.time() - held[1] < DIALOG_STALE_SECONDS:
        _ = context.gettext
        text = "{} {}".format(
            _(DIALOG_NAMES.get(held[0], DIALOG_NAMES["meetings"])),
            _("Please finish it first, or end it with /abbrechen."),
        )
        if update.effective_message is not None:
            await update.effective_message.reply_text(text, do_quote=False)
        return False
    data[DIALOG_KEY] = [name, time.time()]
    return True


def _claim(value: object) -> tuple[str, float] | None:
    """Return a stored claim as (dialog, since); the persistence keeps it as a JSON list."""
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], int | float)
    ):
        return value[0], float(value[1])
    return None


def release_dialog(context: BotContext, name: str | None = None) -> None:
    """End the claim of dialog ``name`` (any dialog's without a name) on the chat."""
    data = context.user_data
    if data is None:
        return
    held = _claim(data.get(DIALOG_KEY))
    if name is None or held is None or held[0] == name:
        data.pop(DIALOG_KEY, None)
