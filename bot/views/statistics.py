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
        networks.append(line(network.short_name if network else slug, count))
    if not report.subscribers_by_network:
        networks.append(escape(_("No one follows a single network yet.")))
    blocks.append(networks)
    circulars = [heading(_("Circulars of the last 90 days"))]
    circulars += [escape(_circular_line(c, catalog, tr, tz)) for c in report.circulars]
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
    return "\n\n".join("\n".join(block) for block in blocks)


def _circular_line(circular: CircularStats, catalog: Catalog, tr: Translator, tz: ZoneInfo) -> str:
    """Return one circular: number, date, audience, status and outcomes."""
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
