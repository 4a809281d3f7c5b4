"""``netzwerkbot members …``: the embedded member directory from the shell.

``import [--sync] FILE.csv`` adds or updates members (columns ``email,name,network``; a file
with a bad row changes nothing and every bad row is listed with its line number; with
``--sync`` active members missing from the file are deactivated and listed); ``list`` shows
them; ``deactivate EMAIL`` and ``delete EMAIL`` are for members who leave (audited);
``check-password EMAIL`` reads a password from standard input (one trailing newline
stripped) and exits 0 if it is the member's current one, so an operator or a test can verify
a login without a web portal.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

from bot.backup_cli import migrate_database
from bot.domain.account import Passwords, normalize_email
from bot.domain.clock import SystemClock
from bot.domain.text import printable
from bot.i18n import translator
from storage.db import Database
from storage.members import MemberImportError, MemberStore, parse_members_csv

if TYPE_CHECKING:
    import argparse
    from collections.abc import Awaitable, Callable

    from bot.config import Settings

COMMAND: Final = "members"
EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2


def add_parsers(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``members`` with its subcommands to the ``netzwerkbot`` command line."""
    _ = translator().gettext
    members = subparsers.add_parser(COMMAND, help=_("manage the member directory"))
    actions = members.add_subparsers(dest="members_command", required=True, metavar="ACTION")
    importer = actions.add_parser(
        "import", help=_("add or update members from a CSV file (columns email,name,network)")
    )
    importer.add_argument(
        "file", type=Path, help=_("CSV file with the columns email,name,network")
    )
    importer.add_argument(
        "--sync",
        action="store_true",
        help=_("the file lists all members: deactivate the active members missing from it"),
    )
    actions.add_parser("list", help=_("list the members"))
    deactivate = actions.add_parser(
        "deactivate",
        help=_("deactivate a member who left: their chat link and open dialogs end"),
    )
    deactivate.add_argument("email", help=_("the member's e-mail address"))
    delete = actions.add_parser(
        "delete", help=_("erase a member with their password and chat link")
    )
    delete.add_argument("email", help=_("the member's e-mail address"))
    check = actions.add_parser(
        "check-password",
        help=_("check a member's password, read from standard input (exit code 0: it matches)"),
    )
    check.add_argument("email", help=_("the member's e-mail address"))


async def run(
    args: argparse.Namespace,
    settings: Settings,
    *,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run a ``members`` subcommand; return the exit code."""
    stdin, out, err = stdin or sys.stdin, out or sys.stdout, err or sys.stderr
    if settings.directory != "embedded":
        # The bot would never read what these commands write: say so instead of doing it.
        message = (
            translator()
            .gettext(
                "The members are in the LDAP directory (NETZWERKBOT_DIRECTORY=ldap): add, change "
                "and deactivate them there. {command} manages only the embedded directory."
            )
            .format(command="netzwerkbot members")
        )
        print(message, file=err)
        return EXIT_USAGE
    db = await Database.open(settings.database)
    try:
        await migrate_database(db, settings)
        store = MemberStore(db, passwords=Passwords(settings.hash_cost))
        commands: dict[str, Callable[[], Awaitable[int]]] = {
            "import": lambda: _import(store, args.file, out, err, sync=args.sync),
            "list": lambda: _list(store, out),
            "deactivate": lambda: _deactivate(store, args.email, out, err),
            "delete": lambda: _delete(store, args.email, out, err),
            "check-password": lambda: _check(store, args.email, stdin, out, err),
        }
        return await commands[args.members_command]()
    finally:
        await db.close()


async def _import(
    store: MemberStore, path: Path, out: TextIO, err: TextIO, *, sync: bool = False
) -> int:
    """Import a member file; a bad file changes nothing; ``sync`` deactivates the missing."""
    tr = translator()
    _ = tr.gettext
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        message = _("Cannot read {path}: {error}").format(path=path, error=type(error).__name__)
        print(message, file=err)
        return EXIT_FAILED
    rows, problems = parse_members_csv(text)
    try:
        counts = await store.import_members(
            rows, problems=problems, now=SystemClock().now(), sync=sync
        )
    except MemberImportError as error:
        print(_("{path} was not imported.").format(path=path), file=err)
        for problem in error.problems:
            print(problem.describe(_), file=err)
        return EXIT_FAILED
    print(
        _("Members imported: {inserted} new, {updated} changed, {unchanged} unchanged.").format(
            inserted=counts.inserted, updated=counts.updated, unchanged=counts.unchanged
        ),
        file=out,
    )
    if sync:
        print(
            tr.ngettext(
                "{count} member missing from the file was deactivated.",
                "{count} members missing from the file were deactivated.",
                len(counts.deactivated),
            ).format(count=len(counts.deactivated)),
            file=out,
        )
        for email in counts.deactivated:
            print(f"  {email}", file=out)
    return EXIT_OK


def _address(raw_email: str, err: TextIO) -> str | None:
    """Return the normalised address, or print why it is none."""
    email = normalize_email(raw_email)
    if email is None:
        message = translator().gettext("{value!r} is not an e-mail address")
        print(message.format(value=raw_email), file=err)
    return email


async def _deactivate(store: MemberStore, raw_email: str, out: TextIO, err: TextIO) -> int:
    """Deactivate a member; their link and open dialogs end."""
    _ = translator().gettext
    if (email := _address(raw_email, err)) is None:
        return EXIT_USAGE
    member = await store.deactivate(email, now=SystemClock().now())
    if member is None:
        print(_("There is no member with the address {email}.").format(email=email), file=err)
        return EXIT_FAILED
    print(_("{email} is deactivated; a link to a chat has ended.").format(email=email), file=out)
    return EXIT_OK


async def _delete(store: MemberStore, raw_email: str, out: TextIO, err: TextIO) -> int:
    """Erase a member with password hash, link and open dialogs."""
    _ = translator().gettext
    if (email := _address(raw_email, err)) is None:
        return EXIT_USAGE
    if not await store.delete(email, now=SystemClock().now()):
        print(_("There is no member with the address {email}.").format(email=email), file=err)
        return EXIT_FAILED
    print(_("{email} is deleted.").format(email=email), file=out)
    return EXIT_OK


async def _list(store: MemberStore, out: TextIO) -> int:
    """Print the members as tab-separated lines under a header."""
    tr = translator()
    _ = tr.gettext
    members = await store.all()
    header = (_("E-mail"), _("Name"), _("Network"), _("Status"), _("Password"), _("Telegram"))
    print("\t".join(header), file=out)
    for member in members:
        row = (
            member.email,
            member.name,
            member.network or "-",
            _("active") if member.active else _("inactive"),
            _("set") if member.has_password else _("not set"),
            _("linked") if member.telegram_user_id is not None else "-",
        )
        # A name stored before the import checked for them may hold control characters: a
        # terminal would act on them. Show them as escapes instead.
        print("\t".join(printable(value) for value in row), file=out)
    print(
        tr.ngettext("{count} member", "{count} members", len(members)).format(count=len(members)),
        file=out,
    )
    return EXIT_OK


async def _check(
    store: MemberStore, raw_email: str, stdin: TextIO, out: TextIO, err: TextIO
) -> int:
    """Tell whether the password on standard input is the member's; exit 0 if so."""
    _ = translator().gettext
    if (email := _address(raw_email, err)) is None:
        return EXIT_USAGE
    password = stdin.read()
    # Exactly one trailing newline (as echo or a heredoc adds) is not part of the password.
    password = (
        password.removesuffix("\r\n") if password.endswith("\r\n") else password.removesuffix("\n")
    )
    if await store.check_password(email, password):
        print(_("The password matches."), file=out)
        return EXIT_OK
    print(_("The password does not match (or there is no such active member)."), file=out)
    return EXIT_FAILED
