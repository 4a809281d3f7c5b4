"""Check (or update) the German catalog against the messages in the source code.

``python -m bot.catalog_check`` fails when a message in the code has no German translation,
a translation is fuzzy or empty, the catalog holds messages the code no longer uses, or a
translation's ``{placeholders}`` differ from its msgid's. ``--write`` regenerates
``locales/messages.pot`` and merges it into the .po file (new entries stay untranslated,
so the check fails until someone translates them).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Final

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT: Final = Path(__file__).resolve().parents[1]
SOURCE_DIRS: Final = ("bot", "handlers", "storage")
POT: Final = ROOT / "locales" / "messages.pot"
PO: Final = ROOT / "locales" / "de" / "LC_MESSAGES" / "messages.po"
KEYWORDS: Final = {**DEFAULT_KEYWORDS, "N_": None}
PLACEHOLDER: Final = re.compile(r"\{([a-z_][a-z0-9_]*)(?:![rs])?(?::[^}]*)?\}")


def extract() -> Catalog:
    """Collect every translatable message from the source directories."""
    template = Catalog(project="netzwerkbot", fuzzy=False)
    for directory in SOURCE_DIRS:
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / directory,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
            comment_tags=("TRANSLATORS:",),
        ):
            template.add(
                message,
                None,
                [(f"{directory}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
            )
    return template


def problems(template: Catalog, catalog: Catalog) -> list[str]:
    """Return what is wrong with ``catalog`` compared with the ``template``."""
    found: list[str] = []
    wanted = {m.id for m in template if m.id}
    for message in template:
        if not message.id:
            continue
        translated = catalog.get(message.id)
        if translated is None:
            found.append(f"missing: {message.id!r}")
        elif translated.fuzzy:
            found.append(f"fuzzy: {message.id!r}")
        elif not translated.string or (
            isinstance(translated.string, tuple) and not all(translated.string)
        ):
            found.append(f"untranslated: {message.id!r}")
        else:
            found.extend(_placeholder_problems(message.id, translated.string))
    for message in catalog:
        if message.id and message.id not in wanted:
            found.append(f"obsolete (not in the code): {message.id!r}")
    return found


def _placeholder_problems(
    msgid: str | tuple[str, ...] | list[str], msgstr: str | tuple[str, ...] | list[str]
) -> list[str]:
    ids = (msgid,) if isinstance(msgid, str) else tuple(msgid)
    strs = (msgstr,) if isinstance(msgstr, str) else tuple(msgstr)
    expected = set().union(*(PLACEHOLDER.findall(s) for s in ids))
    return [
        f"placeholders differ: {ids[0]!r}"
        for string in strs
        if set(PLACEHOLDER.findall(string)) - expected
    ]


def read_catalog(path: Path = PO) -> Catalog:
    """Read the German catalog."""
    with path.open("rb") as handle:
        return read_po(handle, locale="de")


def write(template: Catalog) -> None:
    """Write the template and merge it into the German catalog."""
    with POT.open("wb") as handle:
        write_po(handle, template, width=99, omit_header=False, sort_output=True)
    catalog = read_catalog()
    catalog.update(template, no_fuzzy_matching=True)
    with PO.open("wb") as handle:
        write_po(handle, catalog, width=99, sort_output=True, ignore_obsolete=True)


def main(argv: list[str] | None = None) -> int:
    """Check the catalog, or update it with ``--write``; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update messages.pot and the .po")
    args = parser.parse_args(argv)
    template = extract()
    if args.write:
        write(template)
    found = problems(template, read_catalog())
    for problem in found:
        print(problem, file=sys.stderr)  # noqa: T201 - a command-line tool
    if found:
        print(f"{len(found)} catalog problem(s)", file=sys.stderr)  # noqa: T201
        return 1
    print(f"catalog complete: {len(template)} messages")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
