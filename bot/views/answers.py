"""Turn an understood question into replies, using only what the catalog states.

When the data lacks what was asked, the reply says so ("Das weiß ich leider nicht"),
adds what is known and safe to add, and points to /hilfe; it never fills a gap.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING, Final

from babel.dates import format_date

from bot.domain.account import FEATURE_ACCOUNT
from bot.domain.qa.entities import extract
from bot.domain.qa.intents import (
    NEVER_KNOWN,
    TOPIC_ASK_EVENT,
    TOPIC_ASK_NETWORK,
    TOPIC_FACT,
    TOPIC_OFFTOPIC,
    TOPIC_SETTINGS,
    TOPIC_SORRY,
    TOPIC_WISH,
    Understanding,
    classify,
    member_facts,
)
from bot.domain.schedule import Lead
from bot.views import callbacks
from bot.views.catalog import (
    event_card,
    event_line,
    event_list,
    help_reply,
    network_card,
    network_list,
    welcome_reply,
)
from bot.views.common import (
    button_label,
    button_rows,
    command,
    esc,
    event_button,
    fictional_list_note,
    fictional_note,
    fit,
    format_event_when,
    format_list,
    link,
    long_date,
    network_button,
    network_display_name,
    source_line,
)
from bot.views.panels import FEATURE_SUBSCRIPTIONS, lead_label
from bot.views.replies import Button, Reply

if TYPE_CHECKING:
    from bot.domain.models import Event, Network, Person
    from bot.views.common import RenderContext


HELP_COMMAND: Final = command("hilfe")
ABO_COMMAND: Final = command("abo")
REMINDERS_COMMAND: Final = command("erinnerungen")
STOP_COMMAND: Final = command("stopp")
EVENTS_COMMAND: Final = command("termine")
NETWORKS_COMMAND: Final = command("netzwerke")


def _help_pointer(ctx: RenderContext) -> str:
    return ctx.tr.gettext("You can find what I can answer under {command}.").format(
        command=HELP_COMMAND
    )


def unknown_reply(
    ctx: RenderContext,
    details: list[str] | None = None,
    buttons: tuple[tuple[Button, ...], ...] = (),
    *,
    fictional: bool = False,
) -> Reply:
    """Say politely that the bot does not know, with what it does know, and point to help."""
    _ = ctx.tr.gettext
    head = "<b>{}</b>".format(_("I'm sorry, I don't know that."))
    blocks = [head, *(details or [])]
    tail = [_help_pointer(ctx)]
    if fictional:
        tail.append(fictional_note(ctx))
    tail_text = "\n\n".join(tail)
    body = fit(blocks, 4096 - len(tail_text) - 2)
    return Reply(body + "\n\n" + tail_text, buttons, unanswered=True)


def _faq_reply(ctx: RenderContext, faq_id: str) -> Reply:
    entry = next((f for f in ctx.catalog.faq if f.id == faq_id), None)
    if entry is None:
        return unknown_reply(ctx)
    networks = extract(entry.answer, ctx.catalog).networks
    found = [n for slug in networks if (n := ctx.catalog.network(slug)) is not None]
    blocks = [
        f"<b>{esc(entry.question, 300)}</b>",
        esc(entry.answer, 3000),
        source_line(ctx, ctx.catalog.sources_of(entry.sources)),
    ]
    return Reply(fit(blocks), button_rows([network_button(n) for n in found], 2))


# Networks


def _network_some(ctx: RenderContext, slugs: tuple[str, ...], title: str) -> Reply:
    networks = [n for slug in slugs if (n := ctx.catalog.network(slug)) is not None]
    lines = []
    for network in networks:
        name = esc(network_display_name(network), 150)
        if network.name_is_placeholder:
            name += " ({})".format(ctx.tr.gettext("exact name not known"))
        lines.append(
            f"• <b>{name}</b> – {esc(network.region, 100)}: {esc(network.description, 300)}"  # noqa: RUF001 - typographic dash intended
        )
    blocks = [f"<b>{title}</b>", "\n".join(lines)]
    buttons = [network_button(n) for n in networks]
    rows = (
        *button_rows(buttons, 2),
        (Button(ctx.tr.gettext("All networks"), data=callbacks.NETWORK_LIST),),
    )
    return Reply(fit(blocks), rows)


def _network_buttons(ctx: RenderContext, network: Network) -> tuple[tuple[Button, ...], ...]:
    rows: list[tuple[Button, ...]] = [(network_button(network),)]
    if network.website:
        rows.append((Button(ctx.tr.gettext("Website"), url=network.website),))
    return tuple(rows)


def _website_offer(ctx: RenderContext, network: Network) -> str:
    if not network.website:
        return ""
    return ctx.tr.gettext("More may be found on its website: {link}").format(
        link=link(network.website, network.website)
    )


def _network_answer(ctx: RenderContext, u: Understanding, network: Network) -> Reply:
    _ = ctx.tr.gettext
    name = esc(network.name, 200)
    aspects = u.aspects
    buttons = _network_buttons(ctx, network)
    if u.intent == "unknown":
        if "join" in aspects:
            detail = _("How to become a member of {name} is not recorded.")
        elif "contact" in aspects:
            detail = _("Contact details (phone, e-mail, address) of {name} are not recorded.")
        elif "fees" in aspects:
            detail = _("Membership fees or other costs of {name} are not recorded.")
        elif "members" in aspects:
            detail = _("How many members {name} has is not recorded.")
        elif "leader" in aspects:
            detail = _("Who leads {name} is not recorded.")
        else:
            detail = _("This is not recorded for {name}.")
        return unknown_reply(
            ctx, [detail.format(name=name), _website_offer(ctx, network)], buttons
        )
    if u.topic == TOPIC_FACT:
        return network_card(ctx, network)  # the card lists the fact the question is about
    if "website" in aspects:
        if network.website:
            text = _("The website of {name}: {link}").format(
                name=name, link=link(network.website, network.website)
            )
            if "leader" in aspects and network.led_by:
                # Two questions in one message: who leads it, and where its website is.
                text = (
                    _("Led by {name}: {leader}").format(
                        name=esc(network_display_name(network), 200),
                        leader=esc(network.led_by, 200),
                    )
                    + "\n"
                    + text
                )
            return Reply(text, buttons)
        return unknown_reply(
            ctx, [_("No website of {name} is recorded.").format(name=name)], buttons
        )
    if "leader" in aspects and network.led_by:
        text = _("Led by {name}: {leader}").format(
            name=esc(network_display_name(network), 200), leader=esc(network.led_by, 200)
        )
        if network.supported_by:
            text += "\n" + _("Supported by: {supporter}").format(
                supporter=esc(network.supported_by, 200)
            )
        return Reply(text, buttons)
    if "members" in aspects and "count" in aspects:
        facts = member_facts(network.facts)
        text = "<b>{}</b>\n{}".format(
            _("What is known about the members of {name}:").format(name=name),
            "\n".join("• " + esc(f, 400) for f in facts),
        )
        return Reply(text, buttons)
    return network_card(ctx, network)


def _partners_reply(ctx: RenderContext) -> Reply:
    initiative = ctx.catalog.initiative
    if initiative is None or not initiative.project_partners_2014:
        return unknown_reply(ctx)
    title = ctx.tr.gettext("Project partners of {initiative} (2014):").format(
        initiative=esc(initiative.name, 100)
    )
    return _network_some(ctx, initiative.project_partners_2014, title)


# Events


def _event_summary(ctx: RenderContext, event: Event) -> str:
    _ = ctx.tr.gettext
    lines = [
        f"<b>{esc(event.title, 200)}</b>",
        "{} {}".format(_("When:"), format_event_when(ctx, event)),
    ]
    place = esc(event.city or event.region or "", 120)
    if place:
        lines.append("{} {}".format(_("Where:"), place))
    if event.venue:
        lines.append("{} {}".format(_("Venue:"), esc(event.venue, 300)))
    elif event.venue_note:
        lines.append("{} {}".format(_("Venue:"), esc(event.venue_note, 300)))
    return "\n".join(lines)


def _event_unknown_detail(ctx: RenderContext, u: Understanding, event: Event) -> str:
    _ = ctx.tr.gettext
    aspects = u.aspects
    if "travel" in aspects:
        return _("Travel, parking or catering for this meeting are not recorded.")
    if "fees" in aspects or "registration" in aspects:
        return _("Costs or a registration for this meeting are not recorded.")
    if "contact" in aspects:
        return _("Contact details for this meeting are not recorded.")
    if "attendance" in aspects:
        return _("The number of participants is not recorded.")
    if "speakers" in aspects:
        return _("Speakers of this meeting are not recorded.")
    if "hosts" in aspects:
        return esc(event.host_note or _("The hosts of this meeting are not recorded."), 300)
    return _("This is not recorded for this meeting.")


def _event_unknown(ctx: RenderContext, u: Understanding, event: Event) -> Reply:
    _ = ctx.tr.gettext
    details = [_event_unknown_detail(ctx, u, event), _event_summary(ctx, event)]
    topics = [p.title for p in event.programme]
    if topics and "speakers" in u.aspects:
        details.append(
            "<b>{}</b>\n{}".format(
                _("Known topics:"), "\n".join("• " + esc(t, 200) for t in topics)
            )
        )
    buttons = ((event_button(ctx, event),),)
    return unknown_reply(ctx, details, buttons, fictional=event.fictional)


def _event_intro(ctx: RenderContext, u: Understanding, event: Event) -> str:
    _ = ctx.tr.gettext
    aspects = u.aspects
    notes = []
    if u.intent == "next_event" and not u.mentions.has("after_next"):
        notes.append("<b>{}</b>".format(_("The next meeting:")))
    elif u.intent == "past_event" and not (
        u.mentions.ordinals or u.mentions.title_events or u.mentions.places or u.mentions.networks
    ):
        notes.append("<b>{}</b>".format(_("The latest network meeting:")))
    if "time" in aspects and event.start is None and event.date is not None:
        notes.append(_("The time of day is not recorded, only the day."))
    if "programme" in aspects and not event.programme:
        notes.append(_("No programme is recorded for this meeting."))
    if "outcomes" in aspects and not event.outcomes and event.is_past(ctx.now, ctx.tz):
        notes.append(_("No outcomes are recorded for this meeting."))
    if "where" in aspects and not (event.venue or event.venue_note or event.city):
        notes.append(_("The exact place is not recorded."))
    if "speakers" in aspects:
        for item in event.programme:
            person = ctx.catalog.person(item.speaker) if item.speaker else None
            if person is not None:
                notes.append(
                    f"{esc(person.name, 120)}: {esc(person.role, 200)}, "
                    f"{esc(person.organisation, 200)}"
                )
    return "\n".join(notes)


def _events_none(ctx: RenderContext, u: Understanding) -> Reply:
    _ = ctx.tr.gettext
    details = []
    numbers = sorted(set(u.mentions.ordinals))
    known = {e.number for e in ctx.catalog.events if e.number is not None}
    missing = [n for n in numbers if n not in known]
    if missing:
        details.append(
            _("Nothing is recorded about network meeting no. {number}.").format(number=missing[0])
        )
    else:
        details.append(_("I know of no meeting that matches your question."))
    alliance = ctx.catalog.alliance
    if alliance is not None and alliance.meetings_note:
        details.append(esc(alliance.meetings_note))
    buttons = (
        (
            Button(_("Upcoming meetings"), data=callbacks.events_upcoming(0)),
            Button(_("Past meetings"), data=callbacks.events_past(0)),
        ),
    )
    return unknown_reply(ctx, details, buttons)


def _events_list(ctx: RenderContext, events: list[Event]) -> Reply:
    _ = ctx.tr.gettext
    blocks = [
        "<b>{}</b>".format(_("Meetings matching your question:")),
        "\n".join(event_line(ctx, e) for e in events[:20]),
    ]
    fictional = any(e.fictional for e in events[:20])
    note = fictional_list_note(ctx) if fictional else ""
    text = fit(blocks, 4096 - len(note) - 2)
    if note:
        text += "\n\n" + note
    rows = tuple((event_button(ctx, e),) for e in events[:8])
    return Reply(text, rows)


def _event_answer(ctx: RenderContext, u: Understanding) -> Reply:
    events = [e for i in u.events if (e := ctx.catalog.event(i)) is not None]
    if u.event_mode == "none":
        return _events_none(ctx, u)
    if u.event_mode == "upcoming":
        return event_list(ctx, past=False, page=0)
    if u.event_mode == "past":
        return event_list(ctx, past=True, page=0)
    if u.event_mode == "list":
        return _events_list(ctx, events)
    if not events:
        return unknown_reply(ctx)
    event = events[0]
    if u.intent == "unknown":
        return _event_unknown(ctx, u, event)
    return event_card(ctx, event, intro=_event_intro(ctx, u, event))


# People


def _person_card(ctx: RenderContext, person: Person, intro: str = "") -> Reply:
    blocks = [
        intro,
        f"<b>{esc(person.name, 120)}</b>\n"
        f"<i>{esc(person.role, 200)}, {esc(person.organisation, 200)}</i>",
        esc(person.summary, 2000),
        source_line(ctx, ctx.catalog.sources_of(person.sources)),
    ]
    return Reply(fit(blocks))


def _person_answer(ctx: RenderContext, u: Understanding) -> Reply:
    _ = ctx.tr.gettext
    person = ctx.catalog.person(u.entities[0]) if u.entities else None
    if person is None:
        return unknown_reply(ctx)
    if u.intent == "unknown":
        detail = _("Contact details of {name} are not recorded.").format(
            name=esc(person.name, 120)
        )
        if u.aspects & NEVER_KNOWN:
            detail = _("This is not recorded for {name}.").format(name=esc(person.name, 120))
        role = f"{esc(person.name, 120)}: {esc(person.role, 200)}, {esc(person.organisation, 200)}"
        return unknown_reply(ctx, [detail, role])
    intro = ""
    if u.topic == "head" and ctx.catalog.initiative is not None:
        intro = _("{initiative} is led by {name}.").format(
            initiative=esc(ctx.catalog.initiative.name, 100), name=esc(person.name, 120)
        )
        if u.mentions.alliance and ctx.catalog.alliance is not None:
            # A second question in the same message: how the alliance relates to it.
            intro += " " + _("The {alliance} grew out of it.").format(
                alliance=esc(ctx.catalog.alliance.name, 100)
            )
    return _person_card(ctx, person, intro)


# Alliance and initiative


def _alliance_answer(ctx: RenderContext, u: Understanding) -> Reply:
    _ = ctx.tr.gettext
    catalog = ctx.catalog
    alliance = catalog.alliance
    if u.topic.startswith("faq:"):
        return _faq_reply(ctx, u.topic.removeprefix("faq:"))
    if alliance is None:
        return unknown_reply(ctx)
    name = esc(alliance.name, 100)
    sources = source_line(ctx, catalog.sources_of(alliance.sources))
    list_button = ((Button(_("All networks"), data=callbacks.NETWORK_LIST),),)
    if u.topic == "count":
        blocks = [
            ctx.tr.ngettext(
                "{total} regional IT network belongs to the {alliance}.",
                "{total} regional IT networks belong to the {alliance}.",
                alliance.network_count,
            ).format(total=alliance.network_count, alliance=name),
            esc(alliance.network_count_note or ""),
            sources,
        ]
        return Reply(fit(blocks), list_button)
    coordinator = alliance.coordinator
    if u.topic in {"coordinator", "leader"} and coordinator is not None:
        blocks = []
        if u.topic == "leader":
            blocks.append(_("A head of the {alliance} is not recorded.").format(alliance=name))
        blocks += [
            "<b>{}:</b> {}".format(
                esc(coordinator.label or _("Overall coordination"), 100),
                esc(coordinator.name or "", 200),
            ),
            esc(coordinator.description or ""),
            esc(coordinator.note or ""),
            source_line(ctx, catalog.sources_of(coordinator.sources)),
        ]
        return Reply(fit(blocks))
    if u.topic == "motto":
        text = _("The motto of the {alliance}: “{motto}”").format(
            alliance=name, motto=esc(alliance.motto, 300)
        )
        return Reply(fit([text, sources]))
    if u.topic == "agreement" and alliance.partnership_agreement:
        return Reply(fit([esc(alliance.partnership_agreement), sources]))
    if u.topic == "principles" and alliance.principles:
        return Reply(fit([esc(alliance.principles), sources]))
    if u.topic == "website" and alliance.website:
        text = _("The website of the {alliance}: {link}").format(
            alliance=name, link=link(alliance.website, alliance.website)
        )
        return Reply(fit([text, esc(alliance.website_note or "")]))
    initiative = catalog.initiative
    if u.topic == "figures" and initiative is not None and initiative.ict_figures_2014:
        lines = [esc(v, 300) for k, v in initiative.ict_figures_2014 if k != "note"]
        note = dict(initiative.ict_figures_2014).get("note", "")
        blocks = [
            "<b>{}</b>".format(_("The IT sector in Baden-Württemberg:")),
            "\n".join("• " + line for line in lines),
            esc(note),
            source_line(ctx, catalog.sources_of(initiative.sources)),
        ]
        return Reply(fit(blocks))
    if u.topic in {"initiative", "founded"} and initiative is not None:
        return _initiative_reply(ctx)
    blocks = [
        f"<b>{esc(alliance.full_name, 200)}</b>",
        esc(alliance.description),
        esc(alliance.principles or ""),
        _("Motto: “{motto}”").format(motto=esc(alliance.motto, 300)),
        sources,
    ]
    buttons = (
        (
            Button(_("Networks"), data=callbacks.NETWORK_LIST),
            Button(_("Meetings"), data=callbacks.events_upcoming(0)),
        ),
    )
    return Reply(fit(blocks), buttons)


def _initiative_reply(ctx: RenderContext) -> Reply:
    _ = ctx.tr.gettext
    initiative = ctx.catalog.initiative
    if initiative is None:
        return unknown_reply(ctx)
    blocks = [f"<b>{esc(initiative.name, 100)}</b>", esc(initiative.description)]
    facts = []
    if initiative.launched:
        facts.append(_("Launched in {year}.").format(year=initiative.launched))
    head = ctx.catalog.person(initiative.head) if initiative.head else None
    if head is not None:
        facts.append(_("Led by {name}.").format(name=esc(head.name, 120)))
    partners = [
        network_display_name(n)
        for slug in initiative.project_partners_2014
        if (n := ctx.catalog.network(slug)) is not None
    ]
    if partners:
        facts.append(
            _("Project partners (2014): {names}.").format(
                names=", ".join(esc(p, 100) for p in partners)
            )
        )
    if ctx.catalog.alliance is not None:
        facts.append(
            _("The {alliance} grew out of it.").format(
                alliance=esc(ctx.catalog.alliance.name, 100)
            )
        )
    blocks.append(" ".join(facts))
    blocks.append(source_line(ctx, ctx.catalog.sources_of(initiative.sources)))
    return Reply(fit(blocks))


# Funding


def _started(ctx: RenderContext, started: str) -> str:
    year, _sep, month = started.partition("-")
    if month.isdigit() and year.isdigit() and 1 <= int(month) <= 12:
        return format_date(date(int(year), int(month), 1), "MMMM yyyy", locale=ctx.tr.locale)
    return esc(started, 20)


def _line_text(ctx: RenderContext, line_id: str) -> str:
    _ = ctx.tr.gettext
    programme = ctx.catalog.funding.programme if ctx.catalog.funding else None
    line = next((ln for ln in programme.lines if ln.id == line_id), None) if programme else None
    if line is None:
        return ""
    text = f"<b>{esc(line.name, 100)}</b>: {esc(line.purpose, 300)}"
    if line.started:
        text += " " + _("(since {started})").format(started=_started(ctx, line.started))
    if line.funded_regions_2013:
        text += "\n" + _("Regions funded in 2013: {regions}").format(
            regions=", ".join(esc(r, 100) for r in line.funded_regions_2013)
        )
    return text


def _funding_answer(ctx: RenderContext, u: Understanding) -> Reply:
    _ = ctx.tr.gettext
    funding = ctx.catalog.funding
    if funding is None:
        return unknown_reply(ctx)
    programme = funding.programme
    funding_sources = source_line(ctx, ctx.catalog.sources_of(funding.sources))
    if programme is None or u.topic in {"summary", "who"}:
        blocks = [
            "<b>{}</b>".format(_("Funding")),
            esc(funding.summary or ""),
            esc(funding.ministry_names_note or ""),
            funding_sources,
        ]
        return Reply(fit(blocks))
    name = esc(programme.name, 100)
    sources = source_line(ctx, ctx.catalog.sources_of(programme.sources))
    if u.topic == "money":
        details = [
            _("The amount of funding from the {programme} is not recorded.").format(programme=name)
        ]
        if programme.duration:
            details.append(
                _("Known is: the programme supports a network for {duration}.").format(
                    duration=esc(programme.duration, 100)
                )
            )
        return unknown_reply(ctx, details)
    if u.topic == "deadline_past" and programme.application_deadline_2014:
        text = _("In 2014 the application deadline of the {programme} was {date}.").format(
            programme=name, date=long_date(ctx, programme.application_deadline_2014)
        )
        return Reply(fit([text, esc(programme.current_call_note or ""), sources]))
    if u.topic == "jury_who":
        details = [_("Who sat on the jury is not recorded.")]
        return unknown_reply(ctx, [*details, esc(programme.jury_2013 or ""), sources])
    if u.topic == "jury" and programme.jury_2013:
        return Reply(fit([esc(programme.jury_2013), sources]))
    if u.topic in {"deadline", "deadline_past"}:
        details = [esc(programme.current_call_note or "")]
        if programme.application_deadline_2014:
            details.append(
                _("For comparison: in 2014 the application deadline was {date}.").format(
                    date=long_date(ctx, programme.application_deadline_2014)
                )
            )
        if programme.round_2_note:
            details.append(esc(programme.round_2_note))
        return unknown_reply(ctx, details)
    if u.topic == "line" and u.entities:
        blocks = [_line_text(ctx, line_id) for line_id in u.entities]
        blocks.append(_("Part of the {programme}.").format(programme=name))
        blocks.append(sources)
        return Reply(fit(blocks))
    if u.topic == "regions":
        blocks = [_line_text(ctx, ln.id) for ln in programme.lines if ln.funded_regions_2013]
        if esc(programme.jury_2013 or ""):
            blocks.append(esc(programme.jury_2013 or ""))
        blocks.append(sources)
        return Reply(fit(blocks))
    blocks = [f"<b>{name}</b>", esc(programme.description or "")]
    if programme.duration:
        blocks.append(
            _("Duration of the funding: {duration}.").format(duration=esc(programme.duration, 100))
        )
    if programme.lines:
        blocks.append(
            "<b>{}</b>\n{}".format(
                _("Funding lines:"),
                "\n".join("• " + _line_text(ctx, ln.id) for ln in programme.lines),
            )
        )
    blocks += [esc(programme.jury_2013 or ""), esc(programme.round_2_note or ""), sources]
    return Reply(fit(blocks))


# Bot features and small talk


def _subscribe_reply(ctx: RenderContext, u: Understanding) -> Reply:
    _ = ctx.tr.gettext
    if FEATURE_SUBSCRIPTIONS in ctx.features:
        if u.topic == TOPIC_SETTINGS:
            return _settings_reply(ctx)
        return _subscribe_offer(ctx, u)
    text = _(
        "Reminders and subscriptions are not available yet: I cannot send you reminders or "
        "news at the moment, so there is nothing to subscribe to. You can look up the "
        "upcoming meetings at any time with {command}."
    ).format(command=EVENTS_COMMAND)
    # A wish about one network still gets that network's card a tap away.
    networks = [n for slug in u.entities if (n := ctx.catalog.network(slug)) is not None]
    rows = button_rows([network_button(n) for n in networks[:4]], 2)
    return Reply(
        text, (*rows, (Button(_("Upcoming meetings"), data=callbacks.events_upcoming(0)),))
    )


def _subscribe_offer(ctx: RenderContext, u: Understanding) -> Reply:
    """Offer one-tap buttons for what the message names; subscribing stays the member's tap."""
    _ = ctx.tr.gettext
    catalog = ctx.catalog
    m = u.mentions
    networks = [n for slug in u.entities if (n := catalog.network(slug)) is not None]
    events = [e for i in u.entities if (e := catalog.event(i)) is not None]
    upcoming = [e for e in events if e.is_upcoming(ctx.now, ctx.tz)]
    news = m.has("news") or "new" in u.aspects
    weekly = m.has("weekly")
    meetings = not (events or networks) and (m.has("event") or not (news or weekly))
    offers: list[Button] = [
        Button(
            _("Subscribe to {name}").format(name=button_label(network_display_name(n), 32)),
            data=callbacks.subscribe(callbacks.network_code(n.slug)),
        )
        for n in networks
    ]
    offers.extend(
        Button(
            _("Subscribe to {name}").format(name=button_label(e.title, 40)),
            data=callbacks.subscribe(callbacks.event_code(e.id)),
        )
        for e in upcoming
    )
    if meetings:
        offers.append(
            Button(
                _("Subscribe to all network meetings"),
                data=callbacks.subscribe(callbacks.CODE_MEETINGS),
            )
        )
    if news:
        offers.append(
            Button(_("Subscribe to news"), data=callbacks.subscribe(callbacks.CODE_NEWS))
        )
    if weekly:
        offers.append(
            Button(
                _("Subscribe to the weekly preview"),
                data=callbacks.subscribe(callbacks.CODE_WEEKLY),
            )
        )
    blocks = []
    if offers:
        blocks.append(
            _(
                "Gladly! Tap below on what you would like to subscribe to; only then will I "
                "send you messages."
            )
        )
    if upcoming:
        blocks.append("\n".join(event_line(ctx, e) for e in upcoming))
    blocks.extend(
        _("“{title}” has already taken place, so I cannot remind you of it.").format(
            title=esc(e.title, 200)
        )
        for e in events
        if e not in upcoming
    )
    blocks.append(_commands_note(ctx))
    if any(e.fictional for e in events):
        blocks.append(fictional_note(ctx))
    rows = [(b,) for b in offers]
    rows.append((Button(_("Manage subscriptions"), data=callbacks.SUB_OPEN),))
    return Reply(fit(blocks), tuple(rows))


def _commands_note(ctx: RenderContext) -> str:
    return ctx.tr.gettext(
        "You can see and change what you follow under {abo} and when reminders arrive under "
        "{reminders}. You can unsubscribe at any time with {stop}."
    ).format(abo=ABO_COMMAND, reminders=REMINDERS_COMMAND, stop=STOP_COMMAND)


def _settings_reply(ctx: RenderContext) -> Reply:
    """Explain where reminder times and quiet hours are set."""
    _ = ctx.tr.gettext
    leads = format_list([lead_label(ctx, lead) for lead in Lead], ctx)
    text = _(
        "You choose when reminders arrive under {command}: {leads} (each can be switched "
        "on or off) and quiet hours in which I send you nothing."
    ).format(command=REMINDERS_COMMAND, leads=leads)
    buttons = (
        (
            Button(_("Reminder times"), data=callbacks.REM_OPEN),
            Button(_("Manage subscriptions"), data=callbacks.SUB_OPEN),
        ),
    )
    return Reply(text, buttons)


def _unsubscribe_reply(ctx: RenderContext, u: Understanding) -> Reply:
    _ = ctx.tr.gettext
    manage = Button(_("Manage subscriptions"), data=callbacks.SUB_OPEN)
    if FEATURE_SUBSCRIPTIONS in ctx.features:
        networks = [n for slug in u.entities if (n := ctx.catalog.network(slug)) is not None]
        if networks:
            names = format_list([esc(network_display_name(n), 100) for n in networks], ctx)
            text = _(
                "To unsubscribe only from {names}, tap its entry marked ✅ under {abo}. "
                "With {stop} you unsubscribe from everything at once."
            ).format(names=names, abo=ABO_COMMAND, stop=STOP_COMMAND)
            return Reply(text, ((manage,),))
        text = _(
            "You can unsubscribe at any time: {stop} ends all your subscriptions at once; "
            "under {abo} you switch off single ones."
        ).format(stop=STOP_COMMAND, abo=ABO_COMMAND)
        stop = Button(_("Unsubscribe from everything"), data=callbacks.SUB_STOP_ASK)
        return Reply(text, ((stop, manage),))
    return Reply(
        _(
            "There is nothing you need to unsubscribe from: I do not send reminders or news "
            "yet. I only answer when you write to me."
        )
    )


def _account_reply(ctx: RenderContext) -> Reply:
    _ = ctx.tr.gettext
    alliance = ctx.catalog.alliance
    if FEATURE_ACCOUNT in ctx.features:
        # Hand over to the bot's own password dialog (handlers/account.py).
        entry = next((f for f in ctx.catalog.faq if f.id == "faq-kennwort"), None)
        if entry is not None:
            text = "{}\n\n{}".format(
                esc(entry.answer),
                _(
                    "Here in the chat: send {command}, or tap the button. You confirm with a "
                    "code by e-mail, then set a new password."
                ).format(command="/kennwort"),
            )
            return Reply(
                text, ((Button(_("Set a new password"), data=callbacks.ACCOUNT_PASSWORD),),)
            )
    recovery = esc(alliance.recovery_label or "", 60) if alliance else ""
    website = alliance.website if alliance else None
    if not recovery or not website:
        return unknown_reply(ctx)
    text = _(
        "If you have forgotten your password, use the link “{recovery}” at “{login}” on "
        "the website {website}. I cannot reset passwords myself."
    ).format(
        recovery=recovery,
        login=esc(alliance.login_label or "Login", 60) if alliance else "Login",
        website=link(website, website),
    )
    return Reply(text, ((Button(_("Website"), url=website),),))


def _ask_back(ctx: RenderContext, u: Understanding) -> Reply:
    """Ask which meeting or network a message without context means, with buttons."""
    _ = ctx.tr.gettext
    if u.topic == TOPIC_ASK_NETWORK:
        text = _(
            "Which network do you mean? Please write its name or city, for example "
            "“website of the network in Ulm”."
        )
        return Reply(text, ((Button(_("All networks"), data=callbacks.NETWORK_LIST),),))
    text = _(
        "Which meeting do you mean? Please write it with the place or the date, for example "
        "“the next meeting” or “the meeting in Ulm”."
    )
    upcoming = ctx.catalog.upcoming_events(ctx.now)[:3]
    rows: list[tuple[Button, ...]] = [(event_button(ctx, e),) for e in upcoming]
    rows.append(
        (
            Button(_("Upcoming meetings"), data=callbacks.events_upcoming(0)),
            Button(_("Past meetings"), data=callbacks.events_past(0)),
        )
    )
    return Reply(text, tuple(rows))


def _sorry_reply(ctx: RenderContext) -> Reply:
    """Apologise for an answer that did not help, and point to what the bot can do."""
    text = ctx.tr.gettext(
        "I'm sorry that did not help. Please try asking in other words, for example with "
        "the name of a network or a meeting. You can find what I can answer under {command}."
    ).format(command=HELP_COMMAND)
    return Reply(text)


def _stop_wish_reply(ctx: RenderContext, u: Understanding) -> Reply:
    """Answer a clear wish to stop for a person with no subscriptions (nothing to stop).

    The chat handler carries the wish out where there is something to stop; this reply is
    what is left when nothing is subscribed, and what ``netzwerkbot ask`` shows.
    """
    _ = ctx.tr.gettext
    manage = Button(_("Manage subscriptions"), data=callbacks.SUB_OPEN)
    networks = [n for slug in u.entities if (n := ctx.catalog.network(slug)) is not None]
    if networks:
        names = format_list([esc(network_display_name(n), 100) for n in networks], ctx)
        text = _(
            "You have not subscribed to {names}, so there is nothing to unsubscribe from. "
            "Whatever you subscribe to, you can unsubscribe from under {abo} at any time."
        ).format(names=names, abo=ABO_COMMAND)
        return Reply(text, ((manage,),))
    text = _(
        "You have not subscribed to anything, so there is nothing to unsubscribe from. "
        "Whatever you subscribe to, you can unsubscribe from at any time with {stop} or "
        "under {abo}."
    ).format(stop=STOP_COMMAND, abo=ABO_COMMAND)
    return Reply(text, ((manage,),))


def answer(u: Understanding, ctx: RenderContext) -> list[Reply]:
    """Return the replies for an understood message."""
    intent = u.intent
    if u.topic in {TOPIC_ASK_EVENT, TOPIC_ASK_NETWORK}:
        return [_ask_back(ctx, u)]
    if u.topic == TOPIC_SORRY:
        return [_sorry_reply(ctx)]
    if u.topic == TOPIC_OFFTOPIC:
        return [unknown_reply(ctx, _unknown_details(ctx, u))]
    if intent == "unsubscribe" and u.topic == TOPIC_WISH and FEATURE_SUBSCRIPTIONS in ctx.features:
        return [_stop_wish_reply(ctx, u)]
    if u.events or u.event_mode:
        return [_event_answer(ctx, u)]
    if intent == "greeting":
        return [welcome_reply(ctx, None)]
    if intent == "thanks":
        return [Reply(ctx.tr.gettext("You're welcome! Feel free to ask again at any time."))]
    if intent == "help":
        return [help_reply(ctx)]
    if intent == "account_recovery":
        return [_account_reply(ctx)]
    if intent == "unsubscribe":
        return [_unsubscribe_reply(ctx, u)]
    if intent == "subscribe":
        return [_subscribe_reply(ctx, u)]
    if intent == "network_list":
        if u.topic == "some":
            title = ctx.tr.gettext("Networks matching your question:")
            return [_network_some(ctx, u.entities, title)]
        if u.topic == "partners":
            return [_partners_reply(ctx)]
        if u.topic.startswith("faq:"):
            return [_faq_reply(ctx, u.topic.removeprefix("faq:"))]
        return [network_list(ctx)]
    if u.entities and (network := ctx.catalog.network(u.entities[0])) is not None:
        return [_network_answer(ctx, u, network)]
    if intent == "person_info" or (u.entities and ctx.catalog.person(u.entities[0])):
        return [_person_answer(ctx, u)]
    if intent == "funding_info" or u.topic in {"money", "deadline", "jury_who"}:
        return [_funding_answer(ctx, u)]
    if intent == "alliance_info":
        return [_alliance_answer(ctx, u)]
    buttons: tuple[tuple[Button, ...], ...] = ()
    if u.topic in {"join", "network"}:
        buttons = ((Button(ctx.tr.gettext("All networks"), data=callbacks.NETWORK_LIST),),)
    return [unknown_reply(ctx, _unknown_details(ctx, u), buttons)]


def _unknown_details(ctx: RenderContext, u: Understanding) -> list[str]:
    _ = ctx.tr.gettext
    if u.topic in {"alliance", "initiative"} or not u.mentions.words:
        return []
    alliance = ctx.catalog.alliance
    if u.topic == "join":
        return [_("How to join a network is not recorded; the networks' websites may help.")]
    if u.topic == "network" and alliance is not None and alliance.network_count_note:
        return [
            _("I know only the networks listed under {command}.").format(command=NETWORKS_COMMAND),
            esc(alliance.network_count_note),
        ]
    return [
        _(
            "I answer questions about the regional IT networks, their meetings, the "
            "{alliance} and its funding, using only the facts I have."
        ).format(alliance=esc(ctx.catalog.alliance.name if ctx.catalog.alliance else "", 100))
    ]


logger = logging.getLogger(__name__)


def answer_question_unguarded(text: str, ctx: RenderContext) -> list[Reply]:
    """Answer a member's message; exceptions propagate (for tests)."""
    understanding = classify(text, ctx.catalog, ctx.now, ctx.tz)
    return answer(understanding, ctx)


def answer_question(text: str, ctx: RenderContext) -> list[Reply]:
    """Answer a member's message with at least one reply; never raises for any text."""
    try:
        return answer_question_unguarded(text, ctx)
    except Exception:
        # A bug must not leave the member without an answer; the log keeps the trace.
        logger.exception("answering a question failed")
        return [unknown_reply(ctx)]


def understand(text: str, ctx: RenderContext) -> Understanding | None:
    """Return what a message asks, or None when understanding it failed (a bug, logged)."""
    try:
        return classify(text, ctx.catalog, ctx.now, ctx.tz)
    except Exception:
        logger.exception("understanding a question failed")
        return None
