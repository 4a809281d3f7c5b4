"""The admins' statistics as German text: /statistik (HTML) and ``netzwerkbot stats`` (plain).

Only counts, never who: subscribers per topic and network, new and stopped ones, circulars
with their outcomes, reminders sent, failed and late, questions answered or not known.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Final

from babel.dates import format_date
from babel.numbers import format_decimal

from bot.domain.text import N_
from bot.views.common import shorten
from bot.views.replies import MAX_TEXT

if TYPE_CHECKING:
    from collections.abc import Callable
    from zoneinfo import ZoneInfo

    from bot.domain.models import Catalog
    from bot.domain.stats import CircularStats, Report
    from bot.i18n import Translator

TOPICS: Final = (
    ("meetings", N_("All network meetings")),
    ("network", N_("Single networks")),
    ("event", N_("Single meetings")),
    ("news", N_("News and circulars")),
    ("weekly", N_("Weekly preview")),
)
CIRCULAR_STATUSES: Final = {
    "planned": N_("planned"),
    "running": N_("running"),
    "paused": N_("paused"),
    "done": N_("finished"),
    "cancelled": N_("cancelled by an admin"),
}
MAX_AUDIENCE: Final = 80  # characters of a network's name or an event title in /statistik
# Room kept free for each "… and N more" line when /statistik drops networks or circulars.
MORE_RESERVE: Final = 80


def statistics_text(
    report: Report, catalog: Catalog, tr: Translator, tz: ZoneInfo, *, markup: bool = True
) -> str:
    """Return the statistics; HTML for Telegram, or plain text with ``markup=False``."""
    _ = tr.gettext
    escape: Callable[[str], str] = html.escape if markup else str

    def heading(text: str) -> str:
        return f"<b>{escape(text)}</b>" if markup else text.upper()

    def number(value: int) -> str:
        return format_decimal(value, locale=tr.locale)

    def line(label: str, value: int) -> str:
        return escape(_("{label}: {count}").format(label=label, count=number(value)))

    blocks: list[list[str]] = []
    blocks.append(
        [
            heading(_("Statistics")),
            line(_("Active subscribers"), report.chats.get("active", 0)),
            line(_("Blocked the bot"), report.chats.get("blocked", 0)),
            line(_("New in the last 30 days"), report.new),
            line(_("Stopped or blocked in the last 30 days"), report.stopped),
        ]
    )
    blocks.append(
        [heading(_("Subscribers by topic"))]
        + [line(_(label), report.subscribers_by_topic.get(topic, 0)) for topic, label in TOPICS]
    )
    networks = [heading(_("Subscribers by network"))]
    for slug, count in report.subscribers_by_network.items():
        network = catalog.network(slug)
        name = network.short_name if network else slug
        networks.append(line(shorten(name, MAX_AUDIENCE) if markup else name, count))
    if not report.subscribers_by_network:
        networks.append(escape(_("No one follows a single network yet.")))
    blocks.append(networks)
    circulars = [heading(_("Circulars of the last 90 days"))]
    circulars += [escape(_circular_line(c, catalog, tr, tz, markup)) for c in report.circulars]
    if not report.circulars:
        circulars.append(escape(_("No circulars.")))
    blocks.append(circulars)
    blocks.append(
        [
            heading(_("Reminders of the last 30 days")),
            line(_("Sent"), report.reminders_sent),
            line(_("Of these more than a minute late"), report.reminders_late),
            line(_("Failed"), report.reminders_failed),
        ]
    )
    blocks.append(
        [
            heading(_("Questions of the last 30 days")),
            line(_("Answered"), report.questions_answered),
            line(_("Answered with “I don't know”"), report.questions_unknown),
        ]
    )
    if markup:
        _fit_message(blocks, networks, circulars, tr)
    return "\n\n".join("\n".join(block) for block in blocks)


def _fit_message(
    blocks: list[list[str]], networks: list[str], circulars: list[str], tr: Translator
) -> None:
    """Drop the least followed networks and the oldest circulars until a message holds all.

    Telegram refuses a message over 4096 characters: many networks (each a line) and 20
    circulars to meetings with long titles pass that. The HTML length is counted, which is
    never less than what Telegram counts.
    """
    size = len("\n\n".join("\n".join(block) for block in blocks))
    dropped = {id(networks): 0, id(circulars): 0}
    # Each list keeps its heading (index 0) and always shows at least its first entry.
    while size > MAX_TEXT - 2 * MORE_RESERVE and max(len(networks), len(circulars)) > 2:
        victim = networks if len(networks) >= len(circulars) else circulars
        size -= len(victim.pop()) + 1
        dropped[id(victim)] += 1
    if count := dropped[id(networks)]:
        more = tr.ngettext("… and {count} more network", "… and {count} more networks", count)
        networks.append(html.escape(more.format(count=format_decimal(count, locale=tr.locale))))
    if count := dropped[id(circulars)]:
        more = tr.ngettext("… and {count} more circular", "… and {count} more circulars", count)
        circulars.append(html.escape(more.format(count=format_decimal(count, locale=tr.locale))))


def _circular_line(
    circular: CircularStats, catalog: Catalog, tr: Translator, tz: ZoneInfo, short: bool
) -> str:
    """Return one circular: number, date, audience (``short``: cut), status and outcomes."""
    _ = tr.gettext

    def number(value: int) -> str:
        return format_decimal(value, locale=tr.locale)

    if circular.audience_kind == "network":
        network = catalog.network(circular.audience_target)
        audience = network.short_name if network else circular.audience_target
    elif circular.audience_kind == "event":
        event = catalog.event(circular.audience_target)
        audience = event.title if event else circular.audience_target
    else:
        audience = _("News")
    if short:
        audience = shorten(" ".join(audience.split()), MAX_AUDIENCE)
    return _(
        "#{id} of {date} to {audience} ({status}): {sent} delivered, {blocked} blocked, "
        "{failed} failed, {open} open, of {recipients}"
    ).format(
        id=circular.id,
        date=format_date(circular.created_at.astimezone(tz).date(), "short", locale=tr.locale),
        audience=audience,
        status=_(CIRCULAR_STATUSES.get(circular.status, circular.status)),
        sent=number(circular.sent),
        blocked=number(circular.blocked),
        failed=number(circular.failed),
        open=number(circular.open),
        recipients=number(circular.recipients),
    )
