"""Decide what kind of answer a message needs, from its cue words and the entities in it."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from bot.domain.models import DATA_TIMEZONE
from bot.domain.qa.entities import Mentions, extract
from bot.domain.qa.normalize import fold, stem, tokenize
from bot.domain.qa.retrieval import Hit, best_document

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from bot.domain.models import Catalog, Event

INTENTS: Final = (
    "network_info",
    "network_list",
    "next_event",
    "event_info",
    "past_event",
    "alliance_info",
    "funding_info",
    "person_info",
    "subscribe",
    "unsubscribe",
    "account_recovery",
    "greeting",
    "thanks",
    "help",
    "unknown",
)

ASPECTS: Final = frozenset(
    {
        "when",
        "time",
        "where",
        "speakers",
        "programme",
        "outcomes",
        "website",
        "leader",
        "name",
        "members",
        "count",
        "fees",
        "contact",
        "travel",
        "registration",
        "attendance",
        "deadline",
        "money",
        "join",
        "jury",
        "founded",
        "figures",
        "motto",
        "agreement",
        "coordinator",
        "partners",
        "new",
        "regions",
        "hosts",
        "offtopic",
        "principles",
    }
)
# Aspects that no entry of the data answers, whatever the entity.
NEVER_KNOWN: Final = frozenset({"fees", "travel", "registration", "offtopic"})
SMALL_TALK_MAX_CONTENT: Final = 3
TOPIC_SETTINGS: Final = "settings"  # a subscribe question about lead times or quiet hours
# Words that end in "zeit" without asking when reminders come.
_NOT_LEAD_WORDS: Final = frozenset({"jederzeit", "zeit"})
FAQ_MIN_SCORE: Final = 0.75


@dataclass(frozen=True, slots=True)
class Understanding:
    """What a message asks: intent, entity ids, aspects, and the events it refers to."""

    intent: str
    entities: tuple[str, ...]
    aspects: frozenset[str]
    mentions: Mentions
    topic: str = ""
    events: tuple[str, ...] = ()
    event_mode: str = ""  # card, list, upcoming, past, none


def _event_matches_place(event: Event, places: set[str], networks: tuple[str, ...]) -> int:
    if event.city and fold(event.city) in places:
        return 2
    if (event.region and fold(event.region) in places) or any(
        slug in networks for slug in event.host_networks
    ):
        return 1
    return 0


def _select_events(
    m: Mentions, catalog: Catalog, now: datetime, tz: ZoneInfo
) -> tuple[str, list[Event]]:
    """Return how to show events (card, list, upcoming, past, none) and which ones."""
    events = list(catalog.events)
    specific = False
    if m.ordinals:
        events = [e for e in events if e.number in m.ordinals]
        specific = True
    if m.title_events:
        events = [e for e in events if e.id in m.title_events]
        specific = True
    if m.dates:
        # A date asks what happens on that day; without a year, the coming one counts first.
        events = [e for e in events if any(_on_day(e, day) for day in m.dates)]
        upcoming = [e for e in events if e.is_upcoming(now, tz)]
        if upcoming and not any(year for _d, _m, year in m.dates):
            events = upcoming
        return (
            ("card", events[:1])
            if len(events) == 1
            else (("list", events) if events else ("none", []))
        )
    places = set(m.places)
    for slug in m.networks:
        network = catalog.network(slug)
        if network is not None:
            places.update({fold(network.city), fold(network.region)})
    place_score: dict[str, int] = {}
    if places or m.networks:
        place_score = {e.id: _event_matches_place(e, places, m.networks) for e in events}
        events = [e for e in events if place_score[e.id] > 0]
        specific = True
    dated = False
    if m.years:
        events = [
            e
            for e in events
            if (e.date is not None and e.date.year in m.years)
            or (e.date is None and any(str(y) in (e.date_text or "") for y in m.years))
        ]
        dated = True
    if m.months:
        events = [e for e in events if e.date is not None and e.date.month in m.months]
        dated = True
    wants_next = m.has("next") and not (m.has("past") and not m.concept_words.get("next"))
    wants_past = m.has("past") and not wants_next
    if wants_next:
        timed = [e for e in events if e.is_upcoming(now, tz)]
    elif wants_past:
        timed = [e for e in events if not e.is_upcoming(now, tz)]
    else:
        timed = events
    if timed or not specific:
        events = timed
    wants_list = m.has("list") or m.plural_event
    if not specific:
        # "In welcher Stadt war das vorletzte Treffen?" asks for one meeting, "welcher" or not.
        if wants_past and any(w.startswith("vorletzt") for w in m.words):
            # "das vorletzte Treffen": the second-latest network meeting with a known day.
            held = sorted(
                (
                    e
                    for e in catalog.events
                    if e.kind == "network_meeting"
                    and e.date is not None
                    and not e.is_upcoming(now, tz)
                ),
                key=lambda e: e.date or now.date(),
            )
            return ("card", [held[-2]]) if len(held) > 1 else ("past", [])
        if wants_list or dated:
            if dated and len(events) == 1:
                return "card", events  # "das Treffen im Dezember 2014": the one there was
            if dated:
                return "list", sorted(events, key=lambda e: (e.begins_at(tz) or now, e.id))
            return ("past", []) if wants_past else ("upcoming", [])
        if m.has("after_next"):
            upcoming_events = catalog.upcoming_events(now)
            if len(upcoming_events) > 1:
                return "card", [upcoming_events[1]]
            return "upcoming", []
        if wants_past:
            latest = catalog.latest_meeting(now)
            return ("card", [latest]) if latest else ("past", [])
        coming = catalog.next_event(now)
        return ("card", [coming]) if coming else ("upcoming", [])
    if not events:
        return "none", []
    if len(events) == 1:
        return "card", events
    if wants_list and not (m.ordinals or m.title_events):
        return "list", sorted(events, key=lambda e: (e.begins_at(tz) or now, e.id))

    def rank(event: Event) -> tuple[int, int, float]:
        upcoming = event.is_upcoming(now, tz)
        begins = event.begins_at(tz)
        stamp = begins.timestamp() if begins else 0.0
        # Upcoming events: the earliest first; past ones: the latest first.
        order = -stamp if upcoming else stamp
        return (
            place_score.get(event.id, 0) + (event.kind == "network_meeting"),
            upcoming and not wants_past,
            order,
        )

    return "card", sorted(events, key=rank, reverse=True)[:1]


def _on_day(event: Event, day: tuple[int, int, int | None]) -> bool:
    """Tell whether an event takes place on a (day, month, optional year)."""
    if event.date is None:
        return False
    number, month, year = day
    return (
        event.date.day == number
        and event.date.month == month
        and (year is None or event.date.year == year)
    )


def _stems(text: str) -> set[str]:
    return {stem(t.folded) for t in tokenize(text) if len(t.folded) > 3}


def _faq_score(m: Mentions, question: str) -> float:
    words = _stems(question)
    if not words:
        return 0.0
    said = {stem(w) for w in m.words}
    return len(words & said) / len(words)


def best_faq(m: Mentions, catalog: Catalog, *, need: str = "") -> tuple[str, float]:
    """Return the id and score of the alliance FAQ entry that matches best."""
    best = ("", 0.0)
    for entry in catalog.faq:
        if entry.about_bot:
            continue
        if need and need not in _stems(entry.question):
            continue
        score = _faq_score(m, entry.question)
        if score > best[1]:
            best = (entry.id, score)
    return best


def _funding_topic(m: Mentions, aspects: frozenset[str], catalog: Catalog) -> str:
    programme = catalog.funding.programme if catalog.funding else None
    if "money" in aspects:
        return "money"
    if "deadline" in aspects:
        deadline = programme.application_deadline_2014 if programme else None
        if deadline is not None and deadline.year in m.years:
            return "deadline_past"
        return "deadline"
    if "jury" in aspects:
        # The data gives the jury's size and choice, never who sat on it.
        return "jury_who" if m.has("who") else "jury"
    asks_networks = any(w in {"netzwerke", "netzwerken"} for w in m.words)
    if ("regions" in aspects or asks_networks) and not m.lines and not m.has("who"):
        return "regions"
    if m.lines:
        return "line"
    if m.has("who") or (m.has("funding") and not m.programme):
        return "who" if not m.programme else "programme"
    return "programme" if m.programme else "summary"


def _alliance_topic(m: Mentions, aspects: frozenset[str]) -> str:
    for topic in ("coordinator", "motto", "agreement", "figures", "website", "leader"):
        if topic in aspects:
            return topic
    if "count" in aspects and m.has("network"):
        return "count"
    if "founded" in aspects:
        return "founded"
    if "principles" in aspects:
        return "principles"
    return "what"


def classify(
    text: str,
    catalog: Catalog,
    now: datetime | None = None,
    tz: ZoneInfo = DATA_TIMEZONE,
) -> Understanding:
    """Understand a message: its intent, the entities it is about and what it asks."""
    now = now or datetime.now(UTC)
    m = extract(text, catalog)
    aspects = frozenset(m.concepts & ASPECTS)
    if "members" in aspects and {"werden", "wird", "werde"} & set(m.words):
        aspects = (aspects - {"members"}) | {"join"}  # "Mitglied werden" asks how to join

    def result(intent: str, entities: tuple[str, ...] = (), **kw: object) -> Understanding:
        return Understanding(intent, entities, aspects, m, **kw)  # type: ignore[arg-type]

    if not m.words:
        return result("thanks" if _APPROVAL.search(text) else "unknown")
    if m.has("account"):
        return result("account_recovery")
    if _asks_reminder_settings(m):
        return result("subscribe", m.networks, topic=TOPIC_SETTINGS)
    if _asks_to_stop(m):
        return result("unsubscribe", m.networks, topic=TOPIC_WISH if _is_wish(m) else "")
    if m.has("subscribe", "weekly"):
        return result("subscribe", m.networks + _subscribe_events(m, catalog, now, tz))
    named = bool(
        m.people
        or m.lines
        or m.programme
        or m.initiative
        or m.alliance
        or m.title_events
        or m.ordinals
        or m.dates
        or m.named_network
    )
    if _place_follow_up(m):
        # "gilt das auch für Ulm?": a follow-up whose only clear part is a place; the
        # network there is the helpful default.
        return result("network_info", m.networks[:1])
    if (
        m.has("offtopic")
        and not m.has("event")
        and not (m.concepts & DOMAIN and named)
        and not (m.people or m.lines or m.title_events)
    ) or (
        not named and (m.unknown_words and (m.places or m.networks) and not m.concepts & DOMAIN)
    ):
        # "ein Restaurant in Heilbronn", "das Wetter in Konstanz": off-topic, whatever place.
        return result("unknown", topic=TOPIC_OFFTOPIC)
    if m.has("complaint") or (m.has("stop_words") and _HELPED & set(m.words)):
        return result("help", topic=TOPIC_SORRY)
    if not (named or m.places or m.networks or m.years) and _is_follow_up(m, aspects):
        if aspects & NETWORK_ASPECTS and not m.has("event"):
            return result("network_info", topic=TOPIC_ASK_NETWORK)
        intent = "past_event" if m.has("past") else "event_info"
        return result(intent, topic=TOPIC_ASK_EVENT)
    if m.people:
        intent = "unknown" if aspects & (NEVER_KNOWN | {"contact"}) else "person_info"
        return result(intent, m.people)
    no_entity = not (m.networks or m.programme or m.initiative or m.alliance or m.lines)
    if m.has("who") and m.concept_words.get("fees") and no_entity and not m.has("event"):
        return result("funding_info", topic="who")  # "Wer bezahlt das alles?"
    if (m.years and no_entity and m.has("past") and not m.has("network", "founded")) or (
        m.has("hosts") and (m.places or m.networks) and not m.named_network
    ):
        m = replace(m, concepts=m.concepts | {"event"})
    if (
        m.has("event")
        or (aspects & _EVENT_ONLY_ASPECTS and m.places and not m.networks)
        or m.ordinals
        or m.dates
        or m.title_events
        or (m.months and no_entity and not _asks_for_networks(m))
        or (m.has("after_next") and no_entity)
    ):
        if not (m.ordinals or m.dates or m.title_events):
            hit = _data_sentence(m, catalog)
            if hit is not None and hit.document.kind == "network_fact":
                # "Stammtisch" or "Auftaktveranstaltung" of a network: its facts say it.
                return result("network_info", (hit.document.target,), topic=TOPIC_FACT)
            if hit is not None and (event := catalog.event(hit.document.target)) is not None:
                m = replace(m, title_events=frozenset({event.id}))
        mode, events = _select_events(m, catalog, now, tz)
        ids = tuple(e.id for e in events)
        if mode == "none":
            return result("unknown", ids, event_mode=mode)
        if mode == "card":
            event = events[0]
            if _event_unknown(event, aspects, catalog):
                return result("unknown", ids, events=ids, event_mode=mode)
            intent = "past_event" if event.is_past(now, tz) else "event_info"
            if not (m.ordinals or m.title_events or m.places or m.networks or m.years):
                intent = "past_event" if event.is_past(now, tz) else "next_event"
            return result(intent, ids, events=ids, event_mode=mode)
        if mode == "past":
            return result("past_event", event_mode=mode)
        if mode == "upcoming":
            return result("next_event", event_mode=mode)
        intent = "next_event" if all(e.is_upcoming(now, tz) for e in events) else "past_event"
        return result(intent, ids, events=ids, event_mode=mode)
    if aspects & {"offtopic"} and not (m.networks or m.programme or m.initiative):
        return result("unknown")
    funding_words = m.has("funding") or bool(aspects & {"deadline", "jury"})
    if m.programme or (funding_words and not m.networks):
        topic = _funding_topic(m, aspects, catalog)
        never = topic in {"money", "jury_who"} or bool(aspects & NEVER_KNOWN)
        intent = "unknown" if never else "funding_info"
        return result(intent, m.lines, topic=topic)
    if m.networks:
        if len(m.networks) > 1:
            return result("network_list", m.networks, topic="some")
        slug = m.networks[0]
        network = catalog.network(slug)
        unknown = bool(aspects & (NEVER_KNOWN | {"money", "join"}))
        if network is not None and "contact" in aspects and not network.contact:
            unknown = True
        if (
            network is not None
            and "members" in aspects
            and "count" in aspects
            and not _member_facts(network.facts)
        ):
            unknown = True
        if network is not None and "leader" in aspects and not network.led_by:
            unknown = True
        if network is not None and "founded" in aspects and not _founding_facts(network.facts):
            unknown = True  # "Wann wurde das Netzwerk in Reutlingen gegründet?"
        if "name" in aspects and "members" in aspects:
            unknown = True  # members are never listed by name
        return result("unknown" if unknown else "network_info", m.networks)
    plural = any(w in {"netzwerke", "netzwerken", "netze"} for w in m.words)
    if aspects & {"principles", "agreement", "motto", "coordinator"} and not m.initiative:
        # "Nach welchen Grundsätzen arbeiten die Netzwerke im Bündnis zusammen?"
        return result("alliance_info", topic=_alliance_topic(m, aspects))
    if "join" in aspects and (m.has("network") or m.alliance):
        return result("unknown", topic="join")
    if m.has("network") and "count" in aspects:
        return result("alliance_info", topic="count")
    if m.has("network") and "name" in aspects and (plural or m.has("list")) and _negated(m):
        # "Bei welchen Netzwerken ist der offizielle Name nicht bekannt?": a filter over
        # the data's own flag, not the whole list.
        unnamed = tuple(n.slug for n in catalog.networks if n.name_is_placeholder)
        if unnamed:
            return result("network_list", unnamed, topic="some")
    if m.has("network") and (m.has("list") or plural or "new" in aspects):
        if "new" in aspects:
            faq_id, _score = best_faq(m, catalog, need="neu")
            if faq_id:
                return result("network_list", topic="faq:" + faq_id)
        if "partners" in aspects:
            return result("network_list", topic="partners")
        return result("network_list", topic="all")
    if m.initiative:
        if "leader" in aspects and catalog.initiative and catalog.initiative.head:
            return result("person_info", (catalog.initiative.head,), topic="head")
        if "partners" in aspects:
            return result("network_list", topic="partners")
        if "coordinator" in aspects:
            return result("alliance_info", topic="coordinator")
        if aspects & (NEVER_KNOWN | {"contact", "money"}):
            return result("unknown", topic="initiative")
        if "figures" in aspects or ("count" in aspects and m.has("figures")):
            return result("alliance_info", topic="figures")
        return result("alliance_info", topic="initiative")
    if m.alliance or aspects & {"coordinator", "motto", "agreement", "figures"}:
        if aspects & (NEVER_KNOWN | {"contact"}):
            return result("unknown", topic="alliance")
        if (
            m.alliance
            and (m.has("who") or "members" in aspects)
            and not aspects - {"members", "name"}
        ):
            return result("network_list", topic="all")
        return result("alliance_info", topic=_alliance_topic(m, aspects))
    if (m.has("next") or "when" in aspects) and 0 < m.content_words <= SMALL_TALK_MAX_CONTENT:
        upcoming = catalog.next_event(now)
        ids = (upcoming.id,) if upcoming else ()
        return result("next_event", ids, events=ids, event_mode="card" if ids else "upcoming")
    if m.has("help"):
        return result("help")
    small = m.content_words <= SMALL_TALK_MAX_CONTENT
    if m.has("thanks") and small:
        return result("thanks")
    if m.has("greeting") and small:
        return result("greeting")
    faq_id, score = best_faq(m, catalog)
    if faq_id and score >= FAQ_MIN_SCORE:
        return result("alliance_info", topic="faq:" + faq_id)
    if m.has("network"):
        return result("unknown", topic="network")
    return result("unknown")


TOPIC_WISH: Final = "wish"
TOPIC_FACT: Final = "fact"  # answered by one of a network's facts
TOPIC_OFFTOPIC: Final = "offtopic"
TOPIC_SORRY: Final = "sorry"
TOPIC_ASK_EVENT: Final = "ask_event"
TOPIC_ASK_NETWORK: Final = "ask_network"
_APPROVAL: Final = re.compile("[\U0001f44d\U0001f44c\U0001f64f\u2764\U0001f60a\U0001f642\u263a]")
_HELPED: Final = frozenset({"geholfen", "weitergeholfen", "hilfreich", "weiter"})
# Concepts that make a message about the alliance's world even when it names a city.
DOMAIN: Final = frozenset(
    [
        "event",
        "network",
        "alliance",
        "initiative",
        "funding",
        "programme_name",
        "coordinator",
        "partners",
        "agreement",
        "motto",
        "principles",
        "figures",
        "founded",
        "speakers",
        "programme",
        "outcomes",
        "website",
        "leader",
        "name",
        "members",
        "contact",
        "registration",
        "deadline",
        "subscribe",
        "unsubscribe",
        "weekly",
        "account",
        "join",
        "jury",
        "hosts",
        "news",
        "attendance",
    ]
)
EVENT_ASPECTS: Final = frozenset(
    {"where", "time", "when", "speakers", "programme", "outcomes", "hosts"}
)
NETWORK_ASPECTS: Final = frozenset({"website", "members", "leader", "contact"})
_FACTS: Final = frozenset({"network_fact"})
_PROGRAMME: Final = frozenset({"programme"})
# What only a meeting has: asked about a place where meetings were ("Welche Themen gab es in
# Fellbach?", "die Referentin in Neckarsulm"), they ask about that meeting.
_EVENT_ONLY_ASPECTS: Final = frozenset({"programme", "speakers", "outcomes"})
_FOLLOW_UP_START: Final = frozenset({"und", "un", "aber", "auch"})
_POINTERS: Final = frozenset({"da", "dort", "das", "die", "davor", "danach", "dabei", "denn"})
_WISH_QUESTION: Final = frozenset(
    {"wie", "wo", "was", "kann", "koennen", "muss", "darf", "geht", "gibt", "gibts", "welche"}
)
_ASKING_YOU: Final = frozenset(
    {"kannst", "koennen", "koennten", "koenntest", "wuerden", "wuerdest"}
)


def _asks_for_networks(m: Mentions) -> bool:
    """Tell whether networks are what is asked for ("Welche Netzwerke kamen 2014 dazu?")."""
    plural = any(w in {"netzwerke", "netzwerken", "netze"} for w in m.words)
    return plural and m.has("list") and not m.has("event")


def _data_sentence(m: Mentions, catalog: Catalog) -> Hit | None:
    """Return the network fact or programme item a meeting question is really about.

    A network's fact counts only for a network the message names; a programme item needs
    two words in common ("Impulsvortrag zur Cluster-Politik"), as one is often chance.
    """
    if m.networks:
        return best_document(
            m.words, catalog, kinds=_FACTS, targets=frozenset(m.networks[:1]), min_shared=1
        )
    return best_document(m.words, catalog, kinds=_PROGRAMME, min_shared=2)


def _place_follow_up(m: Mentions) -> bool:
    """Tell whether a short message only carries a place on from an earlier question."""
    return (
        len(m.networks) == 1
        and not m.named_network
        and len(m.words) <= 6
        and m.content_words <= 3
        and not m.concepts - {"what", "list"}
        and "auch" in m.words
        and bool(set(m.words) & _POINTERS)
    )


def _negated(m: Mentions) -> bool:
    """Tell whether a message negates what it asks about ("nicht bekannt", "unbekannt")."""
    return m.has("stop_words") or any(w.startswith(("unbekannt", "ohne")) for w in m.words)


def _asks_to_stop(m: Mentions) -> bool:
    """Tell whether a message is about stopping reminders or news (a wish or how to)."""
    words = set(m.words)
    return bool(
        m.has("unsubscribe")
        or ("auf" in words and words & {"hoer", "hoert", "hoeren", "hoere", "hoerts"})
        or (m.has("stop_words") and m.has("more") and m.has("send", "subscribe"))
        or (m.has("off_verb") and words & {"ab", "aus"} and m.has("subscribe", "send"))
        or (m.has("off_verb") and "ab" in words and "mich" in words)
        or (
            m.has("subscribe")
            and "aus" in words
            and not (m.places or m.networks)
            and not m.has("next", "event")
        )
    )


def _is_wish(m: Mentions) -> bool:
    """Tell a clear wish ("Bitte melden Sie mich ab") from a how-to ("Wie melde ich mich ab?")."""
    first = m.words[0]
    if "bitte" in m.words:
        return True
    if first in _ASKING_YOU and any(w in {"sie", "du", "ihr"} for w in m.words[1:3]):
        return True
    return first not in _WISH_QUESTION and first not in _ASKING_YOU


def _is_follow_up(m: Mentions, aspects: frozenset[str]) -> bool:
    """Tell whether a short message only makes sense after an earlier one ("und wo genau?")."""
    if m.content_words > 4 or len(m.words) > 8:
        return False
    starts = m.words[0] in _FOLLOW_UP_START
    points = any(w in _POINTERS for w in m.words)
    asks = bool(aspects & (EVENT_ASPECTS | NETWORK_ASPECTS))
    return (starts and (asks or points)) or (points and asks and not m.has("event", "network"))


def _asks_reminder_settings(m: Mentions) -> bool:
    """Tell whether a message asks when reminders come (lead times, quiet hours)."""
    about_messages = m.has("subscribe", "unsubscribe", "send")
    if m.has("quiet_hours") or (m.has("quiet") and (about_messages or m.has("stop_words"))):
        return True
    lead_words = [w for w in m.concept_words.get("lead_time", ()) if w not in _NOT_LEAD_WORDS]
    return bool(lead_words) and m.has("subscribe")


def _subscribe_events(
    m: Mentions, catalog: Catalog, now: datetime, tz: ZoneInfo
) -> tuple[str, ...]:
    """Return the ids of the single events a subscribe request names ("das Sommertreffen")."""
    if m.ordinals or m.title_events:
        events = [
            e
            for e in catalog.events
            if (not m.ordinals or e.number in m.ordinals)
            and (not m.title_events or e.id in m.title_events)
        ]
        return tuple(e.id for e in events[:3])
    upcoming = catalog.upcoming_events(now)
    if m.has("event") and m.has("next", "after_next"):
        index = 1 if m.has("after_next") else 0
        return (upcoming[index].id,) if len(upcoming) > index else ()
    if m.has("event") and (m.places or m.networks):
        # "das Treffen in Ulm": the upcoming meetings at that place or of that network.
        places = set(m.places)
        for slug in m.networks:
            if (network := catalog.network(slug)) is not None:
                places.add(fold(network.city))
        return tuple(
            e.id
            for e in upcoming
            if (e.city and fold(e.city) in places) or set(e.host_networks) & set(m.networks)
        )[:3]
    return ()


def _founding_facts(facts: tuple[str, ...]) -> list[str]:
    """Return the facts that say when a network was founded or started."""
    return [
        f
        for f in facts
        if any(w in fold(f) for w in ("gegruendet", "gruendung", "auftakt"))
        and any(c.isdigit() for c in f)
    ]


def _member_facts(facts: tuple[str, ...]) -> list[str]:
    """Return the facts that state a member count."""
    return [f for f in facts if "mitglied" in fold(f) and any(c.isdigit() for c in f)]


def member_facts(facts: tuple[str, ...]) -> list[str]:
    """Return the facts that state a member count."""
    return _member_facts(facts)


def _event_unknown(event: Event, aspects: frozenset[str], catalog: Catalog) -> bool:
    if aspects & (NEVER_KNOWN | {"contact", "money"}):
        return True
    if "attendance" in aspects and "count" in aspects:
        return True
    if "hosts" in aspects and not event.hosts:
        return True
    if "speakers" in aspects and "programme" not in aspects:
        has_speaker = any(p.speaker for p in event.programme)
        return not (has_speaker or event.speakers_note)
    return False
