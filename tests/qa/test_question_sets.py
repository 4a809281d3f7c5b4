"""The answerer on the public dev set and on the private paraphrase set, at two clocks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import pytest

from bot.domain.qa.intents import classify
from bot.qa_eval import score
from tests.qa.helpers import (
    CLOCKS,
    DEV_SET,
    DEV_SET_2,
    HELDOUT_SET,
    PARAPHRASED_SET,
    context,
    load_items,
)

if TYPE_CHECKING:
    from pathlib import Path

MIN_PASS_RATE: Final = 0.95
# The second public set (long messages, typos, paraphrases, off-topic, wishes, follow-ups):
# the target is 0.97; every item passes today, and the bar stays at the target so
# that a data change may cost an item without failing the suite.
MIN_PASS_RATES: Final[dict[str, float]] = {
    "questions-dev-2.toml": 0.97,
    "questions_heldout.toml": 0.95,
}
# Both modes: before the subscriptions feature is switched on (honest "not yet" answers)
# and with it (one-tap buttons, /abo, /erinnerungen, /stopp).
FEATURE_SETS: Final = (frozenset(), frozenset({"subscriptions"}))
# Items that may fail, each with a reason; the aim is to keep these empty.
ALLOWED_FAILURES: Final[dict[str, frozenset[str]]] = {
    "questions-dev.toml": frozenset(),
    "questions_paraphrased.toml": frozenset(),
    "questions-dev-2.toml": frozenset(),
    # A synonym the data does not use: "Eröffnungsveranstaltung" for its "Auftaktveranstaltung".
    "questions_heldout.toml": frozenset({"h023"}),
}


def _evaluate(path: Path, features: frozenset[str]) -> None:
    if not path.is_file():
        pytest.skip(f"question set not found: {path}")
    items = load_items(path)
    for now in CLOCKS:
        result = score(items, context(now, features))
        failures = {m.id: m.problems for m in result.misses}
        assert not result.invented, f"invented facts at {now}: {result.invented}"
        assert not result.unescaped, f"unescaped echoes at {now}: {result.unescaped}"
        bar = MIN_PASS_RATES.get(path.name, MIN_PASS_RATE)
        assert result.rate >= bar, failures
        unexpected = set(failures) - ALLOWED_FAILURES[path.name]
        assert not unexpected, {k: failures[k] for k in unexpected}


@pytest.mark.parametrize("features", FEATURE_SETS, ids=["base", "subscriptions"])
def test_dev_set(features: frozenset[str]) -> None:
    """At least 95% of the dev set pass, only allowed items fail, no invented facts."""
    _evaluate(DEV_SET, features)


@pytest.mark.parametrize("features", FEATURE_SETS, ids=["base", "subscriptions"])
def test_dev_set_2(features: frozenset[str]) -> None:
    """The second public set: its must_not_contain also counts cards that do not answer."""
    _evaluate(DEV_SET_2, features)


@pytest.mark.parametrize("features", FEATURE_SETS, ids=["base", "subscriptions"])
def test_paraphrased_set(features: frozenset[str]) -> None:
    """The private paraphrase set passes as well: the guard against overfitting."""
    _evaluate(PARAPHRASED_SET, features)


@pytest.mark.parametrize("features", FEATURE_SETS, ids=["base", "subscriptions"])
def test_heldout_set(features: frozenset[str]) -> None:
    """The messages written after the fixes and scored once (README: held-out)."""
    _evaluate(HELDOUT_SET, features)


@pytest.mark.parametrize("path", [DEV_SET, PARAPHRASED_SET], ids=lambda p: p.name)
def test_intents(path: Path) -> None:
    """classify() finds the expected intent for (nearly) every item."""
    if not path.is_file():
        pytest.skip(f"question set not found: {path}")
    items = load_items(path)
    ctx = context()
    wrong = {
        i["id"]: (classify(i["text"], ctx.catalog, ctx.now).intent, i["intent"])
        for i in items
        if classify(i["text"], ctx.catalog, ctx.now).intent != i["intent"]
    }
    assert len(wrong) <= len(items) * (1 - MIN_PASS_RATE), wrong
