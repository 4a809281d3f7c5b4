"""Privacy (DSGVO): /datenschutz explains, /meine_daten exports, /daten_loeschen deletes.

Everything the bot holds about a person is in its database (``storage.privacy`` lists the
tables), so the export is complete and the deletion reaches everything: subscriptions,
reminders, outbox rows, an open account dialog with its code, and the link to the membership
(the member record stays, unlinked). An audit entry records that a deletion happened, with
counts only.
"""

from __future__ import annotations

import html
import json
import logging
from typing import TYPE_CHECKING, Any, Final

from babel.dates import format_datetime
from telegram import InputFile
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.views import callbacks
from bot.views.replies import Button, Reply
from handlers.respond import send_replies, show_in_place
from storage.privacy import delete_chat_data, export_chat_data

if TYPE_CHECKING:
    from telegram import Update
    from telegram.ext import BaseHandler

    from bot.context import BotContext

log = logging.getLogger(__name__)

EXPORT_NAME: Final = "meine-daten.json"


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Return this feature's handlers in priority order."""
    return [
        CommandHandler("datenschutz", show_privacy),
        CommandHandler("meine_daten", export_data),
        CommandHandler("daten_loeschen", ask_delete),
        CallbackQueryHandler(delete_data, pattern=rf"^{callbacks.PRIVACY_DELETE_YES}$"),
        CallbackQueryHandler(keep_data, pattern=rf"^{callbacks.PRIVACY_DELETE_NO}$"),
    ]


async def _private_chat(update: Update, context: BotContext) -> int | None:
    """Return the private chat's id; in a group, ask to write privately."""
    chat = update.effective_chat
    if chat is None:
        return None
    if chat.type == chat.PRIVATE:
        return chat.id
    if update.effective_message is not None:
        await update.effective_message.reply_text(
            context.gettext("Please write to me in a private chat for anything about your data."),
            do_quote=False,
        )
    return None


async def _is_admin(update: Update, context: BotContext) -> bool:
    """Tell whether the sender is an admin (without answering anything)."""
    user = update.effective_user
    return user is not None and await context.services.stores.admins.is_admin(user.id)


def _admin_block(context: BotContext, admin: bool) -> list[str]:
    """Return what the bot keeps about an admin's unfinished dialogs (admins only)."""
    if not admin:
        return []
    text = context.gettext(
        "<b>For admins:</b> an unfinished {meeting} or {circular} (your answers so far and "
        "the step) is stored until you finish or cancel it, so that it survives a restart of "
        "the bot; after 30 minutes without an answer it expires and is deleted after a week "
        "at the latest."
    )
    return [text.format(meeting="/termin_neu", circular="/rundschreiben")]


async def show_privacy(update: Update, context: BotContext) -> None:
    """Explain what the bot stores, why, for how long, and whom to contact."""
    if update.effective_message is None:
        return
    _ = context.gettext
    contact = context.services.settings.privacy_contact
    blocks = [
        "<b>{}</b>".format(_("Privacy")),
        _(
            "<b>What I store, and why:</b> what you subscribe to and your reminder settings "
            "(to send you reminders and news), the reminders and messages due to you (so that "
            "none is lost or sent twice), and, if you link this chat to your membership, the "
            "link to your member record."
        ),
        _(
            "<b>Questions I cannot answer:</b> when I cannot answer a question, I keep its "
            "text (at most 500 characters, without your name, user id or chat id) for 30 "
            "days, so that the admins of the IT Bündnis BW can improve the data and the bot. "
            "All other questions are answered and not stored. As such a text is not linked "
            "to you, it is not part of {export} and cannot be deleted with {delete}; please "
            "do not write personal details into questions."
        ).format(export="/meine_daten", delete="/daten_loeschen"),
        _(
            "<b>“Ich komme”:</b> when you say that you come to a meeting, I store that (the "
            "organisers see how many people come). Your first name is stored only if you "
            "choose to share your name; then the admins may also see the name of your "
            "membership if this chat is linked to it. “Doch nicht” deletes the entry."
        ),
        _(
            "<b>Codes and passwords:</b> codes by e-mail are stored only as a keyed hash and "
            "expire after 10 minutes. A new password is stored only as an argon2id hash in "
            "the member directory; I delete the message with the password immediately. "
            "To limit abuse, I count code requests per chat and per address for one hour, "
            "and wrong codes per address (as a keyed hash) for 24 hours."
        ),
        *_admin_block(context, await _is_admin(update, context)),
        _(
            "<b>How long:</b> your subscriptions and settings until you unsubscribe or delete "
            "your data; once you follow nothing any more, or have blocked me, for {days} days "
            "more. Reminders and messages to you: {days} days after they were due or sent. "
            "An account dialog: until it ends, plus one hour. Each night I delete what is "
            "older. Admins are named in the log of admin actions; deleting your data replaces "
            "your name there with a pseudonym. Your member record belongs to your membership "
            "and is kept by the IT Bündnis BW."
        ).format(days=context.services.settings.retention_days),
        _(
            "<b>Your rights:</b> {export} sends you everything I hold about you as a file; "
            "{delete} deletes it (after a confirmation). Messages in this chat remain in "
            "Telegram; you can delete them in the app."
        ).format(export="/meine_daten", delete="/daten_loeschen"),
    ]
    if contact:
        blocks.append(
            _("<b>Contact for data protection:</b> {contact}").format(contact=html.escape(contact))
        )
    else:
        blocks.append(
            _(
                "<b>Contact for data protection:</b> the operator of this bot, the IT Bündnis "
                "BW; please ask through your regional network."
            )
        )
    await update.effective_message.reply_text("\n\n".join(blocks), do_quote=False)


async def export_data(update: Update, context: BotContext) -> None:
    """Send everything the bot holds about this person as a JSON document."""
    if (chat_id := await _private_chat(update, context)) is None:
        return
    if update.effective_message is None:
        return
    services = context.services
    now = services.clock.now()
    data = await export_chat_data(services.stores.db, chat_id, now=now)
    body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False).encode()
    when = format_datetime(
        now, "short", tzinfo=services.settings.timezone, locale=services.tr.locale
    )
    caption = context.gettext(
        "Everything I hold about you, as of {when}. The password itself is not in it: it is "
        "stored only as a hash."
    ).format(when=html.escape(when))
    log.info("Sent a personal data export")
    await update.effective_message.reply_document(
        InputFile(body, filename=EXPORT_NAME, attach=True), caption=caption, do_quote=False
    )


async def ask_delete(update: Update, context: BotContext) -> None:
    """Ask before deleting everything the bot holds about this person."""
    if (await _private_chat(update, context)) is None:
        return
    _ = context.gettext
    text = _(
        "Should I delete everything I hold about you? That is your subscriptions and "
        "reminder settings, pending reminders and messages, the meetings you said you come "
        "to (“Ich komme”), an open account dialog with its code, and the link of this chat to "
        "your membership; in the log of admin actions, a pseudonym replaces you. Your member "
        "record itself stays (it belongs to your membership) but is no longer linked to this "
        "chat. This cannot be undone."
    )
    buttons = (
        (
            Button(_("Yes, delete everything"), data=callbacks.PRIVACY_DELETE_YES),
            Button(_("No"), data=callbacks.PRIVACY_DELETE_NO),
        ),
    )
    await send_replies(update, [Reply(text, buttons)])


async def delete_data(update: Update, context: BotContext) -> None:
    """Delete everything the bot holds about this person (after the confirmation)."""
    if (query := update.callback_query) is None:
        return
    if (chat_id := await _private_chat(update, context)) is None:
        await query.answer()
        return
    services = context.services
    await delete_chat_data(services.stores.db, chat_id, now=services.clock.now())
    services.stores.accounts.forget(chat_id)
    # An admin's half-written meeting or circular is in memory too (PTB's user_data, which
    # the persistence would otherwise write back): the chat id is the person's user id.
    context.application.drop_user_data(chat_id)
    log.info("Deleted a person's data on request")
    text = context.gettext(
        "Done: I have deleted everything I held about you. Your member record still exists "
        "but is no longer linked to this chat."
    )
    await show_in_place(query, Reply(text))


async def keep_data(update: Update, context: BotContext) -> None:
    """Leave everything as it is."""
    if (query := update.callback_query) is None:
        return
    await show_in_place(query, Reply(context.gettext("Nothing was deleted.")))
