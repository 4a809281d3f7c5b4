"""``netzwerkbot ask|eval|unanswered``: the question answering from the shell.

``ask "…"`` prints the bot's answer to one message (text, then the button labels in
brackets) without Telegram, for an operator checking a data change; ``eval FILE.toml``
scores a question set in the public sets' format and prints the misses, so the alliance can
keep a set of its own; ``unanswered [--days N]`` prints the messages the bot could not
answer (kept 30 days, text only).

``ask`` and ``eval`` answer from the data in the database (the bundled data when the
database is new or empty; nothing is written then) or, with ``--bundled``, from the bundled
data with its demo meetings, which the public question sets are written against.
"""

from __future__ import annotations

import sys
import tomllib
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

from babel.dates import format_datetime
from babel.numbers import format_percent

from bot.domain.account import FEATURE_ACCOUNT
from bot.domain.parse import parse_date_time
from bot.i18n import translator
from bot.qa_eval import QuestionSetError, load_items, plain, score
from bot.views.answers import answer_question
from bot.views.common import RenderContext

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from bot.config import Settings
    from bot.domain.models import Catalog

COMMANDS: Final = ("ask", "eval", "unanswered")
FEATURES: Final = frozenset({"subscriptions", FEATURE_ACCOUNT})
EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
PREVIEW: Final = 100  # characters of a missed message shown by eval


def add_parsers(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``ask``, ``eval`` and ``unanswered`` to the ``netzwerkbot`` command line."""
    _ = translator().gettext
    ask = subparsers.add_parser(
        "ask", help=_("print the bot's answer to one message, without Telegram")
    )
    ask.add_argument("message", help=_("the message, as a member would write it"))
    evaluate = subparsers.add_parser(
        "eval", help=_("score a question set (TOML, as the public sets) and print the misses")
    )
    evaluate.add_argument("file", type=Path, help=_("the question set, a TOML file"))
    evaluate.add_argument(
        "--min",
        type=float,
        metavar="RATE",
        help=_("exit with code 1 when fewer than this share are right, e.g. 0.95"),
    )
    for parser in (ask, evaluate):
        parser.add_argument(
            "--bundled",
            action="store_true",
            help=_("answer from the bundled data with its demo meetings, not the database"),
        )
        parser.add_argument(
            "--now", help=_('answer as at this local time, e.g. "10.03.2027 10:00"')
        )
    unanswered = subparsers.add_parser(
        "unanswered", help=_("print the messages the bot could not answer")
    )
    unanswered.add_argument(
        "--days",
        type=int,
        default=30,
        help=_("only those of the last N days (at most 30, the default)"),
    )


async def run(
    args: argparse.Namespace,
    settings: Settings,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run ``ask``, ``eval`` or ``unanswered``; return the exit code."""
    out, err = out or sys.stdout, err or sys.stderr
    _ = translator().gettext
    if args.command == "unanswered":
        if args.days < 1:
            print("--days: " + _("Please give a whole number of days from 1."), file=err)
            return EXIT_USAGE
        return await _unanswered(settings, args.days, out)
    now = datetime.now(UTC)
    if args.now is not None:
        try:
            now = parse_date_time(args.now, settings.timezone)
        except ValueError:
            print(
                "--now: " + _("Please use the format DD.MM.YYYY HH:MM, e.g. 18.03.2027 14:00"),
                file=err,
            )
            return EXIT_USAGE
    catalog = await _catalog(settings, bundled=args.bundled)
    features = FEATURES if settings.smtp is not None else FEATURES - {FEATURE_ACCOUNT}
    ctx = RenderContext(catalog, translator(), settings.timezone, now.astimezone(UTC), features)
    if args.command == "ask":
        print(plain(answer_question(args.message, ctx)), file=out)
        return EXIT_OK
    return _evaluate(args.file, ctx, args.min, out, err, _)


def _evaluate(
    path: Path,
    ctx: RenderContext,
    bar: float | None,
    out: TextIO,
    err: TextIO,
    _: Callable[[str], str],
) -> int:
    """Score a question set and print its misses and a German summary."""
    try:
        items = load_items(path)
    except (OSError, UnicodeDecodeError) as error:  # TOML is UTF-8; tomllib raises the latter
        print(
            _("Cannot read {path}: {error}").format(path=path, error=error.__class__.__name__),
            file=err,
        )
        return EXIT_FAILED
    except (tomllib.TOMLDecodeError, QuestionSetError) as error:
        problem = error.describe(_) if isinstance(error, QuestionSetError) else str(error)
        print(
            _("{path} is not a question set: {error}").format(path=path, error=problem), file=err
        )
        return EXIT_FAILED
    # The guarded answerer: a bug in answering counts as a miss, as a member would see it.
    result = score(items, ctx, answer_question)
    for miss in result.misses:
        text = " ".join(miss.text.split())
        if len(text) > PREVIEW:
            text = text[: PREVIEW - 1] + "…"
        print(f"{miss.id} [{miss.intent}] {text}", file=out)
        for problem in miss.problems:
            print(f"    {problem}", file=out)
    locale = translator().locale
    print(
        _(
            "Right: {passed} of {total} ({rate}). Invented facts: {invented}. "
            "Unescaped echoes: {unescaped}."
        ).format(
            passed=result.passed,
            total=result.total,
            rate=format_percent(result.rate, "#,##0.0 %", locale=locale),
            invented=len(result.invented),
            unescaped=len(result.unescaped),
        ),
        file=out,
    )
    if bar is not None and result.rate < bar:
        return EXIT_FAILED
    return EXIT_OK


async def _catalog(settings: Settings, *, bundled: bool) -> Catalog:
    """Return the data to answer from: the database's, or the bundled files'."""
    from storage.importer import bundled_catalog

    if bundled or not settings.database.is_file():
        return bundled_catalog(include_demo=bundled)
    from bot.backup_cli import migrate_database
    from storage.catalog import CatalogStore
    from storage.db import Database

    db = await Database.open(settings.database)
    try:
        await migrate_database(db, settings)
        store = CatalogStore(db)
        if await store.is_empty():
            return bundled_catalog(include_demo=False)
        return await store.load()
    finally:
        await db.close()


async def _unanswered(settings: Settings, days: int, out: TextIO) -> int:
    """Print the unanswered messages of the last ``days`` days, newest first."""
    from bot.backup_cli import migrate_database
    from storage.db import Database
    from storage.unanswered import KEEP, UnansweredStore

    tr = translator()
    days = min(days, KEEP.days)  # only 30 days are kept: more means all of them
    db = await Database.open(settings.database)
    try:
        await migrate_database(db, settings)
        entries = await UnansweredStore(db).latest(now=datetime.now(UTC), limit=None, days=days)
    finally:
        await db.close()
    if not entries:
        none = tr.ngettext(
            "No unanswered questions in the last day.",
            "No unanswered questions in the last {days} days.",
            days,
        )
        print(none.format(days=days), file=out)
        return EXIT_OK
    for entry in entries:
        when = format_datetime(entry.at, "short", tzinfo=settings.timezone, locale=tr.locale)
        print(f"{when}  {_terminal_safe(entry.text)}", file=out)
    return EXIT_OK


def _terminal_safe(text: str) -> str:
    """Replace control characters: a stranger's text must not steer the operator's terminal.

    An escape sequence in a message (ESC ] 52 writes the clipboard, ESC [ 2 J clears the
    screen) would otherwise reach the terminal as it is.
    """
    return "".join("\ufffd" if unicodedata.category(c) == "Cc" else c for c in text)
