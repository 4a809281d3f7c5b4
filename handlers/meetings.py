"""Meetings for admins: /termin_neu, /termin_aendern and /termin_absagen as guided chats.

One ``ConversationHandler`` serves the three commands, so a new command restarts cleanly
instead of running two conversations at once. Only admins start it (``require_admin``; a
member gets the refusal and no conversation starts), only in private chats. The answers so
far live in ``user_data``. Every answer is checked; a wrong one is asked again
with a German hint and the earlier answers stay. "Abbrechen" or /abbrechen ends the chat at
any step without writing anything; 30 minutes without an answer end it too.

The conversation is persistent (``name="meetings"``): its state and the draft are kept in the
database by PTB's persistence (``bot.persistence``), so a restart in the middle continues
where the admin was; the draft is stored as JSON (``PERSISTED``). A draft whose 30 minutes
passed while the bot was down gets the timeout answer on the admin's next message.

The stores write the event, plan or move its reminders, queue change and cancel notices (the
dispatcher sends them) and write the audit row, all in one transaction.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import warnings
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

from telegram import Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.domain import meetings as rules
from bot.domain.event_json import event_from_json, event_to_json
from bot.domain.meetings import DESCRIPTION_MAX, TITLE_MAX
from bot.domain.models import Event, Host
from bot.domain.parse import (
    format_date_time,
    format_time,
    parse_coordinates,
    parse_date_time,
    parse_time,
)
from bot.domain.schedule import localize
from bot.domain.text import N_
from bot.views import callbacks, catalog, common
from bot.views.replies import Button, Reply
from handlers.dialogs import (
    CONVERSATION_TIMEOUT,
    claim_dialog,
    closing_states,
    release_dialog,
    tell_timed_out,
)
from handlers.guards import (
    require_admin,
    require_private_admin,
)
from handlers.respond import show_in_place
from storage.catalog import (
    EventConflictError,
    EventWriteError,
    InvalidEventError,
)

if TYPE_CHECKING:
    from telegram.ext import BaseHandler

    from bot.context import BotContext
    from bot.views.common import RenderContext

    AnyHandler: TypeAlias = BaseHandler[Update, BotContext, object]

# Callback data: "mtg:<action>[:<argument>]", at most 9 + 40 bytes; a confirmation's buttons
# also carry the meeting ("-" for a new one) and a token of this very confirmation
# ("mtg:save:<id>:<token>", at most 9 + 40 + 1 + 8 = 58 bytes), so that a stale button
# confirms nothing else than what its message showed.
NEW_MEETING: Final = "-"
ONE: Final = r"[0-9a-f]{8}"  # one confirmation (the token of its buttons)
ALLIANCE_WIDE: Final = "-"
SLUG: Final = r"[a-z0-9]+(?:-[a-z0-9]+)*"

ALLIANCE_HOST: Final = "IT Bündnis BW"
DRAFT_KEY: Final = "meetings.draft"
DIALOG: Final = "meetings"
PICK_PAGE_SIZE: Final = 8
NEW_STEPS: Final = 8

Field = Literal["title", "start", "end", "city", "venue", "description"]
FIELDS: Final[tuple[Field, ...]] = ("title", "start", "end", "city", "venue", "description")
TEXT_ANSWER = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
OTHER_ANSWER = filters.UpdateType.MESSAGE & ~filters.TEXT & ~filters.COMMAND


class Step(IntEnum):
    """The conversation's states."""

    TITLE = 1
    NETWORK = 2
    START = 3
    END_TIME = 4
    CITY = 5
    VENUE = 6
    DESCRIPTION = 7
    PREVIEW = 8
    PICK = 9
    FIELD = 10
    VALUE = 11
    CONFIRM = 12
    COORDINATES = 13


# The order of /termin_neu's questions, one field per step after the network.
NEW_ORDER: Final[tuple[Step, ...]] = (
    Step.TITLE,
    Step.NETWORK,
    Step.START,
    Step.END_TIME,
    Step.CITY,
    Step.VENUE,
    Step.COORDINATES,
    Step.DESCRIPTION,
)
STEP_OF_FIELD: Final[dict[Field, Step]] = {
    "title": Step.TITLE,
    "start": Step.START,
    "end": Step.END_TIME,
    "city": Step.CITY,
    "venue": Step.VENUE,
    "description": Step.DESCRIPTION,
}


@dataclass
class Draft:
    """What an admin has answered so far (kept as JSON by the persistence)."""

    mode: Literal["new", "change", "cancel"]
    event: Event
    original: Event | None = None
    field: Field | None = None
    # Set once the preview was shown: a changed answer returns to the preview.
    reviewing: bool = False
    end_dropped: bool = False
    # The confirmation (preview or "really cancel?") now shown: its token and its message.
    token: str = ""
    confirmation: tuple[int, int] | None = None  # chat id, message id


def draft_to_json(draft: Draft) -> dict[str, Any]:
    """Return the draft as JSON data."""
    return {
        "mode": draft.mode,
        "event": event_to_json(draft.event),
        "original": event_to_json(draft.original) if draft.original else None,
        "field": draft.field,
        "reviewing": draft.reviewing,
        "end_dropped": draft.end_dropped,
        "token": draft.token,
        "confirmation": list(draft.confirmation) if draft.confirmation else None,
    }


def draft_from_json(data: dict[str, Any]) -> Draft:
    """Return the draft of :func:`draft_to_json`'s data; raise ValueError if it is none."""
    mode, field = data.get("mode"), data.get("field")
    if mode not in ("new", "change", "cancel") or (field is not None and field not in FIELDS):
        raise ValueError("not a meeting draft")
    original = data.get("original")
    return Draft(
        mode=mode,
        event=event_from_json(data["event"]),
        original=event_from_json(original) if original is not None else None,
        field=field,
        reviewing=bool(data.get("reviewing")),
        end_dropped=bool(data.get("end_dropped")),
        token=str(data.get("token") or ""),
        confirmation=_message_ref(data.get("confirmation")),
    )


def _message_ref(value: object) -> tuple[int, int] | None:
    """Return a stored (chat id, message id) pair, or None for anything else."""
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return value[0], value[1]
    return None


# The user_data this conversation keeps across a restart, and how (see bot.persistence).
PERSISTED: Final = {DRAFT_KEY: (draft_to_json, draft_from_json)}


class BadAnswer(ValueError):
    """An answer that breaks a rule; ``hint`` is the German text to show."""

    def __init__(self, hint: str) -> None:
        super().__init__(hint)
        self.hint = hint


def handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Return this feature's handlers in priority order."""
    abort: list[AnyHandler] = [
        CommandHandler("abbrechen", abort_conversation),
        CallbackQueryHandler(abort_conversation, pattern=rf"^{callbacks.MEETING_ABORT}$"),
    ]

    def text_step(callback: Any, *extra: AnyHandler) -> list[AnyHandler]:
        return [
            MessageHandler(TEXT_ANSWER, callback),
            *extra,
            MessageHandler(OTHER_ANSWER, ask_for_text),
        ]

    confirmations: list[AnyHandler] = [
        CallbackQueryHandler(
            save, pattern=rf"^{callbacks.MEETING_SAVE}(?:{SLUG}|{NEW_MEETING}):{ONE}$"
        ),
        CallbackQueryHandler(
            confirm_cancel, pattern=rf"^{callbacks.MEETING_CANCEL_YES}{SLUG}:{ONE}$"
        ),
    ]
    choose: AnyHandler = MessageHandler(
        filters.UpdateType.MESSAGE & ~filters.COMMAND, ask_for_buttons
    )
    # per_message=False on purpose: the draft belongs to the admin's private chat, not to one
    # message, and text answers have no message to belong to. PTB warns about the buttons
    # under that setting; the warning is about exactly this choice.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="If 'per_message=False'", category=PTBUserWarning
        )
        conversation: ConversationHandler[BotContext] = ConversationHandler(
            entry_points=[
                CommandHandler("termin_neu", start_new),
                CommandHandler("termin_aendern", start_change),
                CommandHandler("termin_absagen", start_cancel),
            ],
            states={
                Step.TITLE: text_step(got_title),
                Step.NETWORK: [
                    CallbackQueryHandler(
                        got_network,
                        pattern=rf"^{callbacks.MEETING_NETWORK}(?:{SLUG}|{ALLIANCE_WIDE})$",
                    ),
                    choose,
                ],
                Step.START: text_step(got_start),
                Step.END_TIME: text_step(
                    got_end, CallbackQueryHandler(got_no_end, rf"^{callbacks.MEETING_NO_END}$")
                ),
                Step.CITY: text_step(got_city),
                Step.VENUE: text_step(
                    got_venue,
                    CallbackQueryHandler(got_no_venue, rf"^{callbacks.MEETING_NO_VENUE}$"),
                ),
                Step.COORDINATES: text_step(
                    got_coordinates,
                    CallbackQueryHandler(
                        got_no_coordinates, rf"^{callbacks.MEETING_NO_COORDINATES}$"
                    ),
                ),
                Step.DESCRIPTION: text_step(got_description),
                Step.PREVIEW: [
                    CallbackQueryHandler(ask_field, pattern=rf"^{callbacks.MEETING_MORE}$"),
                    choose,
                ],
                Step.PICK: [
                    CallbackQueryHandler(picked, pattern=rf"^{callbacks.MEETING_PICK}{SLUG}$"),
                    CallbackQueryHandler(
                        show_pick_page, pattern=rf"^{callbacks.MEETING_PAGE}\d{{1,4}}$"
                    ),
                    choose,
                ],
                Step.FIELD: [
                    CallbackQueryHandler(
                        chose_field, pattern=rf"^{callbacks.MEETING_FIELD}(?:{'|'.join(FIELDS)})$"
                    ),
                    choose,
                ],
                Step.VALUE: text_step(
                    got_value,
                    CallbackQueryHandler(got_no_end, rf"^{callbacks.MEETING_NO_END}$"),
                    CallbackQueryHandler(got_no_venue, rf"^{callbacks.MEETING_NO_VENUE}$"),
                ),
                Step.CONFIRM: [choose],
                **closing_states(timed_out),
            },
            # In any state: a confirmation's own button is checked against its token there.
            fallbacks=[*abort, *confirmations],
            name="meetings",
            persistent=True,
            allow_reentry=True,
            per_chat=True,
            per_user=True,
            per_message=False,
            conversation_timeout=CONVERSATION_TIMEOUT,
        )
    return [
        conversation,
        CommandHandler("abbrechen", nothing_to_abort),
        # A confirmation whose dialog is over (saved, cancelled, timed out, restarted).
        CallbackQueryHandler(
            stale_confirmation,
            pattern=rf"^(?:{callbacks.MEETING_SAVE}|{callbacks.MEETING_CANCEL_YES})",
        ),
    ]


# --- helpers ------------------------------------------------------------------------------


def _draft(context: BotContext) -> Draft | None:
    """Return the admin's draft, if a conversation is running."""
    draft = (context.user_data or {}).get(DRAFT_KEY)
    return draft if isinstance(draft, Draft) else None


def _set_draft(context: BotContext, draft: Draft | None) -> None:
    """Keep or forget the admin's draft (and with it the claim on the admin's dialog)."""
    if context.user_data is None:
        return
    if draft is None:
        context.user_data.pop(DRAFT_KEY, None)
        release_dialog(context, DIALOG)
    else:
        context.user_data[DRAFT_KEY] = draft


async def _end(context: BotContext) -> None:
    """Forget the draft and take the buttons off its confirmation, if one is shown."""
    draft = _draft(context)
    _set_draft(context, None)
    if draft is not None:
        await _retire_confirmation(context, draft)


async def _retire_confirmation(context: BotContext, draft: Draft) -> None:
    """Remove the buttons of the confirmation shown last: it no longer confirms anything."""
    if draft.confirmation is None:
        return
    (chat_id, message_id), draft.confirmation = draft.confirmation, None
    draft.token = ""
    # Deleted by the admin, or already without buttons: nothing to take away.
    with contextlib.suppress(BadRequest):
        await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)


async def _new_confirmation(context: BotContext, draft: Draft) -> None:
    """Retire the confirmation shown so far and make the token of the next one."""
    await _retire_confirmation(context, draft)
    draft.token = secrets.token_hex(4)


async def _send_confirmation(
    update: Update, context: BotContext, draft: Draft, reply: Reply
) -> None:
    """Send a confirmation (built with the draft's new token) and remember its message."""
    if (chat := update.effective_chat) is None:
        return
    message = await context.bot.send_message(chat.id, reply.text, reply_markup=reply.markup())
    draft.confirmation = (chat.id, message.message_id)


def _meeting_key(draft: Draft) -> str:
    """Return the meeting a confirmation's buttons name: its id, or "-" for a new one."""
    return draft.original.id if draft.original is not None else NEW_MEETING


def _confirmed(update: Update, draft: Draft | None, prefix: str) -> Draft | None:
    """Return the draft if the pressed button belongs to its current confirmation."""
    query = update.callback_query
    if draft is None or query is None or query.data is None or not draft.token:
        return None
    expected = f"{prefix}{_meeting_key(draft)}:{draft.token}"
    return draft if query.data == expected else None


async def _say(update: Update, context: BotContext, reply: Reply) -> None:
    """Send a reply as a new message in the update's chat."""
    if (chat := update.effective_chat) is not None:
        await context.bot.send_message(chat.id, reply.text, reply_markup=reply.markup())


async def _answer_button(update: Update) -> None:
    """Answer the pressed button, if any (Telegram shows a spinner until then)."""
    if update.callback_query is not None:
        await update.callback_query.answer()


def _text(update: Update) -> str:
    """Return the text of the update's message, or "" for anything else."""
    message = update.effective_message
    return message.text if isinstance(message, Message) and message.text else ""


def _one_line(text: str) -> str:
    """Return the text with every run of whitespace, line breaks included, as one space."""
    return " ".join(text.split())


def _actor(update: Update) -> int | None:
    """Return the Telegram user id of the admin acting."""
    return update.effective_user.id if update.effective_user else None


def _blank_event() -> Event:
    """Return the empty alliance-wide meeting that /termin_neu fills in."""
    return Event(
        id="",
        fictional=False,
        kind="network_meeting",
        title="",
        description="",
        status="announced",
        hosts=(Host(name=ALLIANCE_HOST),),
    )


async def _begin(update: Update, context: BotContext) -> bool:
    """Check the sender and the chat, and that no other admin dialog is open, then start."""
    if not await require_private_admin(update, context):
        return False
    # A restart of this dialog (allow_reentry) ends the old draft: its buttons go too.
    await _end(context)
    return await claim_dialog(update, context, DIALOG)


# --- questions ----------------------------------------------------------------------------


def _current(ctx: RenderContext, event: Event, field: Field) -> str:
    """Return a field's current value for "Bisher: …", escaped; empty if it has none."""
    _ = ctx.tr.gettext
    match field:
        case "start":
            return format_date_time(event.start, ctx.tz) if event.start else ""
        case "end":
            return format_time(event.end, ctx.tz) if event.end else ""
        case "title" | "city" | "venue" | "description":
            value = getattr(event, field)
            return common.esc(value, 300) if value else ""


def _question(ctx: RenderContext, draft: Draft, step: Step, *, hint: str = "") -> Reply:
    """Return the question of a step, with a hint on top after a wrong answer."""
    _ = ctx.tr.gettext
    texts = {
        Step.TITLE: _("What is the title of the meeting? (at most {limit} characters)").format(
            limit=TITLE_MAX
        ),
        Step.NETWORK: _(
            "Which network hosts the meeting? Choose “Alliance-wide” for a meeting of the "
            "whole alliance."
        ),
        Step.START: "{}\n{}".format(_("When does the meeting begin?"), _(DATE_HINT)),
        Step.END_TIME: "{}\n{}".format(
            _("When does the meeting end (on the same day)?"), _(TIME_HINT)
        ),
        Step.CITY: _("In which town or city does the meeting take place?"),
        Step.VENUE: _("Where exactly does it take place (venue, e.g. building and address)?"),
        Step.COORDINATES: "{}\n{}".format(
            _(
                "Where is the venue on the map? With its coordinates the meeting's card "
                "offers “On the map”. You can skip this."
            ),
            _(COORDINATES_HINT),
        ),
        Step.DESCRIPTION: _("Please describe the meeting (at most {limit} characters).").format(
            limit=DESCRIPTION_MAX
        ),
    }
    blocks = []
    if hint:
        blocks.append(hint)
    if draft.mode == "new" and not draft.reviewing:
        blocks.append(
            "<b>{}</b>".format(
                _("New meeting, step {step} of {steps}").format(
                    step=NEW_ORDER.index(step) + 1, steps=NEW_STEPS
                )
            )
        )
    blocks.append(texts[step])
    field = next((f for f, s in STEP_OF_FIELD.items() if s == step), None)
    if draft.mode == "change" and field is not None:
        current = _current(ctx, draft.event, field)
        if current:
            blocks.append(_("Currently: {value}").format(value=current))
    if not hint and draft.mode == "new" and step == Step.TITLE:
        blocks.append(_("You can stop at any time with “Cancel” or /abbrechen."))
    rows: list[tuple[Button, ...]] = []
    if step == Step.NETWORK:
        networks = [
            Button(common.button_label(n.short_name), data=f"{callbacks.MEETING_NETWORK}{n.slug}")
            for n in ctx.catalog.networks
        ]
        rows.extend(common.button_rows(networks, 2))
        rows.append(
            (Button(_("Alliance-wide"), data=f"{callbacks.MEETING_NETWORK}{ALLIANCE_WIDE}"),)
        )
    elif step == Step.END_TIME:
        rows.append((Button(_("No end time"), data=callbacks.MEETING_NO_END),))
    elif step == Step.VENUE:
        label = _("Skip") if draft.mode == "new" and not draft.reviewing else _("No venue")
        rows.append((Button(label, data=callbacks.MEETING_NO_VENUE),))
    elif step == Step.COORDINATES:
        rows.append((Button(_("Skip"), data=callbacks.MEETING_NO_COORDINATES),))
    rows.append((Button(_("Cancel"), data=callbacks.MEETING_ABORT),))
    return Reply("\n\n".join(blocks), tuple(rows))


# Hints, translated where they are shown.
DATE_HINT: Final = N_("Please use the format DD.MM.YYYY HH:MM, e.g. 18.03.2027 14:00")
TIME_HINT: Final = N_("Please give the time in the format HH:MM, e.g. 16:00")
HINT_START_FIRST: Final = N_("Please set the date and time first.")
COORDINATES_HINT: Final = N_(
    "Please send latitude and longitude in degrees, e.g. 48.7784, 9.1800 (as shown by "
    "OpenStreetMap or a maps app)."
)


def _hint(ctx: RenderContext, problem: str, *extra: str, limit: int | None = None) -> str:
    """Return a translated problem (with ``{limit}`` filled) and further translated lines."""
    _ = ctx.tr.gettext
    lines = [_(problem).format(limit=limit) if limit is not None else _(problem)]
    lines.extend(_(line) for line in extra)
    return "<b>{}</b>".format("\n".join(lines))


def _problem_hint(ctx: RenderContext, problem: rules.Problem, *extra: str) -> str:
    """Return a broken field rule, translated, and further translated lines."""
    _ = ctx.tr.gettext
    lines = [problem.describe(_), *(_(line) for line in extra)]
    return "<b>{}</b>".format("\n".join(lines))


def _preview(ctx: RenderContext, draft: Draft) -> Reply:
    """Show the meeting as members will see it, with Save and Cancel."""
    _ = ctx.tr.gettext
    intro = "<b>{}</b>".format(_("Preview: this is how members will see the meeting."))
    if draft.end_dropped:
        intro += "\n" + _("The previous end would lie before the new start; it has been removed.")
    event = draft.event
    if draft.mode == "new":
        # As members will see it once saved: "Eingetragen über den Bot am …".
        event = dataclasses.replace(event, created_at=ctx.now)
    card = catalog.event_card(ctx, event, intro=intro)
    save_data = f"{callbacks.MEETING_SAVE}{_meeting_key(draft)}:{draft.token}"
    rows: list[tuple[Button, ...]] = [(Button(_("Save"), data=save_data),)]
    if draft.mode == "change":
        rows.append((Button(_("Change another field"), data=callbacks.MEETING_MORE),))
    rows.append((Button(_("Cancel"), data=callbacks.MEETING_ABORT),))
    return Reply(card.text, tuple(rows))


async def _ask(update: Update, context: BotContext, draft: Draft, step: Step) -> int:
    """Send the question of ``step`` (or the preview) and return the state to wait in."""
    ctx = await context.render_context()
    if step == Step.PREVIEW:
        draft.reviewing = True
        await _new_confirmation(context, draft)
        await _send_confirmation(update, context, draft, _preview(ctx, draft))
        draft.end_dropped = False
        return Step.PREVIEW
    await _say(update, context, _question(ctx, draft, step))
    return step if draft.mode == "new" else Step.VALUE


async def _next(update: Update, context: BotContext, draft: Draft, done: Step) -> int:
    """Ask what follows an accepted answer: the next step, or the preview."""
    position = NEW_ORDER.index(done) + 1
    if draft.reviewing or draft.mode != "new" or position == len(NEW_ORDER):
        return await _ask(update, context, draft, Step.PREVIEW)
    return await _ask(update, context, draft, NEW_ORDER[position])


# --- the answers --------------------------------------------------------------------------


def _with_start(draft: Draft, start: datetime, ctx: RenderContext) -> Event:
    """Return the event with a new start; an end keeps its wall time on the new day."""
    event = draft.event
    end = event.end
    if end is not None:
        wall = datetime.combine(start.astimezone(ctx.tz).date(), end.astimezone(ctx.tz).time())
        end = localize(wall, ctx.tz)
        if end <= start:
            end = None
            draft.end_dropped = True
    return dataclasses.replace(event, start=start, end=end, date=start.astimezone(ctx.tz).date())


def _accept(ctx: RenderContext, draft: Draft, field: Field, text: str) -> Event:
    """Check one answer and return the event with it; raise BadAnswer with the hint."""
    event = draft.event
    match field:
        case "title":
            title = _one_line(text)
            if (problem := rules.check_title(title)) is not None:
                raise BadAnswer(_problem_hint(ctx, problem))
            return dataclasses.replace(event, title=title)
        case "city":
            city = _one_line(text)
            if (problem := rules.check_city(city)) is not None:
                raise BadAnswer(_problem_hint(ctx, problem))
            return dataclasses.replace(event, city=city)
        case "venue":
            venue = _one_line(text)
            if (problem := rules.check_venue(venue)) is not None:
                raise BadAnswer(_problem_hint(ctx, problem))
            return dataclasses.replace(event, venue=venue)
        case "description":
            description = text.strip()
            if (problem := rules.check_description(description)) is not None:
                raise BadAnswer(_problem_hint(ctx, problem))
            return dataclasses.replace(event, description=description)
        case "start":
            try:
                start = parse_date_time(text, ctx.tz)
            except ValueError:
                raise BadAnswer(_hint(ctx, DATE_HINT)) from None
            if (problem := rules.check_start(start, ctx.now)) is not None:
                raise BadAnswer(_problem_hint(ctx, problem, DATE_HINT))
            return _with_start(draft, start, ctx)
        case "end":
            if event.start is None:
                raise BadAnswer(_hint(ctx, HINT_START_FIRST))
            try:
                wall = parse_time(text)
            except ValueError:
                raise BadAnswer(_hint(ctx, TIME_HINT)) from None
            local_start = event.start.astimezone(ctx.tz)
            end = localize(datetime.combine(local_start.date(), wall), ctx.tz)
            if (problem := rules.check_end(event.start, end, ctx.tz)) is not None:
                raise BadAnswer(_problem_hint(ctx, problem, TIME_HINT))
            return dataclasses.replace(event, end=end)


async def _answer(update: Update, context: BotContext, field: Field, step: Step) -> int:
    """Take a text answer for ``field``: accept it and go on, or ask again with the hint."""
    draft = _draft(context)
    if draft is None:
        return ConversationHandler.END
    ctx = await context.render_context()
    try:
        draft.event = _accept(ctx, draft, field, _text(update))
    except BadAnswer as bad:
        await _say(update, context, _question(ctx, draft, step, hint=bad.hint))
        return step if draft.mode == "new" else Step.VALUE
    return await _next(update, context, draft, step)


async def got_title(update: Update, context: BotContext) -> int:
    """Take the title."""
    return await _answer(update, context, "title", Step.TITLE)


async def got_start(update: Update, context: BotContext) -> int:
    """Take the date and time of the start."""
    return await _answer(update, context, "start", Step.START)


async def got_end(update: Update, context: BotContext) -> int:
    """Take the time of the end."""
    return await _answer(update, context, "end", Step.END_TIME)


async def got_city(update: Update, context: BotContext) -> int:
    """Take the town or city."""
    return await _answer(update, context, "city", Step.CITY)


async def got_venue(update: Update, context: BotContext) -> int:
    """Take the venue."""
    return await _answer(update, context, "venue", Step.VENUE)


async def got_description(update: Update, context: BotContext) -> int:
    """Take the description."""
    return await _answer(update, context, "description", Step.DESCRIPTION)


async def got_coordinates(update: Update, context: BotContext) -> int:
    """Take the venue's coordinates (latitude, longitude), or ask again with the hint."""
    draft = _draft(context)
    if draft is None:
        return ConversationHandler.END
    ctx = await context.render_context()
    try:
        latitude, longitude = parse_coordinates(_text(update))
    except ValueError:
        hint = _hint(ctx, COORDINATES_HINT)
        await _say(update, context, _question(ctx, draft, Step.COORDINATES, hint=hint))
        return Step.COORDINATES
    draft.event = dataclasses.replace(draft.event, latitude=latitude, longitude=longitude)
    return await _next(update, context, draft, Step.COORDINATES)


async def got_no_coordinates(update: Update, context: BotContext) -> int:
    """Leave the map position out."""
    await _answer_button(update)
    draft = _draft(context)
    if draft is None:
        return ConversationHandler.END
    draft.event = dataclasses.replace(draft.event, latitude=None, longitude=None)
    return await _next(update, context, draft, Step.COORDINATES)


async def got_value(update: Update, context: BotContext) -> int:
    """Take the new value of the field being changed."""
    draft = _draft(context)
    if draft is None or draft.field is None:
        return ConversationHandler.END
    return await _answer(update, context, draft.field, STEP_OF_FIELD[draft.field])


async def got_network(update: Update, context: BotContext) -> int:
    """Take the host network, or no network for an alliance-wide meeting."""
    await _answer_button(update)
    draft = _draft(context)
    query = update.callback_query
    if draft is None or query is None or query.data is None:
        return ConversationHandler.END
    slug = query.data.removeprefix(callbacks.MEETING_NETWORK)
    ctx = await context.render_context()
    network = ctx.catalog.network(slug)
    if network is None:
        host = Host(name=ALLIANCE_HOST)
    else:
        host = Host(name=network.short_name, network=network.slug)
    draft.event = dataclasses.replace(draft.event, hosts=(host,))
    return await _next(update, context, draft, Step.NETWORK)


async def got_no_end(update: Update, context: BotContext) -> int:
    """Leave the end open."""
    await _answer_button(update)
    draft = _draft(context)
    if draft is None:
        return ConversationHandler.END
    draft.event = dataclasses.replace(draft.event, end=None)
    return await _next(update, context, draft, Step.END_TIME)


async def got_no_venue(update: Update, context: BotContext) -> int:
    """Leave the venue out."""
    await _answer_button(update)
    draft = _draft(context)
    if draft is None:
        return ConversationHandler.END
    draft.event = dataclasses.replace(draft.event, venue=None)
    return await _next(update, context, draft, Step.VENUE)


async def ask_for_text(update: Update, context: BotContext) -> None:
    """Ask for a text answer (a sticker or photo is none); the state stays."""
    if (message := update.effective_message) is not None:
        await message.reply_text(context.gettext("Please answer with text."), do_quote=False)


async def ask_for_buttons(update: Update, context: BotContext) -> None:
    """Point to the buttons where only they answer; the state stays."""
    if (message := update.effective_message) is not None:
        await message.reply_text(
            context.gettext("Please choose one of the buttons above."), do_quote=False
        )


# --- /termin_neu --------------------------------------------------------------------------


async def start_new(update: Update, context: BotContext) -> int:
    """Start creating a meeting: ask for the title."""
    if not await _begin(update, context):
        return ConversationHandler.END
    draft = Draft(mode="new", event=_blank_event())
    _set_draft(context, draft)
    return await _ask(update, context, draft, Step.TITLE)


async def save(update: Update, context: BotContext) -> int | None:
    """Save the new or changed meeting and show its card."""
    await _answer_button(update)
    draft = _confirmed(update, _draft(context), callbacks.MEETING_SAVE)
    if draft is None:
        await _refuse_stale(update, context)
        return None  # the dialog stays where it is
    if not await require_admin(update, context):
        await _end(context)
        return ConversationHandler.END
    await _retire_confirmation(context, draft)
    services = context.services
    store = services.stores.catalog
    now, tz = services.clock.now(), services.settings.timezone
    _ = context.gettext
    try:
        if draft.mode == "new":
            event = dataclasses.replace(draft.event, created_by=None, created_at=None)
            stored = await store.add_event(event, actor=_actor(update), now=now, tz=tz)
            done = _("Saved.")
        else:
            assert draft.original is not None  # noqa: S101 - a change starts from a pick
            stored = await store.update_event(
                draft.event, seen=draft.original, actor=_actor(update), now=now, tz=tz
            )
            unchanged = _same(draft.original, stored)
            done = (
                _("Nothing has changed.")
                if unchanged
                else _("Saved. Subscribers will be told about the change.")
            )
    except EventConflictError as conflict:
        return await _show_conflict(update, context, draft, conflict)
    except InvalidEventError as error:
        if error.problem in (rules.PROBLEM_START_PAST, rules.PROBLEM_START_FAR):
            # Time passed while the admin looked at the preview: ask for the start again.
            ctx = await context.render_context()
            await _say(update, context, _question(ctx, draft, Step.START, hint=error.describe(_)))
            draft.field = "start"
            return Step.START if draft.mode == "new" else Step.VALUE
        await _say(update, context, Reply(error.describe(_)))
        _set_draft(context, None)
        return ConversationHandler.END
    except EventWriteError as error:
        await _say(update, context, Reply(error.describe(_)))
        _set_draft(context, None)
        return ConversationHandler.END
    _set_draft(context, None)
    ctx = await context.render_context()
    shown = ctx.catalog.event(stored.id) or stored
    await _say(update, context, catalog.event_card(ctx, shown, intro=f"<b>{done}</b>"))
    return ConversationHandler.END


async def _show_conflict(
    update: Update, context: BotContext, draft: Draft, conflict: EventConflictError
) -> int:
    """Show the meeting as another admin left it, then this admin's changes on top: again?"""
    ctx = await context.render_context()
    _ = ctx.tr.gettext
    current = conflict.current
    intro = "<b>{}</b>".format(
        _(
            "Another admin has changed this meeting in the meantime; nothing has been saved. "
            "This is the meeting now:"
        )
    )
    await _say(update, context, catalog.event_card(ctx, current, intro=intro))
    assert draft.original is not None  # noqa: S101 - only a change conflicts
    mine = {name: getattr(draft.event, name) for name in _edited(draft.original, draft.event)}
    draft.event = dataclasses.replace(current, **mine)
    draft.original = current
    if _same(current, draft.event):
        await _end(context)
        await _say(update, context, Reply(_("Your change is already in place.")))
        return ConversationHandler.END
    return await _ask(update, context, draft, Step.PREVIEW)


def _edited(seen: Event, mine: Event) -> list[str]:
    """Name the fields this admin changed in the dialog."""
    return [name for name in EDITABLE if getattr(seen, name) != getattr(mine, name)]


async def _refuse_stale(update: Update, context: BotContext) -> None:
    """Answer a button of a superseded confirmation: nothing happens, its buttons go."""
    query = update.callback_query
    if query is None:
        return
    text = context.gettext(
        "This confirmation is out of date; nothing has been changed. Please use the latest "
        "message."
    )
    await _say(update, context, Reply(text))
    message = query.message
    if isinstance(message, Message) and message.reply_markup is not None:
        with contextlib.suppress(BadRequest):  # already without buttons
            await message.edit_reply_markup(reply_markup=None)


async def stale_confirmation(update: Update, context: BotContext) -> None:
    """Answer a confirmation's button after its dialog ended."""
    await _answer_button(update)
    await _refuse_stale(update, context)


EDITABLE: Final = ("title", "start", "end", "city", "venue", "description")


def _same(old: Event, new: Event) -> bool:
    """Tell whether the fields an admin can change are all equal."""
    names = ("title", "start", "end", "city", "venue", "description")
    return all(getattr(old, name) == getattr(new, name) for name in names)


# --- /termin_aendern and /termin_absagen -------------------------------------------------


def _pick_list(ctx: RenderContext, draft: Draft, page: int) -> Reply:
    """List the upcoming meetings as buttons, one page at a time."""
    _ = ctx.tr.gettext
    shown, page, pages = common.paginate(
        ctx.catalog.upcoming_events(ctx.now), page, PICK_PAGE_SIZE
    )
    if draft.mode == "cancel":
        head = _("Which meeting do you want to cancel?")
    else:
        head = _("Which meeting do you want to change?")
    text = f"<b>{head}</b>"
    if pages > 1:
        text += " " + _("(page {page} of {pages})").format(page=page + 1, pages=pages)
    rows: list[tuple[Button, ...]] = [
        (Button(common.event_button(ctx, e).label, data=f"{callbacks.MEETING_PICK}{e.id}"),)
        for e in shown
    ]
    nav = []
    if page > 0:
        nav.append(Button(_("‹ Back"), data=f"{callbacks.MEETING_PAGE}{page - 1}"))  # noqa: RUF001 - typographic mark intended
    if page < pages - 1:
        nav.append(Button(_("Next ›"), data=f"{callbacks.MEETING_PAGE}{page + 1}"))  # noqa: RUF001 - typographic mark intended
    if nav:
        rows.append(tuple(nav))
    rows.append((Button(_("Cancel"), data=callbacks.MEETING_ABORT),))
    return Reply(text, tuple(rows))


async def _start_picking(
    update: Update, context: BotContext, mode: Literal["change", "cancel"]
) -> int:
    """Check the sender, then list the upcoming meetings to choose from."""
    if not await _begin(update, context):
        return ConversationHandler.END
    ctx = await context.render_context()
    if not ctx.catalog.upcoming_events(ctx.now):
        _set_draft(context, None)
        await _say(update, context, Reply(context.gettext("There is no upcoming meeting.")))
        return ConversationHandler.END
    draft = Draft(mode=mode, event=_blank_event())
    _set_draft(context, draft)
    await _say(update, context, _pick_list(ctx, draft, 0))
    return Step.PICK


async def start_change(update: Update, context: BotContext) -> int:
    """Start changing a meeting: list the upcoming ones."""
    return await _start_picking(update, context, "change")


async def start_cancel(update: Update, context: BotContext) -> int:
    """Start cancelling a meeting: list the upcoming ones."""
    return await _start_picking(update, context, "cancel")


async def show_pick_page(update: Update, context: BotContext) -> int:
    """Show another page of meetings in place."""
    draft, query = _draft(context), update.callback_query
    if draft is None or query is None or query.data is None:
        return ConversationHandler.END
    page = int(query.data.removeprefix(callbacks.MEETING_PAGE))
    await show_in_place(query, _pick_list(await context.render_context(), draft, page))
    return Step.PICK


async def picked(update: Update, context: BotContext) -> int:
    """Take the chosen meeting: ask what to change, or whether to cancel it."""
    await _answer_button(update)
    draft, query = _draft(context), update.callback_query
    if draft is None or query is None or query.data is None:
        return ConversationHandler.END
    ctx = await context.render_context()
    event = ctx.catalog.event(query.data.removeprefix(callbacks.MEETING_PICK))
    if event is None or not event.is_upcoming(ctx.now, ctx.tz):
        await _say(update, context, _pick_list(ctx, draft, 0))
        return Step.PICK
    draft.event, draft.original = event, event
    if draft.mode == "cancel":
        _ = ctx.tr.gettext
        intro = "<b>{}</b>".format(
            _("Do you really want to cancel this meeting? Its subscribers will be informed.")
        )
        await _new_confirmation(context, draft)
        yes = f"{callbacks.MEETING_CANCEL_YES}{event.id}:{draft.token}"
        buttons = (
            (Button(_("Yes, cancel the meeting"), data=yes),),
            (Button(_("No, keep it"), data=callbacks.MEETING_ABORT),),
        )
        card = catalog.event_card(ctx, event, intro=intro)
        await _send_confirmation(update, context, draft, Reply(card.text, buttons))
        return Step.CONFIRM
    await _say(update, context, _field_menu(ctx))
    return Step.FIELD


def _field_menu(ctx: RenderContext) -> Reply:
    """Return the buttons of the fields an admin can change."""
    _ = ctx.tr.gettext
    labels: dict[Field, str] = {
        "title": _("Title"),
        "start": _("Date and time"),
        "end": _("End"),
        "city": _("Place"),
        "venue": _("Venue"),
        "description": _("Description"),
    }
    buttons = [Button(labels[f], data=f"{callbacks.MEETING_FIELD}{f}") for f in FIELDS]
    rows = (*common.button_rows(buttons, 2), (Button(_("Cancel"), data=callbacks.MEETING_ABORT),))
    return Reply("<b>{}</b>".format(_("What do you want to change?")), rows)


async def ask_field(update: Update, context: BotContext) -> int:
    """Ask which field to change."""
    await _answer_button(update)
    if _draft(context) is None:
        return ConversationHandler.END
    await _say(update, context, _field_menu(await context.render_context()))
    return Step.FIELD


async def chose_field(update: Update, context: BotContext) -> int:
    """Ask for the new value of the chosen field."""
    await _answer_button(update)
    draft, query = _draft(context), update.callback_query
    if draft is None or query is None or query.data is None:
        return ConversationHandler.END
    field = next(f for f in FIELDS if query.data == f"{callbacks.MEETING_FIELD}{f}")
    if field == "end" and draft.event.start is None:
        ctx = await context.render_context()
        await _say(update, context, Reply(_hint(ctx, HINT_START_FIRST)))
        await _say(update, context, _field_menu(ctx))
        return Step.FIELD
    draft.field = field
    return await _ask(update, context, draft, STEP_OF_FIELD[field])


async def confirm_cancel(update: Update, context: BotContext) -> int | None:
    """Cancel the meeting this very confirmation named, and confirm it."""
    await _answer_button(update)
    draft = _confirmed(update, _draft(context), callbacks.MEETING_CANCEL_YES)
    if draft is None or draft.mode != "cancel" or draft.original is None:
        await _refuse_stale(update, context)
        return None  # the dialog stays where it is
    await _end(context)
    if not await require_admin(update, context):
        return ConversationHandler.END
    services = context.services
    _ = context.gettext
    try:
        await services.stores.catalog.cancel_event(
            draft.original.id,
            actor=_actor(update),
            now=services.clock.now(),
            tz=services.settings.timezone,
        )
    except EventWriteError as error:
        await _say(update, context, Reply(error.describe(_)))
        return ConversationHandler.END
    ctx = await context.render_context()
    event = ctx.catalog.event(draft.original.id) or draft.original
    intro = "<b>{}</b>".format(
        _("The meeting has been cancelled. Its subscribers will be informed.")
    )
    await _say(update, context, catalog.event_card(ctx, event, intro=intro))
    return ConversationHandler.END


# --- ending -------------------------------------------------------------------------------


async def abort_conversation(update: Update, context: BotContext) -> int:
    """End the conversation at any step without saving anything."""
    await _answer_button(update)
    draft = _draft(context)
    await _end(context)
    _ = context.gettext
    if draft is not None and draft.mode == "cancel":
        text = _("Cancelled. The meeting stays as it is.")
    else:
        text = _("Cancelled. Nothing has been saved.")
    await _say(update, context, Reply(text))
    return ConversationHandler.END


async def nothing_to_abort(update: Update, context: BotContext) -> None:
    """Answer /abbrechen outside a conversation (and forget any claim on an admin dialog)."""
    release_dialog(context)
    if (message := update.effective_message) is not None:
        await message.reply_text(
            context.gettext("There is nothing to cancel at the moment."), do_quote=False
        )


async def timed_out(update: Update, context: BotContext) -> int:
    """Tell the admin that the conversation ended after a long silence.

    PTB calls it from its timeout job (with the last update, whose button was answered);
    after a restart, the ``EXPIRED`` state of :func:`handlers.dialogs.closing_states` does.
    """
    await _end(context)
    return await tell_timed_out(
        update,
        context,
        context.gettext(
            "The input has ended after {minutes} minutes without an answer. Nothing has been "
            "saved."
        ),
    )
