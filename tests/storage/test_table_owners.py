"""Each table has one store that writes it: the rule the README's "Layout" states.

Every INSERT, UPDATE, DELETE and REPLACE in storage/ is found in the SQL text of the module
that runs it; a table written from two modules fails with both names. Migrations create and
rebuild tables and are not stores.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Final

STORAGE: Final = Path(__file__).resolve().parents[2] / "storage"
NOT_STORES: Final = frozenset({"migrations.py", "db.py", "__init__.py"})
WRITE: Final = re.compile(
    r"\b(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)"
    r"\s+([a-z_]+)\b"
)


def writers() -> dict[str, set[str]]:
    """Return, per table, the storage modules whose SQL writes it."""
    found: dict[str, set[str]] = defaultdict(set)
    for path in sorted(STORAGE.glob("*.py")):
        if path.name in NOT_STORES:
            continue
        for match in WRITE.finditer(path.read_text(encoding="utf-8")):
            found[match.group(1)].add(path.name)
    return found


def test_each_table_has_one_store_that_writes_it() -> None:
    """No table is written by two modules of storage/."""
    shared = {table: sorted(modules) for table, modules in writers().items() if len(modules) > 1}
    assert not shared, "\n".join(
        f"{table}: written by {', '.join(m)}" for table, m in shared.items()
    )


def test_the_scan_sees_the_writes() -> None:
    """The scan itself: the outbox store writes the outbox, the catalog writes events."""
    found = writers()
    assert "outbox.py" in found["outbox"]
    assert "catalog.py" in found["events"]
