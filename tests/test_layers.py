"""Dependencies point one way (README, "Layout"): no module imports a module ranked above it.

Every module of the shipped packages is parsed, not imported, so imports inside functions,
under `try: … except ImportError` and through `importlib` (`import_module`, `find_spec`) count
as much as the ones at the top.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bouncecrm", "core", "records", "bounces", "reports")

# A module named so, or inside a package named so, is presentation: it shows the domain to
# people (pages, admin, commands, demo data) or to other systems (webhooks, downloads).
PRESENTATION = {
    "views",
    "views_bulk",
    "urls",
    "forms",
    "filters",
    "tables",
    "admin",
    "templatetags",
    "management",
    "demo",
    "webhooks",
    "charts",
    "downloads",
    "exports",
}

# Domain ranks, lowest first; presentation ranks, in the same order of apps, above all of them.
CORE, RECORDS, BOUNCES, IMPORTS, REPORTS = 0, 1, 2, 3, 4
PRESENTATION_RANK = {RECORDS: 6, BOUNCES: 5, IMPORTS: 7, REPORTS: 8}
PROJECT = 9

# These hold facts the Django-free classifier reads: they must not import Django at all.
DJANGO_FREE = ("core.categories", "core.addresses", "core.rates", "core.spreadsheets")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def shipped_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[module_name(path)] = path
    return found


MODULES = shipped_modules()


def rank(module: str) -> int:
    parts = module.split(".")
    if parts[0] == "core":
        return CORE
    if parts[0] == "bouncecrm":
        return PROJECT
    if parts[0] == "records" and parts[1:2] == ["imports"]:
        domain, inner = IMPORTS, parts[2:]
    else:
        domain = {"records": RECORDS, "bounces": BOUNCES, "reports": REPORTS}[parts[0]]
        inner = parts[1:]
    return PRESENTATION_RANK[domain] if PRESENTATION & set(inner) else domain


def imported_names(path: Path, module: str) -> Iterator[tuple[int, str]]:
    """Yield (line, dotted name) of everything the module imports, wherever it does."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            yield node.lineno, target
            for alias in node.names:
                yield node.lineno, f"{target}.{alias.name}"
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if name in ("import_module", "find_spec", "__import__") and isinstance(
                first, ast.Constant
            ):
                yield node.lineno, str(first.value)


def our_module(name: str) -> str | None:
    """Return the module of ours that `name` is or is inside (None for other libraries)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in MODULES:
            return candidate
    return None


def upward_imports() -> dict[tuple[str, str], str]:
    found = {}
    for module, path in sorted(MODULES.items()):
        for line, name in imported_names(path, module):
            target = our_module(name)
            if target and rank(target) > rank(module):
                found.setdefault((module, target), f"{path.relative_to(ROOT)}:{line}")
    return found


def test_ranks_follow_the_readme():
    assert rank("core.spreadsheets") == 0
    assert rank("records.selectors") < rank("bounces.services.bulk") < rank("records.imports")
    assert rank("records.imports.services") < rank("reports.rollups")
    assert rank("reports.rollups") < rank("bounces.views") < rank("records.views")
    assert rank("records.views") < rank("records.imports.views") < rank("reports.views")
    assert rank("bounces.management.commands.send_mailing") == rank("bounces.webhooks")
    assert rank("reports.views") < rank("bouncecrm.urls")


def test_no_module_imports_upward():
    found = upward_imports()
    upward = [
        f"{where}: {module} (rank {rank(module)}) imports {target} (rank {rank(target)})"
        for (module, target), where in found.items()
    ]
    assert not upward, "imports against the layers:\n" + "\n".join(upward)


@pytest.mark.parametrize("module", DJANGO_FREE)
def test_plain_core_modules_import_no_django(module):
    if module not in MODULES:
        pytest.skip(f"{module} does not exist")
    names = [name for _line, name in imported_names(MODULES[module], module)]
    assert not [name for name in names if name.split(".")[0] == "django"]
    assert not [name for name in names if (our_module(name) or "core").split(".")[0] != "core"]
