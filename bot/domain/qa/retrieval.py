"""Find the sentence of the data a question is about, by the words they share.

Names are matched by the index in ``entities``; this module matches everything else the
data says in sentences: the networks' facts ("Veranstaltet regelmäßig das Treffen „IT After
Work“") and the titles of the meetings' programme items ("Impulsvortrag zur Cluster-Politik
des Landes"). Each such text is a document; a question's content words (stems) are scored
against every document with their inverse document frequency, so a rare shared word
("Auftaktveranstaltung", "Impulsvortrag") counts much, a common one ("Treffen") little.
Nothing is learned beyond these counts, which come from the data itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, is_dataclass
from typing import TYPE_CHECKING, Final

from bot.domain.qa.lexicon import STOPWORDS
from bot.domain.qa.normalize import fold, stem, tokenize

if TYPE_CHECKING:
    from collections.abc import Iterable

    from bot.domain.models import Catalog

MIN_WORD: Final = 4
# The least score of a hit: about one word found in one document only (log 2 = 0.7 at the
# smallest; the data's documents number about 100, a rare word scores about 4).
MIN_SCORE: Final = 3.0


@dataclass(frozen=True, slots=True)
class Document:
    """One text of the data: a network's fact or a programme item's title."""

    kind: str  # "network_fact" or "programme"
    target: str  # the network's slug or the event's id
    stems: frozenset[str]


@dataclass(frozen=True, slots=True)
class Hit:
    """The best document for a question, and how well it matched."""

    document: Document
    score: float
    shared: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Library:
    documents: tuple[Document, ...]
    idf: dict[str, float]


def content_stems(words: Iterable[str], ignore: frozenset[str] = frozenset()) -> frozenset[str]:
    """Return the stems of the words that carry content (no stopwords, no short words)."""
    return frozenset(
        stem(w)
        for w in words
        if len(w) >= MIN_WORD and w.isalpha() and w not in STOPWORDS and w not in ignore
    )


def _stems_of(text: str) -> frozenset[str]:
    return content_stems(t.folded for t in tokenize(text))


def _texts(value: object) -> Iterable[str]:
    """Yield every string inside a model value (dataclasses, tuples, mappings)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple | list | frozenset | set):
        for item in value:
            yield from _texts(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            yield from _texts(getattr(value, f.name))


def _names(catalog: Catalog) -> frozenset[str]:
    """Return the stems of every name in the data: the name index finds those, not this."""
    names: list[str] = []
    for network in catalog.networks:
        names += [network.name, network.short_name, network.city, network.region]
        names += list(network.aliases)
    names += [p.name for p in catalog.people.values()]
    names += [e.city or "" for e in catalog.events] + [e.region or "" for e in catalog.events]
    for part in (catalog.initiative, catalog.alliance):
        if part is not None:
            names += [part.name, getattr(part, "full_name", "")]
    programme = catalog.funding.programme if catalog.funding else None
    if programme is not None:
        names += [programme.name, programme.short_name or ""]
        names += [line.name for line in programme.lines]
    return _stems_of(" ".join(names))


def _build(catalog: Catalog) -> _Library:
    names = _names(catalog)
    documents: list[Document] = []
    for network in catalog.networks:
        documents.extend(
            Document("network_fact", network.slug, _stems_of(fact) - names)
            for fact in network.facts
        )
    for event in catalog.events:
        documents.extend(
            Document("programme", event.id, _stems_of(item.title) - names)
            for item in event.programme
        )
    # How rare a word is, counted over every text of the data; a compound counts for its
    # last part too ("Netzwerktreffen" for "Treffen"), so a common word scores low.
    corpus = [_stems_of(text) for text in _texts(catalog) if len(text) > MIN_WORD]
    count = len(corpus) or 1
    idf: dict[str, float] = {}
    for document in documents:
        for word in document.stems:
            if word not in idf:
                n = sum(1 for text in corpus if any(w.endswith(word) for w in text))
                idf[word] = math.log(1 + count / max(n, 1))
    return _Library(tuple(d for d in documents if d.stems), idf)


_LIBRARIES: dict[int, tuple[Catalog, _Library]] = {}


def _library(catalog: Catalog) -> _Library:
    cached = _LIBRARIES.get(id(catalog))
    if cached is not None and cached[0] is catalog:
        return cached[1]
    library = _build(catalog)
    if len(_LIBRARIES) > 16:
        _LIBRARIES.clear()
    _LIBRARIES[id(catalog)] = (catalog, library)
    return library


def best_document(
    words: Iterable[str],
    catalog: Catalog,
    *,
    kinds: frozenset[str],
    targets: frozenset[str] | None = None,
    min_shared: int = 1,
) -> Hit | None:
    """Return the document of these kinds (and targets) that shares the most with the words.

    ``min_shared`` is how many different words must be shared; the score must reach
    ``MIN_SCORE`` as well. Ties go to the first document in the data's order.
    """
    library = _library(catalog)
    question = content_stems(fold(w) for w in words)
    best: Hit | None = None
    for document in library.documents:
        if document.kind not in kinds or (targets is not None and document.target not in targets):
            continue
        shared = question & document.stems
        if len(shared) < min_shared:
            continue
        score = sum(library.idf[w] for w in shared)
        if score >= MIN_SCORE and (best is None or score > best.score):
            best = Hit(document, score, frozenset(shared))
    return best
