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
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Final

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from bot.domain.qa.lexicon import (
    CONCEPTS,
    EXTRA_VOCABULARY,
    GENERIC_TITLE_WORDS,
    MONTHS,
    ORDINAL_ENDINGS,
    ORDINALS,
    SEASON_SYNONYMS,
    STOPWORDS,
)
from bot.domain.qa.normalize import Token, clean, fold, stem, tokenize

if TYPE_CHECKING:
    from collections.abc import Iterable

    from bot.domain.models import Catalog

FUZZY_MIN_LENGTH: Final = 5
FUZZY_CUTOFF: Final = 82.0
FUZZY_PREFIX_MIN: Final = 8  # shorter cue prefixes ("foerder*") are too close to other words
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
    if not found and len(word) >= FUZZY_PREFIX_MIN:
        # A misspelt form of a cue given as a prefix ("finanzirt" for "finanzier*"): one
        # letter wrong, missing or extra in the prefix, never the first letter.
        for name, concept in _CONCEPTS.items():
            for prefix in concept.prefixes:
                if len(prefix) >= FUZZY_PREFIX_MIN and word[0] == prefix[0]:
                    n = len(prefix)
                    heads = {word[: n - 1], word[:n], word[: n + 1]}
                    if any(Levenshtein.distance(h, prefix) <= 1 for h in heads):
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
    venue_events: dict[str, set[str]] = field(default_factory=dict)  # venue key → event ids

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
        # Members rarely mistype a word's first letter, while an ordinary word missing from
        # the vocabulary ("gehalten", "überhaupt") is often close to one that differs
        # there ("erhalten", "Oberhaupt"): such a word stays as it is.
        result = word
        if best is not None and (best[0][0] == word[0] or word.endswith(best[0])):
            result = best[0]  # the same first letter, or a prefixed form ("bezahlt")
        if len(self.corrections) < 20000:
            self.corrections[word] = result
        return result


_VENUE_PREFIX: Final = re.compile(
    r"^(?:R(?:ä|ae)umlichkeiten|Geb(?:ä|ae)ude|Sitz)\s+(?:der|des|von)\s+"
)
_PARENTHESES: Final = re.compile(r"\(([^()]{2,12})\)")


def _add_venue(index: Index, venue: str, event_id: str) -> None:
    """Register a venue's name ("Bechtle AG", "Goldbach Interactive AG") for its meeting."""
    name = _VENUE_PREFIX.sub("", venue).strip()
    key = _Key("venue", fold(name))
    index.venue_events.setdefault(key.target, set()).add(event_id)
    for abbreviation in _PARENTHESES.findall(name):
        index.add(abbreviation, key)
    name = _PARENTHESES.sub(" ", name).strip()
    index.add(name, key, caps_rule=False)
    words = [t.folded for t in tokenize(name)]
    first = words[0] if words else ""
    if len(first) >= 6 and first not in STOPWORDS:
        index.add(first, key, caps_rule=False)


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
        # A network named by its city or region ("in Heilbronn") may be a side remark
        # ("ein Restaurant in Heilbronn"); named by its own name it is what is asked about.
        place_key = _Key("network_place", network.slug)
        for name in (network.name, network.short_name):
            index.add(name, key)
        for name in (network.city, network.region):
            index.add(name, place_key)
        own_words = {t.folded for t in tokenize(network.name + " " + network.short_name)}
        own_words = {w for w in own_words if len(w) >= 4 and w not in {fold(network.city)}}
        for alias in network.aliases:
            shares = {t.folded for t in tokenize(alias)} & own_words
            index.add(alias, key if shares or _is_caps_abbreviation(alias) else place_key)
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
                parts = place.split()
                for part in {parts[0], parts[-1]}:
                    if part != place and len(part) >= 4:
                        index.add(part, place_key, caps_rule=False)
        if event.venue:
            _add_venue(index, event.venue, event.id)
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
    dates: tuple[tuple[int, int, int | None], ...] = ()  # (day, month, year or None)
    self_places: frozenset[str] = frozenset()  # where the writer comes from, not asked about
    named_network: bool = False  # a network named by its name, not only by its city
    unknown_words: tuple[str, ...] = ()  # words neither in the data nor in the lexicon
    initiative: bool = False
    alliance: bool = False
    programme: bool = False
    plural_event: bool = False
    content_words: int = 0
    concept_words: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def has(self, *names: str) -> bool:
        """Tell whether any of these concepts occurs."""
        return any(n in self.concepts for n in names)


def _find_compact(
    index: Index, tokens: list[Token], covered: set[int] | None = None
) -> list[tuple[int, _Key]]:
    compact = ""
    starts: dict[int, int] = {}
    ends: dict[int, int] = {}
    for position, token in enumerate(tokens):
        starts[len(compact)] = position
        compact += token.folded
        ends[len(compact)] = position
    found: list[tuple[int, _Key]] = []
    for key_text, keys in index.compact_keys.items():
        at = compact.find(key_text)
        while at >= 0:
            if at in starts and at + len(key_text) in ends:
                found.extend((starts[at], k) for k in keys)
                if covered is not None:
                    covered.update(range(starts[at], ends[at + len(key_text)] + 1))
            at = compact.find(key_text, at + 1)
    for raw_key, keys in index.caps_keys.items():
        width = len(raw_key)
        for position in range(len(tokens) - width + 1):
            window = tokens[position : position + width]
            if all(
                t.raw.isupper() and t.raw == part for t, part in zip(window, raw_key, strict=True)
            ):
                found.extend((position, k) for k in keys)
                if covered is not None:
                    covered.update(range(position, position + width))
    found.sort(key=lambda item: item[0])
    return found


_ORDINAL_ARTICLES: Final = frozenset(
    {"das", "dem", "den", "der", "des", "beim", "im", "zum", "vom", "am", "vor", "nach", "ab"}
)


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
    # A number is a meeting's number only next to a meeting word ("3. Treffen", "4te
    # Treffen", "6. Netzwerktreffen"): "12 Netzwerke", "3 Kollegen", "25 Mitarbeitende" and
    # "mehr als 1.000" count something else.
    if not _event_word_follows(tokens, position):
        return None
    if match.group(2) or text[token.end : token.end + 1] == ".":
        return number
    # "das 5 Treffen" is a meeting's number typed without its dot; "es gab schon 7
    # Netzwerktreffen" counts them: without the dot, only an article before it makes it one.
    before = tokens[position - 1].folded if position > 0 else ""
    if before not in _ORDINAL_ARTICLES:
        return None
    return number if "event" in concepts_of(following) else None


def _event_word_follows(tokens: list[Token], position: int, reach: int = 3) -> bool:
    """Tell whether a meeting word follows within ``reach`` tokens."""
    return any(
        "event" in concepts_of(t.folded) for t in tokens[position + 1 : position + 1 + reach]
    )


def extract(text: str, catalog: Catalog) -> Mentions:
    """Find what a message asks about: the question's sentences first, the rest as context.

    A long message carries greetings and context ("ich komme aus Ulm", "wir sind 5
    Entwickler") before its question. Cue words count only in the question sentences;
    entities come from them too, and from the nearest context sentence only when the
    question names none of its own ("Was steht dort auf dem Programm?").
    """
    cleaned = clean(text)
    sentences = split_sentences(cleaned)
    if len(sentences) < 2:
        return _extract_clean(cleaned, catalog)
    parts = [_extract_clean(s, catalog) for s in sentences]
    for i, sentence in enumerate(sentences):
        clause = None if _is_question(sentence, parts[i]) else _indirect_question(sentence)
        if clause is not None:
            # "Die Geschäftsführung fragt, seit wann es den Verein gibt": the clause asks.
            sentences[i], parts[i] = clause, _extract_clean(clause, catalog)
    questions = [i for i, s in enumerate(sentences) if _is_question(s, parts[i])]
    if not questions or len(questions) == len(sentences):
        whole = _extract_clean(cleaned, catalog)
        return _merge_questions([whole]) if not questions else whole
    focus = _merge_questions([parts[i] for i in questions])
    if focus.has("account") or (
        focus.has("help") and not focus.concepts - _QUESTION_ONLY - {"help", "greeting"}
    ):
        # "Was kann ich dich fragen?", "Wie komme ich an ein neues Kennwort?": nothing of the
        # context (a meeting, a network it mentions) changes what the answer is.
        return focus
    if not focus.concepts - _QUESTION_ONLY:
        # "Was muss ich tun, um wieder reinzukommen?" asks about the context's topic
        # ("Ich komme nicht mehr in mein Konto"): the question takes that topic.
        topics = {c for part in parts for c in part.concepts if c in _CONTEXT_TOPICS}
        if topics:
            return replace(focus, concepts=focus.concepts | topics)
    if (
        not focus.has("event", "network")
        and not _has_entities(focus)
        and any(parts[i].has("event") for i in range(len(parts)))
    ):
        # "... bei so einem Treffen vorbeischauen. Wann und wo ist denn das nächste?"
        focus = replace(focus, concepts=focus.concepts | {"event"})
    if _has_entities(focus) or (focus.has("next") and not _refers_back(focus)):
        return focus
    before = [i for i in range(questions[0] - 1, -1, -1) if i not in questions]
    after = [i for i in range(questions[0] + 1, len(parts)) if i not in questions]
    for i in before + after:
        if _has_entities(parts[i]) and not _only_self(parts[i], focus):
            return _borrow(focus, parts[i])
    return focus


# A context topic that a question without a topic of its own is about ("Frage" in the
# context says nothing: every message is one).
_CONTEXT_TOPICS: Final = frozenset({"account"})
# Concepts that only say that something is asked, not what about.
_QUESTION_ONLY: Final = frozenset(
    {"what", "who", "list", "when", "where", "current", "off_verb", "past", "next", "more"}
)
_SENTENCE_BREAK: Final = re.compile(r"(?<=[?!])\s+|(?<=[^\W\d_][.])\s+|\n+")
_QUESTION_START: Final = frozenset(
    [
        "wer",
        "wie",
        "wann",
        "wo",
        "was",
        "welche",
        "welcher",
        "welches",
        "welchen",
        "welchem",
        "wieso",
        "warum",
        "weshalb",
        "woher",
        "wohin",
        "worueber",
        "wofuer",
        "womit",
        "wozu",
        "gibt",
        "gibts",
        "kann",
        "kannst",
        "koennen",
        "koennten",
        "koenntest",
        "koenntet",
        "ist",
        "sind",
        "hat",
        "haben",
        "hast",
        "habt",
        "weiss",
        "weisst",
        "findet",
        "wird",
        "werden",
    ]
)
# Words by which a question points back to what the message said before.
_BACK_REFERENCES: Final = frozenset(
    [
        "da",
        "dort",
        "dabei",
        "dazu",
        "darueber",
        "daran",
        "dafuer",
        "davon",
        "hier",
        "uns",
        "mir",
        "mich",
        "unsere",
        "unserer",
        "unserem",
        "unseren",
        "unser",
        "stadt",
        "gegend",
        "deren",
        "dessen",
        "diese",
        "dieser",
        "dieses",
        "diesem",
        "diesen",
        "sie",
        "es",
        "das",
    ]
)
# Words by which a question points back to where the writer is ("bei uns", "hier").
_SELF_REFERENCES: Final = frozenset(
    [
        "uns",
        "mir",
        "mich",
        "hier",
        "stadt",
        "gegend",
        "naehe",
        "da",
        "dort",
        "unsere",
        "unserer",
        "unserem",
        "unseren",
        "unser",
        "umgebung",
    ]
)
_SELF_WORDS: Final = frozenset(
    [
        "komme",
        "kommen",
        "bin",
        "sind",
        "sitze",
        "sitzen",
        "sitzt",
        "arbeite",
        "arbeiten",
        "wohne",
        "wohnen",
        "gezogen",
        "gruesse",
        "gruss",
    ]
)
# The writer's company ("ich bin von der Firma Muster GmbH aus Ulm") says where the writer is
# only in a sentence where the writer speaks of themselves ("Gibt es eine Firma in Ulm?" asks).
_COMPANY_WORDS: Final = frozenset(["firma", "gmbh", "unternehmen", "betrieb", "agentur"])
_FIRST_PERSON: Final = frozenset(["ich", "wir", "mein", "meine", "meiner", "unser", "unsere"])


def split_sentences(cleaned: str) -> list[str]:
    """Split a message into sentences; "3. Treffen", "18.3." and "connect.IT" stay whole."""
    return [s for s in (p.strip() for p in _SENTENCE_BREAK.split(cleaned)) if s]


_INDIRECT: Final = re.compile(
    r"^(?P<head>.*?),\s*(?P<clause>(?:seit\s+)?(?:wann|wo|wer|wie|was|welche[mnrs]?|ob)\b.*)$",
    re.IGNORECASE | re.DOTALL,
)
# Verbs that introduce an indirect question ("fragt, ob", "wüsste gern, wann").
_ASKING_VERBS: Final = ("frag", "wiss", "wuesst", "interessier", "klaer", "erfahr")


def _indirect_question(sentence: str) -> str | None:
    """Return the asking clause of an indirect question as a question, or None."""
    match = _INDIRECT.match(sentence)
    if match is None:
        return None
    head = [t.folded for t in tokenize(match.group("head"))]
    if not any(w.startswith(_ASKING_VERBS) for w in head):
        return None
    return match.group("clause").rstrip(" .!") + "?"


def _is_question(sentence: str, m: Mentions) -> bool:
    """Tell whether a sentence asks or requests something (rather than tell context)."""
    if not m.words:
        return False
    if "?" in sentence[-4:] or "bitte" in m.words:
        return True
    return m.words[0] in _QUESTION_START and not m.has("thanks", "greeting")


def _has_entities(m: Mentions) -> bool:
    return bool(
        m.networks
        or m.people
        or m.lines
        or (m.places - m.self_places)
        or m.title_events
        or m.ordinals
        or m.dates
        or m.initiative
        or m.alliance
        or m.programme
    )


def _refers_back(m: Mentions) -> bool:
    return any(w in _BACK_REFERENCES for w in m.words)


def _only_self(context: Mentions, focus: Mentions) -> bool:
    """Tell whether a context sentence only says where the writer is, and is not asked about."""
    return (
        bool(context.self_places)
        and not any(w in _SELF_REFERENCES for w in focus.words)
        and not (context.networks or context.title_events or context.initiative)
    )


def _with_self(m: Mentions) -> Mentions:
    """Count where the writer is as a mention (the question asks about "bei uns")."""
    if not m.self_places:
        return m
    networks = list(m.networks)
    places = set(m.places)
    for target in m.self_places:
        if target.startswith("network:"):
            slug = target.removeprefix("network:")
            if slug not in networks:
                networks.append(slug)
        else:
            places.add(target)
    return replace(m, networks=tuple(networks), places=frozenset(places), self_places=frozenset())


def _merge_questions(parts: list[Mentions]) -> Mentions:
    """Join the mentions of several question sentences into one."""
    first = parts[0]
    if len(parts) == 1:
        return first

    def joined(name: str) -> tuple[object, ...]:
        seen: list[object] = []
        for part in parts:
            seen.extend(v for v in getattr(part, name) if v not in seen)
        return tuple(seen)

    concept_words: dict[str, tuple[str, ...]] = {}
    for part in parts:
        for key, words in part.concept_words.items():
            concept_words[key] = concept_words.get(key, ()) + words
    return replace(
        first,
        words=tuple(w for p in parts for w in p.words),
        concepts=frozenset().union(*(p.concepts for p in parts)),
        networks=joined("networks"),  # type: ignore[arg-type]
        people=joined("people"),  # type: ignore[arg-type]
        lines=joined("lines"),  # type: ignore[arg-type]
        places=frozenset().union(*(p.places for p in parts)),
        self_places=frozenset().union(*(p.self_places for p in parts)),
        title_events=frozenset().union(*(p.title_events for p in parts)),
        title_words=joined("title_words"),  # type: ignore[arg-type]
        ordinals=joined("ordinals"),  # type: ignore[arg-type]
        years=joined("years"),  # type: ignore[arg-type]
        months=joined("months"),  # type: ignore[arg-type]
        dates=joined("dates"),  # type: ignore[arg-type]
        named_network=any(p.named_network for p in parts),
        unknown_words=joined("unknown_words"),  # type: ignore[arg-type]
        initiative=any(p.initiative for p in parts),
        alliance=any(p.alliance for p in parts),
        programme=any(p.programme for p in parts),
        plural_event=any(p.plural_event for p in parts),
        content_words=sum(p.content_words for p in parts),
        concept_words=concept_words,
    )


def _borrow(focus: Mentions, context: Mentions) -> Mentions:
    """Give a question the entities of the context sentence it refers to."""
    concepts = set(focus.concepts)
    if context.has("event") and (
        context.title_events or context.ordinals or context.places or context.years
    ):
        concepts.add("event")
    if any(w in _SELF_REFERENCES for w in focus.words):
        context = _with_self(context)
    return replace(
        focus,
        concepts=frozenset(concepts),
        networks=context.networks,
        people=context.people,
        lines=context.lines,
        places=context.places,
        self_places=frozenset(),
        title_events=context.title_events,
        title_words=context.title_words,
        ordinals=context.ordinals,
        years=focus.years or context.years,
        months=focus.months or context.months,
        dates=context.dates,
        named_network=context.named_network,
        initiative=context.initiative,
        alliance=context.alliance,
        programme=context.programme,
    )


_NUMERIC_DATE: Final = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2}(?!\d))?(?![\d])")


def _find_dates(
    cleaned: str, tokens: list[Token]
) -> tuple[list[tuple[int, int, int | None]], set[int]]:
    """Return the dates in a message and the token positions they cover.

    Dates are read before any number is taken for a meeting's number: "am 24.6." asks
    about a day, not about the 24th meeting, and "3. Dezember 2014" is a day as well.
    """
    dates: list[tuple[int, int, int | None]] = []
    covered: set[int] = set()
    for match in _NUMERIC_DATE.finditer(cleaned):
        day, month = int(match.group(1)), int(match.group(2))
        year_text = match.group(3)
        if not (1 <= day <= 31 and 1 <= month <= 12):
            continue
        year = None
        if year_text:
            year = int(year_text) if len(year_text) == 4 else 2000 + int(year_text)
        dates.append((day, month, year))
        covered.update(i for i, t in enumerate(tokens) if match.start() <= t.start < match.end())
    for i, token in enumerate(tokens[:-1]):
        following = tokens[i + 1].folded
        if token.folded.isdigit() and following in MONTHS and 1 <= int(token.folded) <= 31:
            year = None
            if i + 2 < len(tokens) and _YEAR.match(tokens[i + 2].folded):
                year = int(tokens[i + 2].folded)
            dates.append((int(token.folded), MONTHS[following], year))
            covered.add(i)
    return dates, covered


def _self_positions(tokens: list[Token], position: int) -> bool:
    """Tell whether a place at ``position`` says where the writer is ("wir sitzen in Ulm")."""
    before = [t.folded for t in tokens[max(0, position - 6) : position]]
    if not before or before[-1] not in {"aus", "in", "von", "bei", "nach"}:
        return False
    if any(w in _SELF_WORDS for w in before):
        return True
    return any(w in _COMPANY_WORDS for w in before) and any(
        t.folded in _FIRST_PERSON for t in tokens[:position]
    )


def _extract_clean(cleaned: str, catalog: Catalog) -> Mentions:
    """Find the entities and cue concepts in one piece of cleaned text."""
    index = index_for(catalog)
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
    dates, date_tokens = _find_dates(cleaned, tokens)
    for position, word in enumerate(words):
        found = concepts_of(word)
        concepts.update(found)
        for name in found:
            concept_words.setdefault(name, []).append(word)
        if word not in STOPWORDS and not found & {"greeting", "thanks"}:
            content += 1
        if position in date_tokens:
            number = None
        elif word.isalpha():
            number = ordinal_of(word)
            # "im zweiten Lehrjahr" is no meeting; "beim dritten Treffen" and a bare "und
            # das dritte?" at the end of a message are.
            if number is not None and not (
                _event_word_follows(tokens, position) or position >= len(tokens) - 2
            ):
                number = None
        else:
            number = _digit_ordinal(tokens, position, cleaned)
        if number is not None:
            ordinals.append(number)
        if _YEAR.match(word):
            years.append(int(word))
        if word in MONTHS and position - 1 not in date_tokens:
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
    self_places: set[str] = set()
    flags = {"initiative": False, "alliance": False, "programme": False}
    covered: set[int] = set()
    named_network = False
    for position, key in _find_compact(index, tokens, covered):
        if key.kind == "network_place":
            key = _Key("network", key.target)
        elif key.kind == "network":
            named_network = True
        if key.kind in {"network", "place"} and _self_positions(tokens, position):
            if key.kind == "place":
                self_places.add(key.target)
            else:
                self_places.add("network:" + key.target)
            continue
        if key.kind == "venue":
            title_events.update(index.venue_events.get(key.target, ()))
            continue
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
    if "initiative" in concepts and not networks:
        flags["initiative"] = True  # "die Landesinitiative", "diese Initiative": there is one
    refers_to_self = any(w in _SELF_REFERENCES for w in words)
    unknown_words = tuple(
        w
        for i, w in enumerate(words)
        if i not in covered
        and w.isalpha()
        and len(w) >= 3
        and w not in STOPWORDS
        and w not in index.vocabulary
        and not concepts_of(w)
    )
    found_mentions = Mentions(
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
        dates=tuple(dates),
        self_places=frozenset(self_places),
        named_network=named_network,
        unknown_words=unknown_words,
        initiative=flags["initiative"],
        alliance=flags["alliance"] or "alliance" in concepts,
        programme=flags["programme"] or bool(lines),
        plural_event=plural_event,
        content_words=content,
        concept_words={k: tuple(v) for k, v in concept_words.items()},
    )
    return _with_self(found_mentions) if refers_to_self else found_mentions
