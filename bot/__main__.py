"""The ``netzwerkbot`` command: run, demo, import, events, members, ask, eval, unanswered,
backup, restore."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from babel.numbers import format_decimal
from telegram import Update

from bot import backup_cli, members_cli, qa_cli
from bot.config import ConfigError, Settings
from bot.domain.account import InsecureKeyFileError
from bot.i18n import translator
from bot.logs import configure_logging

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from zoneinfo import ZoneInfo

    from bot.domain.models import Catalog, Event
    from storage.catalog import ImportReport

# The commands run beside the bot: after each batch of a big reminder plan they leave the
# database's write lock free as long as they held it, so the bot's writes get their turn.
CLI_PLAN_PAUSE: Final = 1.0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen command; return the exit code."""
    _ = translator().gettext
    parser = argparse.ArgumentParser(
        prog="netzwerkbot", description=_("Telegram assistant of the IT Bündnis BW.")
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", help=_("run the bot (needs NETZWERKBOT_TOKEN)"))
    demo = commands.add_parser(
        "demo", help=_("chat with the bot in the terminal, against a local sandbox")
    )
    demo.add_argument(
        "--database", type=Path, help=_("keep the demo's data in this file (default: temporary)")
    )
    importer = commands.add_parser("import", help=_("load a data file into the database"))
    importer.add_argument("file", type=Path, help=_("TOML file in the alliance data format"))
    importer.add_argument(
        "--force",
        action="store_true",
        help=_(
            "also overwrite what admins changed in the chat and revive cancelled meetings "
            "(audited)"
        ),
    )
    _add_events_parser(commands, _)
    commands.add_parser(
        "stats", help=_("show subscribers, circulars, reminders and questions in numbers")
    )
    members_cli.add_parsers(commands)
    qa_cli.add_parsers(commands)
    backup_cli.add_parsers(commands)
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
        configure_logging(settings.log_level, settings.log_format)
        if args.command == "events":
            return asyncio.run(_events(settings, args))
        if args.command == "stats":
            return asyncio.run(_stats(settings))
        if args.command == members_cli.COMMAND:
            return asyncio.run(members_cli.run(args, settings))
        if args.command in qa_cli.COMMANDS:
            return asyncio.run(qa_cli.run(args, settings))
        if args.command in (backup_cli.BACKUP, backup_cli.RESTORE):
            return backup_cli.run(args, settings)
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
        return asyncio.run(_import(settings, args.file, text, force=args.force))
    except ConfigError as error:
        print(error.describe(_), file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as error:
        # Not a database (another file, a directory, a broken copy): one line, no traceback.
        print(
            _("The database {path} cannot be used: {error}").format(
                path=settings.database, error=error
            ),
            file=sys.stderr,
        )
        return 1
    except InsecureKeyFileError as error:
        print(
            _(
                "The key file {path} can be read by other users; run chmod 600 on it and "
                "start again."
            ).format(path=error.path),
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 130


def _run(settings: Settings) -> int:
    """Run the bot until SIGINT or SIGTERM; alone on its database (exit code 3 if not)."""
    from bot.app import build_application, serve_webhook, services_of
    from bot.instance import EXIT_ALREADY_RUNNING, AlreadyRunning, InstanceLock

    _ = translator().gettext
    configure_logging(settings.log_level, settings.log_format)
    app = build_application(settings)
    try:
        lock = InstanceLock.acquire(settings.database)
    except AlreadyRunning as error:
        print(
            _(
                "Another netzwerkbot is running on this database (lock file {path}, pid {pid})."
            ).format(path=error.path, pid=error.pid if error.pid is not None else "?"),
            file=sys.stderr,
        )
        return EXIT_ALREADY_RUNNING
    with lock:
        if settings.webhook is not None:
            asyncio.run(serve_webhook(app))
        else:
            app.run_polling(allowed_updates=Update.ALL_TYPES)
    return services_of(app).exit_code or 0


async def _import(settings: Settings, path: Path, text: str, *, force: bool = False) -> int:
    """Import a data file; a bad file changes nothing; report what admins' edits kept."""
    from storage.catalog import CatalogStore
    from storage.db import Database
    from storage.importer import DataFileError

    _ = translator().gettext
    db = await Database.open(settings.database)
    try:
        await backup_cli.migrate_database(db, settings)
        try:
            report = await CatalogStore(db, plan_pause=CLI_PLAN_PAUSE).import_text(
                text, name=str(path), force=force
            )
        except DataFileError as error:
            print(_("{path} was not imported.").format(path=path), file=sys.stderr)
            print(error.describe(_), file=sys.stderr)
            return 1
    finally:
        await db.close()
    print(_describe_report(report))
    for event_id, field in report.skipped:
        print(
            _(
                "Kept {event}.{field}: changed by an admin in the chat (--force overwrites it)."
            ).format(event=event_id, field=field)
            if field != "status"
            else _("Kept {event} cancelled (--force revives it).").format(event=event_id)
        )
    for event_id, field in report.forced:
        print(_("Overwritten {event}.{field} (--force).").format(event=event_id, field=field))
    return 0


async def _stats(settings: Settings) -> int:
    """Print the admins' statistics (as /statistik shows them) as plain text."""
    from bot.views.statistics import statistics_text
    from storage.catalog import CatalogStore
    from storage.db import Database
    from storage.stats import report

    db = await Database.open(settings.database)
    try:
        await backup_cli.migrate_database(db, settings)
        numbers = await report(db, datetime.now(UTC))
        catalog = await CatalogStore(db).load()
    finally:
        await db.close()
    print(statistics_text(numbers, catalog, translator(), settings.timezone, markup=False))
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


def _add_events_parser(commands: Any, _: Callable[[str], str]) -> None:
    """Add ``events list|add|cancel``: the admins' meeting commands for scripts."""
    events = commands.add_parser("events", help=_("list, add or cancel meetings"))
    actions = events.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help=_("list the upcoming meetings"))
    listing.add_argument(
        "--all", action="store_true", help=_("list all meetings, also past and cancelled ones")
    )
    add = actions.add_parser("add", help=_("add a meeting and print its id"))
    add.add_argument("--title", required=True, help=_("the meeting's title"))
    add.add_argument(
        "--start", required=True, help=_('date and time of the start, e.g. "18.03.2027 14:00"')
    )
    add.add_argument("--end", help=_("time of the end on the same day, e.g. 16:00"))
    add.add_argument("--city", required=True, help=_("the town or city"))
    add.add_argument("--venue", help=_("the venue, e.g. building and address"))
    add.add_argument(
        "--coordinates",
        metavar="LAT,LON",
        help=_('the venue\'s latitude and longitude in degrees, e.g. "48.7784, 9.18"'),
    )
    add.add_argument(
        "--network", metavar="SLUG", help=_("slug of the host network (default: alliance-wide)")
    )
    add.add_argument("--description", required=True, help=_("the meeting's description"))
    cancel = actions.add_parser("cancel", help=_("cancel an upcoming meeting"))
    cancel.add_argument("id", help=_("the meeting's id (see: netzwerkbot events list)"))


async def _events(settings: Settings, args: argparse.Namespace) -> int:
    """Run ``events list|add|cancel`` on the database; audited with no actor (the CLI)."""
    from storage.catalog import CatalogStore, EventWriteError
    from storage.db import Database

    _ = translator().gettext
    db = await Database.open(settings.database)
    try:
        await backup_cli.migrate_database(db, settings)
        store = CatalogStore(db, plan_pause=CLI_PLAN_PAUSE)
        now = datetime.now(UTC)
        tz = settings.timezone
        if await store.is_empty():
            # As ``run`` would on its first start: an empty database would never get them.
            await store.load_bundled(include_demo=False, now=now, tz=tz)
        if args.action == "list":
            from storage.attendance import AttendanceStore

            counts = {k: c.coming for k, c in (await AttendanceStore(db).counts()).items()}
            print(
                _event_lines(
                    await store.load(), now=now, tz=tz, everything=args.all, counts=counts
                )
            )
            return 0
        try:
            if args.action == "add":
                event = _event_from_args(args, await store.load(), tz=tz)
                if event is None:
                    return 1
                stored = await store.add_event(event, actor=None, now=now, tz=tz)
                print(stored.id)
            else:
                await store.cancel_event(args.id, actor=None, now=now, tz=tz)
                print(_("The meeting {id} has been cancelled.").format(id=args.id))
        except EventWriteError as error:
            print(error.describe(_), file=sys.stderr)
            return 1
    finally:
        await db.close()
    return 0


def _event_from_args(args: argparse.Namespace, catalog: Catalog, *, tz: ZoneInfo) -> Event | None:
    """Build the new meeting from the options; None (after a German message) if one is bad."""
    from bot.domain.models import Event, Host
    from bot.domain.parse import parse_coordinates, parse_date_time, parse_time
    from bot.domain.schedule import localize

    _ = translator().gettext
    try:
        start = parse_date_time(args.start, tz)
    except ValueError:
        print(
            "--start: " + _("Please use the format DD.MM.YYYY HH:MM, e.g. 18.03.2027 14:00"),
            file=sys.stderr,
        )
        return None
    end = None
    if args.end is not None:
        try:
            end = localize(datetime.combine(start.date(), parse_time(args.end)), tz)
        except ValueError:
            print(
                "--end: " + _("Please give the time in the format HH:MM, e.g. 16:00"),
                file=sys.stderr,
            )
            return None
    latitude = longitude = None
    if args.coordinates is not None:
        try:
            latitude, longitude = parse_coordinates(args.coordinates)
        except ValueError:
            print(
                "--coordinates: "
                + _(
                    "Please send latitude and longitude in degrees, e.g. 48.7784, 9.1800 (as "
                    "shown by OpenStreetMap or a maps app)."
                ),
                file=sys.stderr,
            )
            return None
    host = Host(name="IT Bündnis BW")
    if args.network is not None:
        network = catalog.network(args.network)
        if network is None:
            print(
                _("There is no network with the slug {value}.").format(value=args.network),
                file=sys.stderr,
            )
            return None
        host = Host(name=network.short_name, network=network.slug)
    return Event(
        id="",
        fictional=False,
        kind="network_meeting",
        title=" ".join(args.title.split()),
        description=args.description.strip(),
        status="announced",
        start=start,
        end=end,
        city=" ".join(args.city.split()),
        venue=" ".join(args.venue.split()) if args.venue is not None else None,
        latitude=latitude,
        longitude=longitude,
        hosts=(host,),
    )


def _event_lines(
    catalog: Catalog,
    *,
    now: datetime,
    tz: ZoneInfo,
    everything: bool,
    counts: Mapping[str, int] | None = None,
) -> str:
    """Return one German line per meeting: id, date and time, title, status, "Ich komme"."""
    from babel.dates import format_date, format_time

    tr = translator()
    _ = tr.gettext
    statuses = {
        "held": _("took place"),
        "announced": _("announced"),
        "planned": _("planned"),
        "cancelled": _("cancelled"),
    }
    events = catalog.events if everything else catalog.upcoming_events(now)
    if not events:
        return _("No meetings.")
    lines = []
    for event in events:
        if event.start is not None:
            local = event.start.astimezone(tz)
            when = "{} {}".format(
                format_date(local.date(), "medium", locale=tr.locale),
                format_time(local.time(), "short", locale=tr.locale),
            )
        elif event.date is not None:
            when = format_date(event.date, "medium", locale=tr.locale)
        else:
            when = _("date unknown")
        title = event.title + (" " + _("(Demo)") if event.fictional else "")
        line = f"{event.id}  {when}  {title}  [{statuses[event.status]}]"
        if counts is not None:
            coming = counts.get(event.id, 0)
            line += "  " + tr.ngettext(
                "{count} said “Ich komme”", "{count} said “Ich komme”", coming
            ).format(count=coming)
        lines.append(line)
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
