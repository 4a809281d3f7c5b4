"""Finding meetings and networks by a few words (inline sharing: ``@botname karlsruhe``).

Every word of the query must begin a word of what is known of a meeting (title, subtitle,
place, venue, hosts) or of a network (names, aliases, city, region, slug), compared folded
(case, umlauts and accents do not matter: "muenchen" finds "München"; "ulm" finds Ulm, not
Neckarsulm). Meetings ahead come first,
earliest first, then past ones, latest first; an empty query lists the meetings ahead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from bot.domain.qa.normalize import fold

if TYPE_CHECKING:
    from datetime import datetime

    from bot.domain.models import Catalog, Event, Network

MAX_RESULTS: Final = 20  # Telegram shows at most 50; a short list is quicker to scan
MAX_QUERY: Final = 256  # inline queries are at most 256 characters
_WORD: Final = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Found:
    """What a query found: meetings (ahead first) and networks, together at most ``limit``."""

    events: tuple[Event, ...]
    networks: tuple[Network, ...]


def query_words(query: str) -> list[str]:
    """Return the folded words of a query."""
    return _WORD.findall(fold(query[:MAX_QUERY]))


def event_text(catalog: Catalog, event: Event) -> str:
    """Return everything a query may match of a meeting, folded."""
    parts = [event.title, event.subtitle, event.city, event.region, event.venue, event.id]
    for host in event.hosts:
        parts.append(host.name)
        network = catalog.network(host.network) if host.network else None
        if network is not None:
            parts += [network.name, network.short_name, network.slug, *network.aliases]
    return fold(" ".join(p for p in parts if p))


def network_text(network: Network) -> str:
    """Return everything a query may match of a network, folded."""
    parts = [network.name, network.short_name, network.slug, network.city, network.region]
    return fold(" ".join([*parts, *network.aliases]))


def search(catalog: Catalog, query: str, now: datetime, *, limit: int = MAX_RESULTS) -> Found:
    """Return the meetings and networks whose text holds every word of the query."""
    words = query_words(query)
    ahead = catalog.upcoming_events(now)
    if not words:
        return Found(tuple(ahead[:limit]), ())

    def matches(text: str) -> bool:
        known = _WORD.findall(text)
        return all(any(k.startswith(word) for k in known) for word in words)

    events = [e for e in [*ahead, *catalog.past_events(now)] if matches(event_text(catalog, e))]
    networks = [n for n in catalog.networks if matches(network_text(n))]
    # Networks get at least a third of the places when both kinds match.
    keep_networks = min(len(networks), max(limit // 3, limit - len(events)))
    events = events[: limit - keep_networks]
    return Found(tuple(events), tuple(networks[:keep_networks]))
