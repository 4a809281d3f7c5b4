"""The /abo and /erinnerungen panels, /stopp's confirmation and its undo."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Final

from bot.domain.schedule import (
    DATE_ONLY_REMINDER_TIME,
    QUIET_FALLBACK,
    WEEKLY_PREVIEW_TIME,
    Lead,
    QuietHours,
    quiet_code,
)
from bot.views import callbacks
from bot.views.common import (
    RenderContext,
    button_label,
    button_rows,
    command,
    esc,
    event_button,
    fit,
    format_list,
    network_display_name,
    time_text,
)
from bot.views.replies import MAX_CALLBACK_BYTES, Button, Reply

if TYPE_CHECKING:
    from bot.domain.models import Event


FEATURE_SUBSCRIPTIONS: Final = "subscriptions"


TICK: Final = "✅"


BOX: Final = "▫️"


MAX_EVENT_TOGGLES: Final = 30  # followed single events shown in /abo, earliest first


# Quiet-hour choices in /erinnerungen.
QUIET_CHOICES: Final = (
    QuietHours(time(22, 0), time(7, 0)),
    QuietHours(time(21, 0), time(8, 0)),
    QuietHours(time(23, 0), time(6, 0)),
)


def _toggle(ctx: RenderContext, code: str, label: str, followed: frozenset[str]) -> Button:
    mark = TICK if code in followed else BOX
    return Button(f"{mark} {button_label(label)}", data=callbacks.toggle(code))


def _fits(data: str) -> bool:
    return len(data.encode()) <= MAX_CALLBACK_BYTES


def _event_toggles(ctx: RenderContext, followed: frozenset[str]) -> list[Button]:
    """Return a toggle for each followed single event, known ones earliest first."""
    known: list[tuple[datetime, str, Event]] = []
    unknown: list[str] = []
    for code in followed:
        if not code.startswith(callbacks.CODE_EVENT) or not _fits(callbacks.toggle(code)):
            continue
        event = ctx.catalog.event(code.removeprefix(callbacks.CODE_EVENT))
        if event is None:
            unknown.append(code)
        else:
            known.append(
                (event.begins_at(ctx.tz) or datetime.max.replace(tzinfo=UTC), code, event)
            )
    buttons = []
    for _begins, code, event in sorted(known, key=lambda item: (item[0], item[1])):
        label = event_button(ctx, event).label
        buttons.append(Button(f"{TICK} {label}", data=callbacks.toggle(code)))
    for code in sorted(unknown):
        label = ctx.tr.gettext("Meeting no longer known")
        buttons.append(Button(f"{TICK} {label}", data=callbacks.toggle(code)))
    return buttons[:MAX_EVENT_TOGGLES]


def _network_toggles(ctx: RenderContext, followed: frozenset[str]) -> list[Button]:
    """Return a toggle for every network, then for followed networks no longer known."""
    buttons = [
        _toggle(ctx, callbacks.network_code(n.slug), network_display_name(n), followed)
        for n in ctx.catalog.networks
        if _fits(callbacks.toggle(callbacks.network_code(n.slug)))
    ]
    known = {callbacks.network_code(n.slug) for n in ctx.catalog.networks}
    for code in sorted(followed):
        slug = code.removeprefix(callbacks.CODE_NETWORK)
        if code != slug and slug and code not in known and _fits(callbacks.toggle(code)):
            label = ctx.tr.gettext("Network no longer known")
            buttons.append(Button(f"{TICK} {label}", data=callbacks.toggle(code)))
    return buttons


def subscriptions_panel(
    ctx: RenderContext, followed: frozenset[str], *, blocked: bool = False, shared: bool = False
) -> Reply:
    """Show /abo: what each choice covers, then every choice as a toggle (✅ = followed).

    ``blocked`` says that the last messages could not be delivered, so nothing is sent until
    the person comes back (/start or unblocking the bot). ``shared`` is a group's or channel's
    panel: no "your" heading (``for_group``/``for_channel`` put the chat's name on top).
    """
    _ = ctx.tr.gettext
    count = len(followed)
    if shared:
        blocks = [
            ctx.tr.ngettext(
                "{count} thing is followed here at the moment.",
                "{count} things are followed here at the moment.",
                count,
            ).format(count=count)
            if count
            else _("Nothing is followed here yet.")
        ]
        blocked = False  # a group or channel that refused a message has ended its subscriptions
    else:
        blocks = ["<b>{}</b>".format(_("Your subscriptions"))]
    if blocked:
        blocks.append(
            "<b>{}</b>".format(
                _(
                    "My last messages could not be delivered to you, so I am sending you "
                    "nothing at the moment. Send {command} to receive reminders again."
                ).format(command=command("start"))
            )
        )
    if not shared:
        blocks.append(
            ctx.tr.ngettext(
                "You follow {count} thing at the moment.",
                "You follow {count} things at the moment.",
                count,
            ).format(count=count)
            if count
            else _("You do not follow anything yet.")
        )
    choices = [
        (_("A network:"), _("reminders of the meetings it hosts, and its news.")),
        (
            _("All network meetings:"),
            _("reminders of every network meeting and every alliance-wide event."),
        ),
        (_("News:"), _("circulars of the alliance and its networks.")),
        (
            _("Weekly preview:"),
            _("on Mondays at {time}, the meetings of the week that you follow.").format(
                time=ctx.tr.gettext("{time} o'clock").format(
                    time=time_text(ctx, WEEKLY_PREVIEW_TIME)
                )
            ),
        ),
        (_("A single meeting:"), _("reminders of that meeting; subscribe on its card.")),
    ]
    blocks.append("\n".join(f"• <b>{label}</b> {text}" for label, text in choices))
    blocks.append(
        _(
            "Tap a button to switch it on (✅) or off (▫️). You choose when reminders arrive "
            "under {command}."
        ).format(command=command("erinnerungen"))
    )
    rows: list[tuple[Button, ...]] = list(button_rows(_network_toggles(ctx, followed), 2))
    rows.append((_toggle(ctx, callbacks.CODE_MEETINGS, _("All network meetings"), followed),))
    rows.append(
        (
            _toggle(ctx, callbacks.CODE_NEWS, _("News"), followed),
            _toggle(ctx, callbacks.CODE_WEEKLY, _("Weekly preview"), followed),
        )
    )
    rows.extend((button,) for button in _event_toggles(ctx, followed))
    rows.append(
        (
            Button(_("Reminder times"), data=callbacks.REM_OPEN),
            Button(_("Unsubscribe from everything"), data=callbacks.SUB_STOP_ASK),
        )
    )
    return Reply(fit(blocks), tuple(rows))


def lead_label(ctx: RenderContext, lead: Lead) -> str:
    """Return a lead time in words: "1 Woche vorher", "1 Tag vorher", "2 Stunden vorher"."""
    ngettext = ctx.tr.ngettext
    match lead:
        case Lead.WEEK:
            return ngettext("{count} week before", "{count} weeks before", 1).format(count=1)
        case Lead.DAY:
            return ngettext("{count} day before", "{count} days before", 1).format(count=1)
        case Lead.HOURS_2:
            return ngettext("{count} hour before", "{count} hours before", 2).format(count=2)


def _quiet_text(ctx: RenderContext, quiet: QuietHours, template: str) -> str:
    """Fill a translated template's {start} and {end} with the quiet hours' times."""
    return template.format(start=time_text(ctx, quiet.start), end=time_text(ctx, quiet.end))


def reminder_settings_panel(
    ctx: RenderContext, leads: frozenset[str], quiet: QuietHours | None
) -> Reply:
    """Show /erinnerungen: lead times and quiet hours as toggles, with how they work.

    ``leads`` holds lead codes ("1w", "1d", "2h"); ``quiet`` is the chosen quiet hours or None.
    """
    _ = ctx.tr.gettext
    chosen = [lead for lead in Lead if lead.value in leads]
    current = quiet
    blocks = ["<b>{}</b>".format(_("Reminder times"))]
    if chosen:
        blocks.append(
            _("I remind you of the meetings you follow: {leads}.").format(
                leads=format_list([lead_label(ctx, lead) for lead in chosen], ctx)
            )
        )
    else:
        blocks.append(_("No reminder time is switched on."))
    if current is not None:
        quiet_line = _quiet_text(ctx, current, _("Quiet hours: from {start} to {end}."))
    else:
        quiet_line = _("No quiet hours: reminders may arrive at any time of day.")
    minutes = int(QUIET_FALLBACK.total_seconds() // 60)
    blocks.append(
        quiet_line
        + " "
        + ctx.tr.ngettext(
            "Reminders that fall into the quiet hours arrive when they end, or {minutes} "
            "minute before they begin if the meeting starts earlier.",
            "Reminders that fall into the quiet hours arrive when they end, or {minutes} "
            "minutes before they begin if the meeting starts earlier.",
            minutes,
        ).format(minutes=minutes)
    )
    blocks.append(
        _(
            "For meetings without a known time, reminders arrive at {time}; the reminder "
            "{hours} is then left out."
        ).format(
            time=_("{time} o'clock").format(time=time_text(ctx, DATE_ONLY_REMINDER_TIME)),
            hours=lead_label(ctx, Lead.HOURS_2),
        )
    )
    blocks.append(_("Tap a reminder time to switch it on (✅) or off (▫️), or choose quiet hours."))
    rows: list[tuple[Button, ...]] = [
        (
            Button(
                f"{TICK if lead.value in leads else BOX} {lead_label(ctx, lead)}",
                data=callbacks.REM_LEAD + lead.value,
            ),
        )
        for lead in Lead
    ]
    quiet_buttons = [
        Button(
            f"{TICK if choice == current else BOX} "
            + _quiet_text(ctx, choice, _("{start} to {end}")),
            data=callbacks.REM_QUIET + quiet_code(choice),
        )
        for choice in QUIET_CHOICES
    ]
    none_mark = TICK if current is None else BOX
    no_quiet = _("No quiet hours")
    quiet_buttons.append(
        Button(f"{none_mark} {no_quiet}", data=callbacks.REM_QUIET + quiet_code(None))
    )
    rows.extend(button_rows(quiet_buttons, 2))
    rows.append((Button(_("« Your subscriptions"), data=callbacks.SUB_OPEN),))
    return Reply(fit(blocks), tuple(rows))


def stop_confirm_reply(ctx: RenderContext, count: int) -> Reply:
    """Ask before ending every subscription; with none, say there is nothing to end."""
    _ = ctx.tr.gettext
    if count <= 0:
        return Reply(
            _("You do not follow anything, so there is nothing to unsubscribe from."),
            ((Button(_("Show subscriptions"), data=callbacks.SUB_OPEN),),),
        )
    question = ctx.tr.ngettext(
        "Do you really want to end your {count} subscription?",
        "Do you really want to end all {count} subscriptions?",
        count,
    ).format(count=count)
    text = fit(
        [
            f"<b>{question}</b>",
            _("You will then receive no more reminders, news or weekly previews."),
        ]
    )
    buttons = (
        (
            Button(_("Yes, unsubscribe from everything"), data=callbacks.SUB_STOP_YES),
            Button(_("Cancel"), data=callbacks.SUB_STOP_NO),
        ),
    )
    return Reply(text, buttons)


def stopped_reply(ctx: RenderContext, removed: int) -> Reply:
    """Confirm that everything was unsubscribed, with an undo button."""
    _ = ctx.tr.gettext
    if removed <= 0:
        return Reply(
            _("You did not follow anything. You receive no reminders or news."),
            ((Button(_("Show subscriptions"), data=callbacks.SUB_OPEN),),),
        )
    done = ctx.tr.ngettext(
        "You have unsubscribed from everything ({count} subscription).",
        "You have unsubscribed from everything ({count} subscriptions).",
        removed,
    ).format(count=removed)
    text = fit(
        [
            "{} {}".format(done, _("You will no longer receive reminders or news.")),
            _(
                "Changed your mind? You can undo this right away, or subscribe again at any "
                "time under {command}."
            ).format(command=command("abo")),
        ]
    )
    return Reply(text, ((Button(_("Undo"), data=callbacks.SUB_UNDO),),))


def restored_reply(ctx: RenderContext, restored: int) -> Reply:
    """Confirm that the subscriptions ended by /stopp are active again."""
    _ = ctx.tr.gettext
    if restored <= 0:
        text = _("There was nothing to restore.")
    else:
        text = ctx.tr.ngettext(
            "Restored: your {count} subscription is active again.",
            "Restored: your {count} subscriptions are active again.",
            restored,
        ).format(count=restored)
    return Reply(text, ((Button(_("Show subscriptions"), data=callbacks.SUB_OPEN),),))


def for_group(ctx: RenderContext, reply: Reply, title: str) -> Reply:
    """Head a panel shown in a group with the group's name (its admins change it)."""
    head = ctx.tr.gettext("Subscriptions of the group {title}").format(title=esc(title, 100))
    note = ctx.tr.gettext("Only the group's administrators can change them.")
    return Reply(fit([f"<b>{head}</b>", note, reply.text]), reply.buttons)


def for_channel(ctx: RenderContext, reply: Reply, chat_id: int, title: str) -> Reply:
    """Head a channel's panel (shown in an admin's private chat); its buttons name the channel.

    Buttons whose callback data would pass 64 bytes with the channel's id are left out.
    """
    head = ctx.tr.gettext("Subscriptions of the channel {title}").format(title=esc(title, 100))
    rows: list[tuple[Button, ...]] = []
    for row in reply.buttons:
        kept = tuple(
            Button(b.label, data=callbacks.for_chat(chat_id, b.data)) if b.data is not None else b
            for b in row
            if b.data is None or _fits(callbacks.for_chat(chat_id, b.data))
        )
        if kept:
            rows.append(kept)
    return Reply(fit([f"<b>{head}</b>", reply.text]), tuple(rows))
