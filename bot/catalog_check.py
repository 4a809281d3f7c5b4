"""Check (or update) the message catalogs with Babel's own ``pybabel extract`` and ``update``.

The extraction and update settings live in ``pyproject.toml`` (``[tool.babel.*]``), so plain
``pybabel extract`` and ``pybabel update`` run from the repository root do exactly what this
module does. ``python -m bot.catalog_check`` fails when

- ``locales/messages.pot`` differs from a fresh extraction (the creation date and the Babel
  version in the header do not count),
- a ``.po`` file is not what ``pybabel update`` writes from that template (stale, or edited
  into another layout),
- a message in the code has no German translation, or it is fuzzy or empty, or the German
  catalog holds messages the code no longer uses,
- a translation's ``{placeholders}`` are not among its msgid's, or Babel's own checks
  (``%`` formats, number of plural forms) fail.

``--write`` regenerates ``locales/messages.pot`` (only when a message or location changed)
and runs ``pybabel update``; new entries stay untranslated, so the check fails until someone
translates them.

``--spelling`` also spell-checks the German translations with hunspell and Debian's
``hunspell-de-de`` dictionary (``de_DE``), accepting the project's words listed in
``locales/de/hunspell-words.txt``. It is optional and not part of CI, which does not install
hunspell.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Final

from babel.messages.pofile import read_po

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog

ROOT: Final = Path(__file__).resolve().parents[1]
LOCALES: Final = ROOT / "locales"
POT: Final = LOCALES / "messages.pot"
PO: Final = LOCALES / "de" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER: Final = re.compile(r"\{([a-z_][a-z0-9_]*)(?:![rs])?(?::[^}]*)?\}")
# Header lines that change without any message changing: when the template was made, and
# which Babel version wrote the file.
VOLATILE_HEADERS: Final = (b'"POT-Creation-Date:', b'"Generated-By:')
WRITE_HINT: Final = "run `python -m bot.catalog_check --write`"
SPELLING_WORDS: Final = LOCALES / "de" / "hunspell-words.txt"
# What is not prose in a translation: placeholders, HTML tags, /commands, --options.
NOT_PROSE: Final = re.compile(r"\{[^}]*\}|<[^>]+>|(?<!\w)/[a-z_]+|(?<![\w-])-{1,2}[a-z]+")


def pybabel(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the ``pybabel`` command line in the repository root with its pyproject settings."""
    env = {**os.environ, "BABEL_PYPROJECT_TOML": str(ROOT / "pyproject.toml")}
    return subprocess.run(  # noqa: S603 - our own interpreter, arguments from this module
        [sys.executable, "-m", "babel.messages.frontend", "--quiet", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _extract_to(path: Path) -> None:
    result = pybabel("extract", "--output-file", str(path))
    if result.returncode != 0:
        raise RuntimeError(f"pybabel extract failed:\n{result.stderr}")


def extract() -> Catalog:
    """Collect every translatable message from the sources, as ``pybabel extract`` does."""
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        _extract_to(pot)
        with pot.open("rb") as handle:
            return read_po(handle)


def _stable(text: bytes) -> list[bytes]:
    return [line for line in text.splitlines() if not line.startswith(VOLATILE_HEADERS)]


def _same_catalog_file(left: Path, right: Path) -> bool:
    if not left.is_file() or not right.is_file():
        return False
    return _stable(left.read_bytes()) == _stable(right.read_bytes())


def _po_files() -> list[Path]:
    return sorted(LOCALES.glob("*/LC_MESSAGES/messages.po"))


def file_problems(fresh: Path) -> list[str]:
    """Return where the committed template or catalogs differ from what pybabel writes.

    ``fresh`` is a template just extracted from the sources; the committed .po files are
    updated from it in a scratch directory, never in place.
    """
    found: list[str] = []
    if not _same_catalog_file(fresh, POT):
        found.append(f"{POT.relative_to(ROOT)} is out of date: {WRITE_HINT}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for po in _po_files():
            copy = work / po.relative_to(LOCALES)
            copy.parent.mkdir(parents=True)
            shutil.copyfile(po, copy)
            name = po.relative_to(ROOT)
            locale = po.parents[1].name
            args = ("--input-file", str(fresh), "--output-dir", str(work), "--locale", locale)
            differs = f"{name} is not what `pybabel update` writes (stale or edited): {WRITE_HINT}"
            # --check compares message by message (and each message's line in the file);
            # the byte comparison after a real update also catches order and header comments.
            if pybabel("update", "--check", *args).returncode != 0:
                found.append(differs)
                continue
            update = pybabel("update", *args)
            if update.returncode != 0:
                raise RuntimeError(f"pybabel update failed:\n{update.stderr}")
            if not _same_catalog_file(copy, po):
                found.append(differs)
    return found


def problems(template: Catalog, catalog: Catalog) -> list[str]:
    """Return what is wrong with the translations in ``catalog`` against the ``template``."""
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
    found.extend(f"obsolete (kept as #~): {msgid!r}" for msgid in catalog.obsolete)
    for message, errors in catalog.check():
        found.extend(f"{error}: {message.id!r}" for error in errors)
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


def _translations(catalog: Catalog) -> list[tuple[str, str]]:
    """Return (msgid, prose of one translation) pairs."""
    pairs: list[tuple[str, str]] = []
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        strings = (message.string,) if isinstance(message.string, str) else message.string or ()
        pairs.extend((msgid, NOT_PROSE.sub(" ", string)) for string in strings if string)
    return pairs


def spelling_problems(catalog: Catalog) -> list[str]:
    """Return the words of the translations that hunspell's German dictionary does not know."""
    hunspell = shutil.which("hunspell")
    if hunspell is None:
        return ["spelling: hunspell is not installed (apt-get install hunspell hunspell-de-de)"]
    pairs = _translations(catalog)
    result = subprocess.run(  # noqa: S603 - fixed arguments, the text goes to stdin
        [hunspell, "-d", "de_DE", "-i", "utf-8", "-p", str(SPELLING_WORDS), "-l"],
        input="\n".join(text for _msgid, text in pairs),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return [f"spelling: hunspell failed: {result.stderr.strip()}"]
    # hunspell's personal dictionary cannot allow a word the German one forbids in that
    # case ("name", "rand" in a command line): the list is applied here as well.
    accepted = set(SPELLING_WORDS.read_text(encoding="utf-8").split())
    found: list[str] = []
    for word in sorted(set(result.stdout.split()) - accepted):
        if not any(char.isalpha() for char in word):
            continue  # a dash or an emoji's variation selector, not a word
        pattern = re.compile(rf"(?<!\w){re.escape(word)}(?!\w)")
        where = next((msgid for msgid, text in pairs if pattern.search(text)), "?")
        found.append(f"spelling: unknown word {word!r} in the translation of {where!r}")
    return found


def read_catalog(path: Path = PO) -> Catalog:
    """Read the German catalog."""
    with path.open("rb") as handle:
        return read_po(handle, locale="de")


def write() -> None:
    """Regenerate the template if a message changed, then run ``pybabel update``."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "messages.pot"
        _extract_to(fresh)
        if not _same_catalog_file(fresh, POT):
            shutil.copyfile(fresh, POT)
    result = pybabel("update")
    if result.returncode != 0:
        raise RuntimeError(f"pybabel update failed:\n{result.stderr}")


def main(argv: list[str] | None = None) -> int:
    """Check the catalogs, or update them with ``--write``; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--write", action="store_true", help="regenerate messages.pot and run pybabel update"
    )
    parser.add_argument(
        "--spelling", action="store_true", help="also spell-check German with hunspell (de_DE)"
    )
    args = parser.parse_args(argv)
    if args.write:
        write()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "messages.pot"
        _extract_to(fresh)
        with fresh.open("rb") as handle:
            template = read_po(handle)
        catalog = read_catalog()
        found = [*file_problems(fresh), *problems(template, catalog)]
    if args.spelling:
        found.extend(spelling_problems(catalog))
    for problem in found:
        print(problem, file=sys.stderr)  # noqa: T201 - a command-line tool
    if found:
        print(f"{len(found)} catalog problem(s)", file=sys.stderr)  # noqa: T201
        return 1
    print(f"catalog complete: {len(template)} messages")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
