"""CPU time of answering one message: 4,000-character messages next to short questions.

Each call is ``answer_question(text, ctx)``, everything the bot does with a free-text message
before sending (understanding: the question sentence, dates, entities, intent; then the
answer rendered from the data), timed with ``time.process_time`` around the one call. The
long messages are built from realistic sentences: greetings, context about the writer's
company, side remarks with cities, numbers and dates, then a question at the end, as members
write them; each is cut to exactly 4,000 characters and differs from the others. The
baseline, in the same run and process, is the same questions on their own (short messages).
Target: p99 under 20 ms of CPU for a 4,000-character message.

Run: ``python -m bench.answer_time`` (about half a minute; ``--n`` messages of each kind).
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from bot.i18n import translator
from bot.views.answers import answer_question
from bot.views.common import RenderContext
from storage.importer import bundled_catalog

BERLIN: Final = ZoneInfo("Europe/Berlin")
LENGTH: Final = 4000
QUESTIONS: Final = (
    "Wann und wo ist das nächste Treffen?",
    "Wer leitet eigentlich das Netzwerk in Ulm?",
    "Was macht cyberLAGO genau?",
    "Wie viele Netzwerke gehören zum Bündnis?",
    "Wer finanziert das Ganze?",
    "Wo war das vierte Treffen und was stand auf dem Programm?",
    "Können Sie mich bitte von allen Erinnerungen abmelden?",
    "Gibt es in Karlsruhe ein Netzwerk, und wie erreiche ich es?",
    "Was wurde beim Treffen am 24.6. besprochen?",
    "Welche Förderlinie gibt es und bis wann läuft sie?",
    "Wie melde ich mich für Erinnerungen an?",
    "Gibt es einen guten Italiener in der Nähe vom Veranstaltungsort?",
)
CONTEXT: Final = (
    "Guten Tag zusammen,",
    "ich hoffe, es geht Ihnen gut und Sie hatten einen guten Start in die Woche.",
    "Mein Name ist Petra Schäfer, ich arbeite bei einem mittelständischen Softwarehaus.",
    "Wir sind ein Unternehmen mit rund 120 Mitarbeitern und sitzen seit 1998 in Heilbronn.",
    "Ich komme ursprünglich aus Ulm, wohne aber inzwischen in Stuttgart.",
    "Letztes Jahr waren wir schon einmal auf einer Veranstaltung in Freiburg, am 3.12.2025.",
    "Unsere Azubis sind im zweiten Lehrjahr und interessieren sich sehr für IT-Sicherheit.",
    "Ein Kollege meinte, es gäbe mehr als 1.000 Mitglieder in den Netzwerken.",
    "Waren es nicht mal 12 Netzwerke? Jetzt habe ich irgendwo 13 gelesen.",
    "Ansprechpartner brauche ich erst einmal nicht, die habe ich schon.",
    "Wir beschäftigen uns vor allem mit Cloud-Lösungen, Datenschutz und Digitalisierung.",
    "Das Wetter am Bodensee war übrigens herrlich, als wir zuletzt dort waren.",
    "Unser Geschäftsführer hat mich gebeten, mich ein wenig umzuhören.",
    "Die Anfahrt mit der Bahn ist für uns meistens einfacher als mit dem Auto.",
    "Vielleicht können wir uns ja auch als Gastgeber einbringen, das wäre spannend.",
    "Wir haben auch schon mit der Hochschule in Konstanz zusammengearbeitet.",
    "Im Frühjahr planen wir außerdem einen Tag der offenen Tür für Schülerinnen und Schüler.",
    "Ehrlich gesagt blicke ich bei den ganzen Angeboten noch nicht ganz durch.",
    "Ich habe auf der Webseite schon gesucht, aber nichts Passendes gefunden.",
    "Vielen Dank schon einmal für Ihre Mühe!",
)


def long_message(rng: random.Random, question: str) -> str:
    """Return a message of exactly LENGTH characters: context sentences, then the question."""
    tail = " Deshalb meine eigentliche Frage: " + question + " Viele Grüße"
    parts: list[str] = []
    size = 0
    while size < LENGTH - len(tail):
        sentence = rng.choice(CONTEXT)
        parts.append(sentence)
        size += len(sentence) + 1
    body = " ".join(parts)[: LENGTH - len(tail)].rstrip()
    return (body + tail).ljust(LENGTH, ".")[:LENGTH]


def cpu_times(texts: list[str], ctx: RenderContext) -> list[float]:
    """Return the CPU seconds of answering each text, one call at a time."""
    times = []
    for text in texts:
        start = time.process_time()
        answer_question(text, ctx)
        times.append(time.process_time() - start)
    return times


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def main() -> None:
    """Measure both kinds, interleaved in rounds, and print a table row for the README."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000, help="messages of each kind")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    now = datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN)
    ctx = RenderContext(
        bundled_catalog(include_demo=True), translator(), BERLIN, now, frozenset({"subscriptions"})
    )
    questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(args.n)]
    longs = [long_message(rng, q) for q in questions]
    assert all(len(t) == LENGTH for t in longs)
    cpu_times(questions[:50] + longs[:50], ctx)  # warm-up: caches, imports, lazy data
    gc.collect()
    short_times: list[float] = []
    long_times: list[float] = []
    rounds = 10
    step = args.n // rounds
    for r in range(rounds):  # interleaved, so a busy moment of the machine hits both kinds
        part = slice(r * step, (r + 1) * step)
        short_times += cpu_times(questions[part], ctx)
        long_times += cpu_times(longs[part], ctx)
    rows = []
    for name, values in (("short (one question)", short_times), ("4,000 characters", long_times)):
        rows.append(
            (
                name,
                statistics.median(values) * 1000,
                percentile(values, 0.99) * 1000,
                max(values) * 1000,
            )
        )
    print("| message | messages | p50 CPU | p99 CPU | max CPU |")
    print("|---|---|---|---|---|")
    for name, p50, p99, top in rows:
        print(f"| {name} | {args.n:,} | {p50:.2f} ms | {p99:.2f} ms | {top:.2f} ms |")
    print(
        f"ratio long / short: p50 {rows[1][1] / rows[0][1]:.2f}x, "
        f"p99 {rows[1][2] / rows[0][2]:.2f}x; target: long p99 < 20 ms "
        f"({'met' if rows[1][2] < 20 else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
