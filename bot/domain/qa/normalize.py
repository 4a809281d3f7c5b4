"""Turn a member's message into tokens: tags and entities removed, case and umlauts folded.

Members type "naechste" and "nächste", "Loerrach" and "Lörrach", HTML as text and emoji;
all of these end up as the same folded tokens. The original spelling of every token is
kept, because abbreviations such as "HN" count only when written in capitals.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import snowballstemmer

MAX_INPUT: Final = 2400  # characters looked at; the question is usually at the end
HEAD_KEEP: Final = 600

_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,200}>")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss"})
_STEMMER = snowballstemmer.stemmer("german")


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Fold text for comparison: lower case, ä → ae, ß → ss, other accents dropped."""
    text = text.casefold().translate(_FOLD)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=16384)
def stem(word: str) -> str:
    """Return the German stem of a folded word."""
    return str(_STEMMER.stemWord(word))


def clean(text: str) -> str:
    """Remove typed HTML tags and entities and shorten very long messages."""
    if len(text) > MAX_INPUT:
        text = text[:HEAD_KEEP] + " … " + text[-(MAX_INPUT - HEAD_KEEP) :]
    text = html.unescape(_TAG.sub(" ", text))
    return _TAG.sub(" ", text)


@dataclass(frozen=True, slots=True)
class Token:
    """One word of the message: as typed, folded, and its start offset in the clean text."""

    raw: str
    folded: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """Split clean text into word tokens (letters and digits); emoji and marks vanish."""
    tokens = []
    for match in _WORD.finditer(text):
        folded = fold(match.group())
        folded = "".join(c for c in folded if c.isalnum())
        if folded:
            tokens.append(Token(match.group(), folded, match.start(), match.end()))
    return tokens
