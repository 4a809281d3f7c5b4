"""The house's layers, checked from the import statements (type-only imports included).

The README's "Layout" table states these rules; this test keeps them true. A broken rule names
the file and the import.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parents[1]
PRODUCT: Final = ("bot", "handlers", "storage")

# Modules of handlers/ that every feature may use; the others are features.
HANDLER_SHARED: Final = frozenset({"handlers.guards", "handlers.respond", "handlers.dialogs"})
# Wiring modules that lower layers may use: the typed context and the translator.
CONTEXT: Final = frozenset({"bot.context", "bot.i18n"})
# The folders of bot/ that are layers of their own; the rest of bot/ is wiring.
FOLDERS: Final = frozenset({"domain", "views", "delivery", "sandbox", "web"})


def layer(module: str) -> str:
    """Return the layer of a module of the product."""
    parts = module.split(".")
    if (
        parts[0] == "bot"
        and len(parts) > 2
        and parts[1] in {"domain", "views", "delivery", "sandbox", "web"}
    ):
        return parts[1]
    if (
        parts[0] == "bot"
        and len(parts) == 2
        and parts[1] in {"domain", "views", "delivery", "sandbox", "web"}
    ):
        return parts[1]
    return {"bot": "wiring", "handlers": "handlers", "storage": "storage"}[parts[0]]


def allowed(importer: str, imported: str) -> bool:
    """Tell whether ``importer`` may import ``imported`` (both modules of the product)."""
    src, dst = layer(importer), layer(imported)
    if src == "domain":
        return dst == "domain"
    if src == "storage":
        return dst in {"domain", "storage"}
    if src == "views":
        return dst in {"domain", "views"} or imported == "bot.i18n"
    if src == "delivery":
        return dst in {"domain", "views", "storage", "delivery"} or imported == "bot.i18n"
    if src == "sandbox":
        return dst == "sandbox"
    if src == "handlers":
        if dst == "handlers":
            return imported in HANDLER_SHARED or (
                importer in HANDLER_SHARED and imported in HANDLER_SHARED
            )
        return dst in {"domain", "views", "delivery", "storage"} or imported in CONTEXT
    return True  # wiring (bot/ itself and bot/web/) assembles everything


def module_name(path: Path) -> str:
    """Return the dotted module name of a file of the product."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def product_modules() -> dict[str, Path]:
    """Return every module of the product by name."""
    return {
        module_name(path): path for top in PRODUCT for path in sorted((ROOT / top).rglob("*.py"))
    }


def imports_of(path: Path, module: str, known: set[str]) -> list[tuple[int, str]]:
    """Return (line, module) for every import of a product module in a file, at any depth."""
    found: list[tuple[int, str]] = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # "from bot.views import callbacks" imports the module bot.views.callbacks.
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            # The longest known prefix: "bot.views.catalog.event_card" -> "bot.views.catalog".
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.append((node.lineno, name))
    return found


def graph() -> dict[str, list[tuple[int, str]]]:
    """Return the import arrows between the product's modules."""
    modules = product_modules()
    known = set(modules)
    return {name: imports_of(path, name, known) for name, path in modules.items()}


def test_every_import_follows_the_layers() -> None:
    """Domain imports nothing of the project, storage only the domain, and so on."""
    modules = product_modules()
    broken = [
        f"{modules[importer].relative_to(ROOT)}:{line} imports {imported} "
        f"({layer(importer)} may not import {layer(imported)})"
        for importer, arrows in graph().items()
        for line, imported in arrows
        if not allowed(importer, imported)
    ]
    assert not broken, "\n".join(broken)


def test_no_import_circles() -> None:
    """No module reaches itself through its imports (Tarjan's strongly connected components)."""
    arrows = {name: sorted({imported for _, imported in found}) for name, found in graph().items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in arrows[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for name in sorted(arrows):
        if name not in index:
            visit(name)
    assert not circles, "import circles: " + "; ".join(" <-> ".join(c) for c in circles)


def test_the_rules_catch_a_broken_import() -> None:
    """The checker itself: an upward import is refused and named."""
    assert not allowed("bot.domain.schedule", "bot.views.common")
    assert not allowed("storage.catalog", "bot.delivery.sender")
    assert not allowed("handlers.reminders", "handlers.subscriptions")
    assert not allowed("bot.delivery.dispatch", "handlers.guards")
    assert allowed("handlers.reminders", "handlers.guards")
    assert allowed("bot.app", "handlers.start")


def test_the_walk_sees_every_kind_of_import() -> None:
    """The checker's input: plain, 'from package import module' and type-only imports count."""
    arrows = {name: {imported for _, imported in found} for name, found in graph().items()}
    assert "handlers.start" in arrows["bot.app"]
    # "from bot.views import callbacks, catalog" names two modules, not the package.
    assert {"bot.views.callbacks", "bot.views.catalog"} <= arrows["handlers.start"]
    # Under TYPE_CHECKING: a type-only import is still an arrow.
    assert "bot.domain.models" in arrows["bot.delivery.dispatch"]
    assert sum(len(targets) for targets in arrows.values()) > 300
