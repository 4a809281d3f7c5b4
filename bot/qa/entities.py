"""Find what a message is about: networks, people, events, funding lines, and cue words.

Names come from the data, never from a hand-written list: each network's name, short
name, city, region and aliases; people's names; event cities, regions and title words;
the funding programme and its lines. Abbreviations written in capitals ("HN", "KA",
"M/IT") match only as tokens written in capitals; every other name matches
case-insensitively as whole words, so "um" is never "Ulm". Typos are corrected against
the vocabulary of the data and of the cue lexicon with rapidfuzz, before any matching.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Final

from rapidfuzz import fuzz, process

from bot.qa.lexicon import (
    CONCEPTS,
    EXTRA_VOCABULARY,
    GENERIC_TITLE_WORDS,
    MONTHS,
    ORDINAL_ENDINGS,
    ORDINALS,
    SEASON_SYNONYMS,
    STOPWORDS,
)
from bot.qa.normalize import Token, clean, fold, stem, tokenize

if TYPE_CHECKING:
    from collections.abc import Iterable

    from storage.models import Catalog

FUZZY_MIN_LENGTH: Final = 5
FUZZY_CUTOFF: Final = 82.0
TITLE_KEY_MIN: Final = 5
_DIGIT_ORDINAL = re.compile(r"^(\d{1,2})(te|ten|ter|tes|tem|stes|ste|sten)?$")
_YEAR = re.compile(r"^(19|20)\d\d$")
# Event words whose form is plural, and articles that make "Treffen" plural.
_PLURAL_EVENT_WORDS: Final = frozenset(
    {"termine", "terminen", "veranstaltungen", "sitzungen", "meetings", "events", "konferenzen"}
)
_PLURAL_ARTICLES: Final = frozenset({"die", "den", "alle", "welche", "diese", "bisherigen"})


@dataclass(frozen=True, slots=True)
class _Concept:
    stems: frozenset[str]
    suffix_stems: tuple[str, ...]
    prefixes: tuple[str, ...]


def _compile_concept(entries: Iterable[str]) -> _Concept:
    stems: set[str] = set()
    suffixes: list[str] = []
    prefixes: list[str] = []
    for entry in entries:
        word = fold(entry.strip("*"))
        if entry.endswith("*"):
            prefixes.append(word)
        elif entry.startswith("*"):
            suffixes.append(stem(word))
            stems.add(stem(word))
        else:
            stems.add(stem(word))
    return _Concept(frozenset(stems), tuple(suffixes), tuple(prefixes))


_CONCEPTS: Final = {name: _compile_concept(entries) for name, entries in CONCEPTS.items()}
_CUE_STEMS: Final = frozenset(s for c in _CONCEPTS.values() for s in c.stems)


@lru_cache(maxsize=16384)
def concepts_of(word: str) -> frozenset[str]:
    """Return the lexicon concepts a folded word expresses."""
    word_stem = stem(word)
    found = set()
    for name, concept in _CONCEPTS.items():
        if (
            word_stem in concept.stems
            or any(word_stem.endswith(s) for s in concept.suffix_stems)
            or word.startswith(concept.prefixes)
        ):
            found.add(name)
    return frozenset(found)


def ordinal_of(word: str) -> int | None:
    """Return the number of an ordinal word such as "vierten" or "fuenfte"."""
    for base, number in ORDINALS.items():
        if word.startswith(base) and word[len(base) :] in ORDINAL_ENDINGS:
            return number
    return None


def _is_caps_abbreviation(alias: str) -> bool:
    letters = [c for c in alias if c.isalpha()]
    return 0 < len(letters) <= 4 and all(c.isupper() for c in letters)


@dataclass(frozen=True, slots=True)
class _Key:
    kind: str  # network, person, line, programme, initiative, alliance, place
    target: str


@dataclass
class Index:
    """Everything from one catalog that matching needs, computed once per catalog."""

    compact_keys: dict[str, set[_Key]] = field(default_factory=dict)
    caps_keys: dict[tuple[str, ...], set[_Key]] = field(default_factory=dict)
    title_keys: dict[str, set[str]] = field(default_factory=dict)  # prefix → event ids
    vocabulary: set[str] = field(default_factory=set)
    vocabulary_list: list[str] = field(default_factory=list)
    corrections: dict[str, str] = field(default_factory=dict)

    def add(self, text: str, key: _Key, *, caps_rule: bool = True) -> None:
        """Register a name that points to ``key``."""
        if caps_rule and _is_caps_abbreviation(text):
            raw = tuple(t.raw.upper() for t in tokenize(text))
            if raw:
                self.caps_keys.setdefault(raw, set()).add(key)
            return
        words = [t.folded for t in tokenize(text)]
        compact = "".join(words)
        if len(compact) < 3:
            return
        self.compact_keys.setdefault(compact, set()).add(key)
        self.vocabulary.update(w for w in words if len(w) >= FUZZY_MIN_LENGTH)

    def correct(self, word: str) -> str:
        """Return the vocabulary word a typo stands for, or the word itself."""
        if (
            len(word) < FUZZY_MIN_LENGTH
            or word in self.vocabulary
            or word in STOPWORDS
            or not word.isalpha()
            or stem(word) in _CUE_STEMS
        ):
            return word
        cached = self.corrections.get(word)
        if cached is not None:
            return cached
        best = process.extractOne(
            word, self.vocabulary_list, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF
        )
        result = best[0] if best is not None else word
        if len(self.corrections) < 20000:
            self.corrections[word] = result
        return result


def _title_keys(title: str) -> set[str]:
    keys = set()
    for token in tokenize(title):
        word = token.folded
        if word in GENERIC_TITLE_WORDS or word.isdigit():
            continue
        for cue in ("treffen", "sitzung", "konferenz"):
            head = word.removesuffix(cue).removesuffix("s")
            if head != word and len(head) >= TITLE_KEY_MIN:
                keys.add(head)
        if len(word) >= TITLE_KEY_MIN:
            keys.add(word[:-1] if word.endswith("e") and len(word) > 8 else word)
    return keys


def build_index(catalog: Catalog) -> Index:
    """Build the matching index for a catalog."""
    index = Index()
    for network in catalog.networks:
        key = _Key("network", network.slug)
        for name in (network.name, network.short_name, network.city, network.region):
            index.add(name, key)
        for alias in network.aliases:
            index.add(alias, key)
    for person in catalog.people.values():
        key = _Key("person", person.id)
        index.add(person.name, key)
        for part in person.name.split():
            if len(part) >= 4:
                index.add(part, key)
    for event in catalog.events:
        for place in (event.city, event.region):
            if place:
                place_key = _Key("place", fold(place))
                index.add(place, place_key, caps_rule=False)
                first = place.split()[0]
                if first != place and len(first) >= 4:
                    index.add(first, place_key, caps_rule=False)
        for title_key in _title_keys(event.title):
            index.title_keys.setdefault(title_key, set()).add(event.id)
            index.vocabulary.add(title_key)
        index.vocabulary.update(
            t.folded for t in tokenize(event.title) if len(t.folded) >= FUZZY_MIN_LENGTH
        )
    for synonym, target in SEASON_SYNONYMS.items():
        for title_key, ids in list(index.title_keys.items()):
            if title_key.startswith(target):
                index.title_keys.setdefault(synonym, set()).update(ids)
    if catalog.initiative is not None:
        key = _Key("initiative", "initiative")
        index.add(catalog.initiative.name, key)
        words = catalog.initiative.name.split()
        if len(words) > 1:
            index.add(" ".join(words[:-1]) + " " + words[-1].removesuffix("IT"), key)
    if catalog.alliance is not None:
        index.add(catalog.alliance.name, _Key("alliance", "alliance"))
        index.add(catalog.alliance.full_name, _Key("alliance", "alliance"))
    programme = catalog.funding.programme if catalog.funding else None
    if programme is not None:
        key = _Key("programme", "programme")
        words = programme.name.split()
        for n in range(2, len(words) + 1):
            index.add(" ".join(words[:n]), key)
        if programme.short_name:
            index.add(programme.short_name, key, caps_rule=False)
        for line in programme.lines:
            line_key = _Key("line", line.id)
            index.add(line.name, line_key)
            index.add(line.id.replace("-", " "), line_key, caps_rule=False)
    for entries in CONCEPTS.values():
        # Prefix entries ("abonnier*") are not words: a typo must not be "corrected" to one.
        index.vocabulary.update(
            fold(e.lstrip("*"))
            for e in entries
            if not e.endswith("*") and len(e.lstrip("*")) >= FUZZY_MIN_LENGTH
        )
    index.vocabulary.update(EXTRA_VOCABULARY)
    index.vocabulary.update(MONTHS)
    index.vocabulary.update(ORDINALS)
    index.vocabulary_list = sorted(index.vocabulary)
    return index


_INDEXES: dict[int, tuple[Catalog, Index]] = {}


def index_for(catalog: Catalog) -> Index:
    """Return the (cached) index of a catalog."""
    cached = _INDEXES.get(id(catalog))
    if cached is not None and cached[0] is catalog:
        return cached[1]
    index = build_index(catalog)
    if len(_INDEXES) > 16:
        _INDEXES.clear()
    _INDEXES[id(catalog)] = (catalog, index)
    return index


@dataclass(frozen=True, slots=True)
class Mentions:
    """What a message mentions, in the order it mentions it."""

    words: tuple[str, ...]
    concepts: frozenset[str]
    networks: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()
    places: frozenset[str] = frozenset()
    title_events: frozenset[str] = frozenset()
    title_words: tuple[str, ...] = ()
    ordinals: tuple[int, ...] = ()
    years: tuple[int, ...] = ()
    months: tuple[int, ...] = ()
    initiative: bool = False
    alliance: bool = False
    programme: bool = False
    plural_event: bool = False
    content_words: int = 0
    concept_words: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def has(self, *names: str) -> bool:
        """Tell whether any of these concepts occurs."""
        return any(n in self.concepts for n in names)


def _find_compact(index: Index, tokens: list[Token]) -> list[tuple[int, _Key]]:
    compact = ""
    starts: dict[int, int] = {}
    ends: set[int] = set()
    for position, token in enumerate(tokens):
        starts[len(compact)] = position
        compact += token.folded
        ends.add(len(compact))
    found: list[tuple[int, _Key]] = []
    for key_text, keys in index.compact_keys.items():
        at = compact.find(key_text)
        while at >= 0:
            if at in starts and at + len(key_text) in ends:
                found.extend((starts[at], k) for k in keys)
            at = compact.find(key_text, at + 1)
    for raw_key, keys in index.caps_keys.items():
        width = len(raw_key)
        for position in range(len(tokens) - width + 1):
            window = tokens[position : position + width]
            if all(
                t.raw.isupper() and t.raw == part for t, part in zip(window, raw_key, strict=True)
            ):
                found.extend((position, k) for k in keys)
    found.sort(key=lambda item: item[0])
    return found


def _digit_ordinal(tokens: list[Token], position: int, text: str) -> int | None:
    token = tokens[position]
    match = _DIGIT_ORDINAL.match(token.folded)
    if match is None:
        return None
    number = int(match.group(1))
    if not 0 < number <= 30:
        return None
    following = tokens[position + 1].folded if position + 1 < len(tokens) else ""
    if following in MONTHS:
        return None
    if match.group(2):
        return number
    if text[token.end : token.end + 1] == "." or "event" in concepts_of(following):
        return number
    return None


def extract(text: str, catalog: Catalog) -> Mentions:
    """Find the entities and cue concepts in a message."""
    index = index_for(catalog)
    cleaned = clean(text)
    raw_tokens = tokenize(cleaned)
    tokens = [
        Token(t.raw, index.correct(t.folded), t.start, t.end) if t.folded.isalpha() else t
        for t in raw_tokens
    ]
    words = tuple(t.folded for t in tokens)
    concepts: set[str] = set()
    concept_words: dict[str, list[str]] = {}
    content = 0
    ordinals: list[int] = []
    years: list[int] = []
    months: list[int] = []
    title_events: set[str] = set()
    title_words: list[str] = []
    for position, word in enumerate(words):
        found = concepts_of(word)
        concepts.update(found)
        for name in found:
            concept_words.setdefault(name, []).append(word)
        if word not in STOPWORDS and not found & {"greeting", "thanks"}:
            content += 1
        number = ordinal_of(word) if word.isalpha() else _digit_ordinal(tokens, position, cleaned)
        if number is not None:
            ordinals.append(number)
        if _YEAR.match(word):
            years.append(int(word))
        if word in MONTHS:
            months.append(MONTHS[word])
        for title_key, ids in index.title_keys.items():
            if word.startswith(title_key):
                title_events.update(ids)
                title_words.append(title_key)
    plural_event = any(
        w in _PLURAL_EVENT_WORDS
        or (
            w.endswith("treffen")
            and any(prev in _PLURAL_ARTICLES for prev in words[max(0, i - 3) : i])
        )
        for i, w in enumerate(words)
    )
    networks: list[str] = []
    people: list[str] = []
    lines: list[str] = []
    places: set[str] = set()
    flags = {"initiative": False, "alliance": False, "programme": False}
    for _position, key in _find_compact(index, tokens):
        if key.kind == "network" and key.target not in networks:
            networks.append(key.target)
        elif key.kind == "person" and key.target not in people:
            people.append(key.target)
        elif key.kind == "line" and key.target not in lines:
            lines.append(key.target)
        elif key.kind == "place":
            places.add(key.target)
        elif key.kind in flags:
            flags[key.kind] = True
    if "programme_name" in concepts:
        flags["programme"] = True
    return Mentions(
        words=words,
        concepts=frozenset(concepts),
        networks=tuple(networks),
        people=tuple(people),
        lines=tuple(lines),
        places=frozenset(places),
        title_events=frozenset(title_events),
        title_words=tuple(title_words),
        ordinals=tuple(ordinals),
        years=tuple(years),
        months=tuple(months),
        initiative=flags["initiative"],
        alliance=flags["alliance"] or "alliance" in concepts,
        programme=flags["programme"] or bool(lines),
        plural_event=plural_event,
        content_words=content,
        concept_words={k: tuple(v) for k, v in concept_words.items()},
    )
