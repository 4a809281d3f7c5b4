"""The ``netzwerkbot`` command: run, demo, import."""

from __future__ import annotations

import argparse
import asyncio
import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from babel.numbers import format_decimal
from telegram import Update

from bot.config import ConfigError, Settings
from bot.i18n import translator
from bot.logs import configure_logging

if TYPE_CHECKING:
    from collections.abc import Sequence

    from storage.catalog import ImportReport


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen command; return the exit code."""
    _ = translator().gettext
    parser = argparse.ArgumentParser(
        prog="netzwerkbot", description=_("Telegram assistant of the IT Bündnis BW.")
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", help=_("run the bot with long polling (needs NETZWERKBOT_TOKEN)"))
    demo = commands.add_parser(
        "demo", help=_("chat with the bot in the terminal, against a local sandbox")
    )
    demo.add_argument(
        "--database", type=Path, help=_("keep the demo's data in this file (default: temporary)")
    )
    importer = commands.add_parser("import", help=_("load a data file into the database"))
    importer.add_argument("file", type=Path, help=_("TOML file in the alliance data format"))
    args = parser.parse_args(argv)

    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(error.describe(_), file=sys.stderr)
        return 2
    try:
        if args.command == "run":
            return _run(settings)
        if args.command == "demo":
            from bot.demo import run_demo  # the sandbox is only needed here

            configure_logging("WARNING")
            return asyncio.run(run_demo(settings, database=args.database))
        configure_logging(settings.log_level)
        try:
            text = args.file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            print(
                _("Cannot read {path}: {error}").format(
                    path=args.file, error=error.__class__.__name__
                ),
                file=sys.stderr,
            )
            return 1
        return asyncio.run(_import(settings, args.file, text))
    except ConfigError as error:
        print(error.describe(_), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _run(settings: Settings) -> int:
    """Run the bot until SIGINT or SIGTERM."""
    from bot.app import build_application

    configure_logging(settings.log_level)
    app = build_application(settings)
    app.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


async def _import(settings: Settings, path: Path, text: str) -> int:
    """Import a data file; a bad file changes nothing."""
    from storage.catalog import CatalogStore
    from storage.db import Database
    from storage.importer import DataFileError
    from storage.migrations import migrate

    _ = translator().gettext
    db = await Database.open(settings.database)
    try:
        await migrate(db)
        try:
            report = await CatalogStore(db).import_text(text, name=str(path))
        except DataFileError as error:
            print(_("{path} was not imported.").format(path=path), file=sys.stderr)
            print(error.describe(_), file=sys.stderr)
            return 1
    finally:
        await db.close()
    print(_describe_report(report))
    return 0


def _describe_report(report: ImportReport) -> str:
    """Return the German one-line summary of an import."""
    from storage.catalog import TableCounts

    total = sum(report.counts.values(), TableCounts())
    tr = translator()
    number = partial(format_decimal, locale=tr.locale)
    return tr.gettext(
        "Imported: {inserted} new, {updated} changed, {unchanged} unchanged."
    ).format(
        inserted=number(total.inserted),
        updated=number(total.updated),
        unchanged=number(total.unchanged),
    )


if __name__ == "__main__":
    sys.exit(main())
