"""Member accounts: /konto (link the chat), /konto_trennen, /kennwort (a new password).

Both dialogs prove the mailbox with a fresh code by e-mail, also in a linked chat: holding
the phone is not holding the membership. The dialog state lives in the database
(``storage.codes``); while a chat has an open dialog, its text goes to the dialog first
(:func:`dialog_handlers`, an earlier handler group), any other command ends the dialog, and
"abbrechen" or the button cancels it.

When the member directory cannot be reached (an LDAP server down), the commands and every
step answer that this is not possible right now and the dialog ends; the directory has
logged why. That check does not depend on the address, so it tells nothing about it.

No account enumeration: after an address, the reply is the same text whether or not a member
has it, and it is sent before anything that depends on the address's existence; the lookup,
the code and the mail follow as a job of the background mail queue
(``bot.delivery.mail``). The only work before the reply is the rate-limit count, which is
the same for every address.
"""

from __future__ import annotations

import html
import logging
import re
from typing import TYPE_CHECKING, Any, Final

from telegram.error import BadRequest, Forbidden
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.delivery.mail import Mail, RetryLater
from bot.domain.account import (
    CODE_TTL,
    FEATURE_ACCOUNT,
    MAX_CODE_ATTEMPTS,
    MAX_FAILURES,
    MIN_PASSWORD_LENGTH,
    PasswordProblem,
    Purpose,
    check_password,
    generate_code,
    mask_email,
    normalize_email,
    parse_code,
)
from bot.views import callbacks
from bot.views.replies import Button, Reply
from storage.codes import DIALOG_AFTERLIFE, CodeOutcome, RequestOutcome, Step
from storage.mail_jobs import KIND_CHANGED, KIND_LOCKED
from storage.members import (
    DirectoryUnavailable,
    PasswordRefusal,
    PasswordRefused,
    UnknownMember,
)

if TYPE_CHECKING:
    from datetime import datetime

    from telegram import Message, Update
    from telegram.ext import BaseHandler

    from bot.context import BotContext, Services
    from bot.delivery.mail import MailWorker
    from bot.domain.account import Keyring
    from bot.i18n import Translator
    from storage.codes import Flow
    from storage.mail_jobs import MailJob
    from storage.members import Member

log = logging.getLogger(__name__)

CANCEL_WORDS: Final = frozenset({"abbrechen", "abbruch", "stopp", "stop", "cancel", "ende"})
CODE_MINUTES: Final = int(CODE_TTL.total_seconds() // 60)
# For this long after its deadline, a dialog still answers its chat's next message with a
# notice that it has ended (a late code, a late password: deleted all the same).
EXPIRED_NOTICE: Final = DIALOG_AFTERLIFE
PRIVATE_MESSAGE = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Return this feature's commands and buttons in priority order."""
    return [
        CommandHandler("konto", show_account),
        CommandHandler("konto_trennen", unlink_account),
        CommandHandler("kennwort", start_password),
        CallbackQueryHandler(
            start_password_button, pattern=rf"^{re.escape(callbacks.ACCOUNT_PASSWORD)}$"
        ),
        CallbackQueryHandler(unlink_button, pattern=rf"^{re.escape(callbacks.ACCOUNT_UNLINK)}$"),
        CallbackQueryHandler(cancel_button, pattern=rf"^{re.escape(callbacks.ACCOUNT_CANCEL)}$"),
    ]


def dialog_handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Return the handler that gives an open dialog its chat's messages (an earlier group)."""
    return [MessageHandler(PRIVATE_MESSAGE, continue_dialog)]


# --- texts -------------------------------------------------------------------------------


def _cancel_row(tr: Translator) -> tuple[tuple[Button, ...], ...]:
    return ((Button(tr.gettext("Cancel"), data=callbacks.ACCOUNT_CANCEL),),)


def code_sent_reply(tr: Translator) -> Reply:
    """Return the one reply to any address: the same whether or not a member has it."""
    _ = tr.gettext
    text = "{}\n\n{}".format(
        _("If this address is registered with us, we have sent you a code."),
        _(
            "Please send me the six-digit code from the e-mail. It is valid for {minutes} "
            "minutes. No e-mail? Check your spam folder, or start again with the address "
            "of your membership."
        ).format(minutes=CODE_MINUTES),
    )
    return Reply(text, _cancel_row(tr))


def _email_prompt(tr: Translator, purpose: Purpose, *, linked: bool) -> Reply:
    _ = tr.gettext
    if purpose == Purpose.LINK:
        text = _(
            "This chat is not linked to a membership. To link it, send me the e-mail address "
            "of your membership; I will send you a code by e-mail to confirm it."
        )
        return Reply(text, _cancel_row(tr))
    blocks = [
        _(
            "To set a new password, please first confirm that the mailbox is yours: send me "
            "the e-mail address of your membership, and I will send you a code by e-mail."
        )
    ]
    if linked:
        blocks.append(
            _(
                "Even though this chat is linked to your membership, the code is needed: "
                "whoever holds your phone should not be able to change your password."
            )
        )
    return Reply("\n\n".join(blocks), _cancel_row(tr))


def _password_prompt(tr: Translator) -> Reply:
    text = tr.gettext(
        "The code is correct. Now send me your new password in one message; I will delete "
        "the message immediately. It needs at least {length} characters, must not be your "
        "e-mail address and must not be a common password. You have {minutes} minutes."
    ).format(length=MIN_PASSWORD_LENGTH, minutes=CODE_MINUTES)
    return Reply(text, _cancel_row(tr))


def _problem_text(tr: Translator, problem: PasswordProblem) -> str:
    _ = tr.gettext
    reasons = {
        PasswordProblem.TOO_SHORT: _("it is shorter than {length} characters.").format(
            length=MIN_PASSWORD_LENGTH
        ),
        PasswordProblem.IS_EMAIL: _("it is your e-mail address."),
        PasswordProblem.COMMON: _("it is a common password that is easy to guess."),
    }
    return _("I cannot use this password: {reason} Please send another one.").format(
        reason=reasons[problem]
    )


def _refusal_text(tr: Translator, reason: PasswordRefusal) -> str:
    _ = tr.gettext
    reasons = {
        PasswordRefusal.TOO_SHORT: _("it is too short for its rules."),
        PasswordRefusal.IN_HISTORY: _("you have used it before."),
        PasswordRefusal.QUALITY: _("it does not meet its quality rules."),
        PasswordRefusal.POLICY: _(
            "it is too short or too simple for its rules, or you have used it before."
        ),
        PasswordRefusal.OTHER: _("it does not meet its rules."),
    }
    return _(
        "The member directory does not accept this password: {reason} Please send another one."
    ).format(reason=reasons.get(reason, reasons[PasswordRefusal.OTHER]))


def unavailable_text(tr: Translator) -> str:
    """Return the reply when the member directory cannot be reached."""
    return tr.gettext(
        "This is not possible right now: the member directory cannot be reached. Please try "
        "again later."
    )


def _restart_command(purpose: Purpose | None) -> str:
    return "/konto" if purpose == Purpose.LINK else "/kennwort"


def code_mail(tr: Translator, member: Member, code: str, purpose: Purpose) -> Mail:
    """Return the German mail with a code."""
    _ = tr.gettext
    if purpose == Purpose.LINK:
        subject = _("Your code for linking Telegram")
        why = _("You asked in Telegram to link your chat with the netzwerkbot to your membership.")
    else:
        subject = _("Your code for a new password")
        why = _("You asked in Telegram for a new password for your membership.")
    body = _(
        "Hello {name},\n\n{why}\n\nYour code: {code}\n\nIt is valid for {minutes} minutes and "
        "can be used once. Never pass it on; we never ask you for it by phone or e-mail.\n\n"
        "If you did not ask for it, you can ignore this e-mail: nothing changes without the "
        "code.\n\nIT Bündnis BW"
    ).format(name=member.name, why=why, code=code, minutes=CODE_MINUTES)
    return Mail(member.email, subject, body)


def locked_mail(tr: Translator, member: Member) -> Mail:
    """Return the German notice that no codes are sent for a while after many wrong ones."""
    _ = tr.gettext
    body = _(
        "Hello {name},\n\nIn the Telegram bot, wrong codes for your e-mail address have been "
        "entered {count} times within 24 hours. For your protection, no codes are sent to "
        "your address for the next 24 hours; your password and your membership are "
        "unchanged.\n\nWas it not you? Then someone may be trying to take over your access: "
        "please reply to this e-mail or contact the IT Bündnis BW.\n\nIT Bündnis BW"
    ).format(name=member.name, count=MAX_FAILURES)
    return Mail(member.email, _("Codes for your address are paused for 24 hours"), body)


def changed_mail(tr: Translator, member: Member) -> Mail:
    """Return the German confirmation that the password was changed."""
    _ = tr.gettext
    body = _(
        "Hello {name},\n\nYour password has been changed. Was it not you? Then reply to this "
        "e-mail or contact the IT Bündnis BW right away, and set a new password with "
        "/kennwort in the Telegram bot or with “Kennwort vergessen?” on the website.\n\n"
        "IT Bündnis BW"
    ).format(name=member.name)
    return Mail(member.email, _("Your password has been changed"), body)


# --- shared checks -----------------------------------------------------------------------


async def _reply(message: Message, reply: Reply) -> None:
    await message.reply_text(reply.text, reply_markup=reply.markup(), do_quote=False)


async def _available(update: Update, context: BotContext) -> int | None:
    """Return the private chat's id if the account commands can run here; else explain."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None:
        return None
    _ = context.gettext
    if chat.type != chat.PRIVATE:
        await message.reply_text(
            _("Please write to me in a private chat for anything about your account."),
            do_quote=False,
        )
        return None
    if FEATURE_ACCOUNT not in context.services.features or context.services.mail is None:
        await message.reply_text(
            _(
                "Sorry, the account functions are not available at the moment. You can reset "
                "your password with “Kennwort vergessen?” on the website."
            ),
            do_quote=False,
        )
        return None
    return chat.id


def _services(context: BotContext) -> tuple[Services, Keyring, MailWorker]:
    services = context.services
    # _available checked both before any dialog could start.
    assert services.keyring is not None  # noqa: S101
    assert services.mail is not None  # noqa: S101
    return services, services.keyring, services.mail


# --- commands and buttons ----------------------------------------------------------------


async def show_account(update: Update, context: BotContext) -> None:
    """Show whom the chat is linked to, or start linking it."""
    if (chat_id := await _available(update, context)) is None or update.effective_message is None:
        return
    services = context.services
    _ = context.gettext
    try:
        member = await services.stores.members.linked_to(chat_id)
        if member is None:
            await services.stores.members.check_available()
    except DirectoryUnavailable:
        await services.stores.accounts.cancel(chat_id)
        await update.effective_message.reply_text(unavailable_text(services.tr), do_quote=False)
        return
    if member is None:
        await services.stores.accounts.start(chat_id, Purpose.LINK, now=services.clock.now())
        await _reply(
            update.effective_message, _email_prompt(services.tr, Purpose.LINK, linked=False)
        )
        return
    await services.stores.accounts.cancel(chat_id)
    network = None
    if member.network is not None:
        found = (await context.render_context()).catalog.network(member.network)
        network = found.name if found is not None else member.network
    lines = [
        _("This chat is linked to the membership of {name} ({email}).").format(
            name=html.escape(member.name), email=html.escape(mask_email(member.email))
        )
    ]
    if network is not None:
        lines.append(_("Network: {network}").format(network=html.escape(network)))
    buttons = (
        (Button(_("Set a new password"), data=callbacks.ACCOUNT_PASSWORD),),
        (Button(_("Unlink this chat"), data=callbacks.ACCOUNT_UNLINK),),
    )
    await _reply(update.effective_message, Reply("\n".join(lines), buttons))


async def unlink_account(update: Update, context: BotContext) -> None:
    """Remove the link between this chat and a membership."""
    if (chat_id := await _available(update, context)) is None or update.effective_message is None:
        return
    await update.effective_message.reply_text(await _unlink(context, chat_id), do_quote=False)


async def unlink_button(update: Update, context: BotContext) -> None:
    """Remove the link from the /konto button."""
    if (query := update.callback_query) is None or query.message is None:
        return
    await query.answer()
    if (chat_id := await _available(update, context)) is None:
        return
    await query.get_bot().send_message(chat_id, await _unlink(context, chat_id))


async def _unlink(context: BotContext, chat_id: int) -> str:
    services = context.services
    if await services.stores.members.unlink(chat_id, now=services.clock.now()):
        log.info("A chat was unlinked from its membership")
        return context.gettext(
            "This chat is no longer linked to your membership. Your membership itself is "
            "unchanged."
        )
    return context.gettext("This chat is not linked to a membership.")


async def start_password(update: Update, context: BotContext) -> None:
    """Start the dialog for a new password: first the address, then a code by e-mail."""
    if (chat_id := await _available(update, context)) is None or update.effective_message is None:
        return
    await _start_password(context, chat_id, update.effective_message)


async def start_password_button(update: Update, context: BotContext) -> None:
    """Start the password dialog from a button (/konto, or an answer about passwords)."""
    if (query := update.callback_query) is None:
        return
    await query.answer()
    if (chat_id := await _available(update, context)) is None or update.effective_message is None:
        return
    await _start_password(context, chat_id, update.effective_message)


async def _start_password(context: BotContext, chat_id: int, message: Message) -> None:
    services = context.services
    members = services.stores.members
    try:
        await members.check_available()
        linked = await members.linked_to(chat_id) is not None
    except DirectoryUnavailable:
        await services.stores.accounts.cancel(chat_id)
        await message.reply_text(unavailable_text(services.tr), do_quote=False)
        return
    await services.stores.accounts.start(chat_id, Purpose.PASSWORD, now=services.clock.now())
    await _reply(message, _email_prompt(services.tr, Purpose.PASSWORD, linked=linked))


async def cancel_button(update: Update, context: BotContext) -> None:
    """End the chat's open dialog from its button."""
    if (query := update.callback_query) is None or query.message is None:
        return
    cancelled = await context.services.stores.accounts.cancel(query.message.chat.id)
    if cancelled:
        await query.answer(context.gettext("Cancelled. Nothing was changed."), show_alert=True)
    else:
        await query.answer(context.gettext("This dialog has already ended."), show_alert=True)


# --- the dialog --------------------------------------------------------------------------


async def continue_dialog(update: Update, context: BotContext) -> None:
    """Give a message to the chat's open dialog; other handlers get it only if none is open."""
    message = update.message
    if message is None:
        return
    chat_id = message.chat.id
    services = context.services
    accounts = services.stores.accounts
    if not accounts.may_have_dialog(chat_id):
        return
    flow = await accounts.get(chat_id)
    if flow is None:
        return
    now = services.clock.now()
    text = message.text
    deleted = True
    if _may_hold_password(flow, text, now):
        # First of all: the message may hold a password (even one that starts with "/",
        # even when the step's time is up). Delete it before anything else.
        deleted = await _delete(message)
        if flow.step != Step.PASSWORD:
            await _deleted_early(context, message, flow, deleted=deleted, now=now)
    if (text is not None and text.startswith("/")) or now - flow.expires_at > EXPIRED_NOTICE:
        # Another command, or a dialog long over: it ends; the message goes on as usual.
        await accounts.cancel(chat_id)
        return
    if flow.expired(now):
        await accounts.cancel(chat_id)
        if flow.step == Step.CODE:
            await message.reply_text(
                context.gettext("The code has expired. Request a new one with {command}.").format(
                    command=_restart_command(flow.purpose)
                ),
                do_quote=False,
            )
        else:
            await _dialog_over(context, message, flow.purpose)
        raise ApplicationHandlerStop
    if text is None:
        await message.reply_text(
            context.gettext("Please answer with a text message, or cancel."), do_quote=False
        )
        raise ApplicationHandlerStop
    if text.strip().casefold() in CANCEL_WORDS:
        await accounts.cancel(chat_id)
        await message.reply_text(
            context.gettext("Cancelled. Nothing was changed."), do_quote=False
        )
        raise ApplicationHandlerStop
    if services.keyring is None or services.mail is None:  # SMTP went away: cannot go on
        await accounts.cancel(chat_id)
        raise ApplicationHandlerStop
    try:
        if flow.step == Step.EMAIL:
            await _take_email(context, message, flow, text)
        elif flow.step == Step.CODE:
            await _take_code(context, message, flow, text)
        else:
            await _take_password(context, message, flow, text, deleted=deleted)
    except DirectoryUnavailable:
        await accounts.cancel(chat_id)
        await message.reply_text(unavailable_text(services.tr), do_quote=False)
    raise ApplicationHandlerStop


def _may_hold_password(flow: Flow, text: str | None, now: datetime) -> bool:
    """Tell whether a message to the dialog may be a password, to be deleted at once.

    In the password step anything may be one. Before it, and once the dialog has ended, a
    person who means to set a password may type it too early or too late: there, whatever
    is neither a code, an address, a command nor a word that cancels is deleted as well.
    """
    if now - flow.expires_at > EXPIRED_NOTICE:
        return False
    if flow.step == Step.PASSWORD:
        return True
    if flow.step == Step.EMAIL and not flow.expired(now):
        return False  # an address is expected, and it is not secret
    if text is None:
        return False
    stripped = text.strip()
    return not (
        stripped.startswith("/")
        or stripped.casefold() in CANCEL_WORDS
        or parse_code(stripped) is not None
        or normalize_email(stripped) is not None
    )


async def _deleted_early(
    context: BotContext, message: Message, flow: Flow, *, deleted: bool, now: datetime
) -> None:
    """Tell why a message at the code step (or after the end) is gone; the step stays."""
    _ = context.gettext
    if not deleted:
        text = _("I could not delete your message. Please delete it yourself.")
    elif flow.expired(now):
        text = _(
            "I have deleted your message: it could have been a password, and this dialog has "
            "ended. Start again with {command}."
        ).format(command=_restart_command(flow.purpose))
    else:
        text = _(
            "I have deleted your message: it could have been a password. Please send the "
            "six-digit code from the e-mail first; I will ask for the new password after it."
        )
    await message.reply_text(text, do_quote=False)
    if flow.expired(now):
        await context.services.stores.accounts.cancel(message.chat.id)
    raise ApplicationHandlerStop


async def _delete(message: Message) -> bool:
    """Delete the person's message; False if Telegram refused."""
    try:
        await message.delete()
    except (BadRequest, Forbidden):
        log.warning("Could not delete a message in the password dialog")
        return False
    return True


async def _take_email(context: BotContext, message: Message, flow: Flow, text: str) -> None:
    services, keyring, mail = _services(context)
    _ = context.gettext
    email = normalize_email(text)
    if email is None:
        reply = Reply(
            _(
                "That does not look like an e-mail address. Please send the address of your "
                "membership, e.g. erika.muster@example.org."
            ),
            _cancel_row(services.tr),
        )
        await _reply(message, reply)
        return
    chat_id = message.chat.id
    # Whether the directory answers does not depend on the address: no hint about it.
    await services.stores.members.check_available()
    outcome, nonce = await services.stores.accounts.request_code(
        chat_id, keyring.email_digest(email), now=services.clock.now()
    )
    if outcome == RequestOutcome.ADDRESS_LOCKED:
        log.info("Refused a code request: too many wrong codes for the address")
        await message.reply_text(
            _(
                "Too many wrong codes have been entered for this address within 24 hours. For "
                "your protection, no more codes are sent to it for 24 hours."
            ),
            do_quote=False,
        )
        return
    if outcome in {RequestOutcome.CHAT_LIMIT, RequestOutcome.EMAIL_LIMIT}:
        log.info("Refused a code request: rate limit (%s)", outcome.value)
        await message.reply_text(
            _(
                "Three codes have already been requested within the last hour for this chat "
                "or this address. Please try again later."
            ),
            do_quote=False,
        )
        return
    if outcome == RequestOutcome.NO_DIALOG or nonce is None:
        await _dialog_over(context, message, flow.purpose)
        return
    # The reply goes first; what depends on the address follows in the background.
    await _reply(message, code_sent_reply(services.tr))
    await mail.submit_code(
        chat_id, flow.purpose, email, nonce, expires_at=services.clock.now() + CODE_TTL
    )


async def compose_mail(services: Services, job: MailJob) -> Mail | None:
    """Make the mail of a queued row (the mail worker calls this); None: nothing to send."""
    if job.kind == KIND_CHANGED:
        member = None if job.member_id is None else await _member(services, job.member_id)
        return None if member is None else changed_mail(services.tr, member)
    if job.kind == KIND_LOCKED:
        member = None if job.member_id is None else await _member(services, job.member_id)
        if member is None or not member.active:
            return None
        return locked_mail(services.tr, member)
    if job.email is None or job.nonce is None or job.purpose is None:
        return None
    return await _code_mail(services, job, job.email, job.nonce, Purpose(job.purpose))


async def _member(services: Services, member_id: int) -> Member | None:
    try:
        return await services.stores.members.get(member_id)
    except DirectoryUnavailable:  # the directory logged it; the worker tries again
        raise RetryLater from None


async def _code_mail(
    services: Services, job: MailJob, email: str, nonce: str, purpose: Purpose
) -> Mail | None:
    """Look the address up and, for an active member, make, store and mail a code."""
    try:
        member = await services.stores.members.find(email)
    except DirectoryUnavailable:  # the directory logged it; the worker tries again
        raise RetryLater from None
    if member is None or not member.active:
        return None
    assert services.keyring is not None  # noqa: S101 - mails exist only with a keyring
    code = generate_code()
    digest = services.keyring.code_digest(job.chat_id, purpose, code)
    if not await services.stores.accounts.arm(
        job.chat_id,
        nonce,
        member.id,
        digest,
        now=services.clock.now(),
        replace=job.attempts > 0,  # a retry: a new code replaces the one never sent
    ):
        return None  # the dialog moved on meanwhile: this code would be useless
    return code_mail(services.tr, member, code, purpose)


async def _take_code(context: BotContext, message: Message, flow: Flow, text: str) -> None:
    services, keyring, mail = _services(context)
    _ = context.gettext
    tr = services.tr
    chat_id = message.chat.id
    code = parse_code(text)
    if code is None:
        reply = Reply(_("Please send the six-digit code from the e-mail."), _cancel_row(tr))
        await _reply(message, reply)
        return
    digest = keyring.code_digest(chat_id, flow.purpose, code)
    result = await services.stores.accounts.check_code(chat_id, digest, now=services.clock.now())
    again = _restart_command(flow.purpose)
    if result.outcome == CodeOutcome.WRONG:
        text = tr.ngettext(
            "The code is not correct. You have {count} more attempt.",
            "The code is not correct. You have {count} more attempts.",
            result.remaining,
        ).format(count=result.remaining)
        await _reply(message, Reply(text, _cancel_row(tr)))
    elif result.locked:
        log.info("An address reached the limit of wrong codes; no codes for 24 hours")
        await message.reply_text(
            _(
                "The code is not correct. Too many wrong codes have been entered for this "
                "address within 24 hours: for your protection, no more codes are sent to it "
                "for 24 hours."
            ),
            do_quote=False,
        )
        if result.locked_member is not None:
            await mail.submit_locked(chat_id, result.locked_member)
    elif result.outcome == CodeOutcome.VOID:
        log.info("A code became void after %d wrong entries", MAX_CODE_ATTEMPTS)
        await message.reply_text(
            _(
                "The code is not correct and is now void after five wrong entries. "
                "Request a new one with {command}."
            ).format(command=again),
            do_quote=False,
        )
    elif result.outcome == CodeOutcome.EXPIRED:
        await message.reply_text(
            _("The code has expired. Request a new one with {command}.").format(command=again),
            do_quote=False,
        )
    elif result.outcome == CodeOutcome.NO_DIALOG or result.member_id is None:
        await _dialog_over(context, message, flow.purpose)
    elif flow.purpose == Purpose.LINK:
        await _link(context, message, result.member_id)
    else:
        await _reply(message, _password_prompt(tr))


async def _link(context: BotContext, message: Message, member_id: int) -> None:
    services = context.services
    members = services.stores.members
    member = await members.get(member_id)
    try:
        if member is None:
            raise UnknownMember(str(member_id))
        await members.link(member_id, message.chat.id, now=services.clock.now())
    except UnknownMember:
        await message.reply_text(
            context.gettext("Sorry, this membership cannot be linked at the moment."),
            do_quote=False,
        )
        return
    log.info("A chat was linked to a membership")
    await message.reply_text(
        context.gettext(
            "Done: this chat is now linked to the membership of {name} ({email}). "
            "You can see it under /konto and undo it with /konto_trennen."
        ).format(name=html.escape(member.name), email=html.escape(mask_email(member.email))),
        do_quote=False,
    )


async def _take_password(
    context: BotContext, message: Message, flow: Flow, password: str, *, deleted: bool
) -> None:
    services, _keyring, mail = _services(context)
    _ = context.gettext
    tr = services.tr
    chat_id = message.chat.id
    if not deleted:
        await message.reply_text(
            _("I could not delete your message. Please delete it yourself."), do_quote=False
        )
    members = services.stores.members
    member = await members.get(flow.member_id) if flow.member_id is not None else None
    if member is None or not member.active:
        await services.stores.accounts.cancel(chat_id)
        await _dialog_over(context, message, flow.purpose)
        return
    problem = check_password(password, member.email)
    if problem is not None:
        await _reply(message, Reply(_problem_text(tr, problem), _cancel_row(tr)))
        return
    now = services.clock.now()
    if await services.stores.accounts.take_password_step(chat_id, now=now) != member.id:
        await _dialog_over(context, message, flow.purpose)
        return
    try:
        await members.set_password(member.id, password, now=now)
    except UnknownMember:
        await _dialog_over(context, message, flow.purpose)
        return
    except PasswordRefused as refusal:
        await _refused(context, message, flow, member.id, refusal.reason)
        return
    log.info("A member changed their password in the bot")
    await message.reply_text(
        _(
            "Your password has been changed. Please log in with it on the website; the bot "
            "does not log you in. A confirmation is on its way to your e-mail address."
        ),
        do_quote=False,
    )
    await mail.submit_changed(message.chat.id, member.id)


async def _refused(
    context: BotContext,
    message: Message,
    flow: Flow,
    member_id: int,
    reason: PasswordRefusal,
) -> None:
    """Tell why the directory's policy refused the password; let the person send another."""
    services = context.services
    tr = services.tr
    if reason == PasswordRefusal.TOO_YOUNG:
        await message.reply_text(
            tr.gettext(
                "The member directory does not allow another change of this password so soon. "
                "Please try again later with /kennwort."
            ),
            do_quote=False,
        )
        return
    # The step was taken for the change; the same deadline goes on for another password.
    await services.stores.accounts.resume_password_step(
        message.chat.id, member_id, flow.expires_at, now=services.clock.now()
    )
    await _reply(message, Reply(_refusal_text(tr, reason), _cancel_row(tr)))


async def _dialog_over(context: BotContext, message: Message, purpose: Purpose | None) -> None:
    await message.reply_text(
        context.gettext(
            "This dialog has ended, perhaps because time ran out. Start again with {command}."
        ).format(command=_restart_command(purpose)),
        do_quote=False,
    )
