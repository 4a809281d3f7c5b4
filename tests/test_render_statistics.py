"""/statistik as one Telegram message, however many networks and circulars there are."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from bot.domain.stats import CircularStats, Report
from bot.i18n import translator
from bot.sandbox.formatting import finalize_text, parse_html
from bot.views.replies import MAX_TEXT
from bot.views.statistics import statistics_text
from tests.qa.helpers import BERLIN, catalog

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
TITLE = "Sehr langer Titel <eines> Treffens & mehr " * 5  # 200 characters, like /termin_neu's


def _report(networks: int, circulars: int) -> Report:
    return Report(
        chats={"active": 1234},
        subscribers_by_topic={"network": networks},
        subscribers_by_network={f"netzwerk-nummer-{n:04}": 1000 - n for n in range(networks)},
        new=5,
        stopped=1,
        circulars=tuple(
            CircularStats(n, "done", "event", f"treffen-{n}", NOW, 1234, 1200, 20, 4, 10)
            for n in range(circulars, 0, -1)
        ),
        reminders_sent=10,
        reminders_failed=0,
        reminders_late=0,
        questions_answered=7,
        questions_unknown=2,
    )


def test_many_networks_and_long_circulars_fit_one_message() -> None:
    """300 networks with long names and 20 circulars to long titles: at most 4096 characters."""
    base = catalog()
    template = base.networks[0]
    networks = tuple(
        dataclasses.replace(template, slug=f"netzwerk-nummer-{n:04}", short_name=f"{TITLE}{n}")
        for n in range(300)
    )
    events = tuple(
        dataclasses.replace(base.events[0], id=f"treffen-{n}", title=f"{TITLE}{n}")
        for n in range(1, 21)
    )
    data = dataclasses.replace(base, networks=networks, events=events)
    text = statistics_text(_report(300, 20), data, translator(), BERLIN)
    shown = finalize_text(parse_html(text)).text  # what Telegram shows; raises on bad HTML
    assert len(text) <= MAX_TEXT
    assert "Fragen der letzten 30 Tage" in shown, "the blocks after the lists stay"
    assert "Beantwortet: 7" in shown
    assert "weitere Netzwerke" in shown
    assert "Sehr langer Titel <eines> Treffens & mehr" in shown, "titles are escaped"
    # The most followed network and the newest circular are never dropped.
    assert "netzwerk-nummer-0000" not in shown
    assert f"{TITLE}0".split()[0] in shown
    assert "Nr. 20 vom" in shown


def test_plain_text_keeps_everything() -> None:
    """netzwerkbot stats prints every network and circular, full names, no limit."""
    base = catalog()
    networks = tuple(
        dataclasses.replace(base.networks[0], slug=f"netzwerk-nummer-{n:04}", short_name=f"N{n}")
        for n in range(300)
    )
    data = dataclasses.replace(base, networks=networks)
    text = statistics_text(_report(300, 20), data, translator(), BERLIN, markup=False)
    assert "N299: 701" in text
    assert "weitere" not in text


def test_few_networks_are_all_shown() -> None:
    """The bundled networks and a few circulars stay complete."""
    text = statistics_text(_report(0, 3), catalog(), translator(), BERLIN)
    assert "weitere" not in text
    assert "Nr. 1 vom" in text


def test_a_cancelled_circular_says_who_cancelled_it() -> None:
    """A circular an admin cancelled reads "von einem Admin abgebrochen"."""
    report = dataclasses.replace(
        _report(0, 1),
        circulars=(CircularStats(7, "cancelled", "news", "", NOW, 10, 3, 0, 0, 7),),
    )
    text = statistics_text(report, catalog(), translator(), BERLIN, markup=False)
    assert "Nr. 7 vom 26.11.26 an Neuigkeiten (von einem Admin abgebrochen): 3 zugestellt" in text
