"""The layout rules of DESIGN.md, read from the source: packages never import each other in a circle, the
flat foundation stays below them, the core has no Flask and no commit(), no module is over 400 lines, and
tests share helpers through support modules, never through another test module."""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "recordings_service"
MAX_LINES = 400
# Every sub-package is a capability, except the tables, which sit below everything like the flat modules.
PACKAGES = frozenset(path.parent.name for path in CORE.glob("*/__init__.py")) - {"models"}
FLAT = frozenset(path.stem for path in CORE.glob("*.py")) - {"__init__"}
FOUNDATION = FLAT | {"models"}
# The capability packages the foundation may use. Storage and audio work on bytes, paths and streams and
# import only the foundation themselves (the cycle check below holds them to that).
GROUND_FLOOR = {
    "storage": "reading an original needs the object store and the envelope (recordings.py, runtime.py)",
    "audio": "a recording is served with its container's media type (recordings.py)",
}
# Single imports of a higher package that a foundation module is allowed, each with its reason.
ALLOWED_UPWARD = {
    ("schema", "transcription"): "autogenerate must skip the search index's tables (transcription/search_index.py)",
}


@dataclass(frozen=True)
class Import:
    source: str  # the importing unit: a package, or a flat module
    target: str
    where: str  # path:line, for the failure message


def unit_of(path: Path) -> str:
    """A module's unit in the graph: its top-level package, or the flat module itself."""
    return path.relative_to(CORE).with_suffix("").parts[0]


def module_name(path: Path) -> list[str]:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def imported_names(path: Path, tree: ast.AST) -> Iterator[tuple[list[str], int]]:
    """Every module name `path` imports (functions and TYPE_CHECKING blocks included), relative ones resolved."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path)[:-1]  # what level 1 means
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split("."), node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            stem = base + (node.module.split(".") if node.module else [])
            for alias in node.names:
                # `from recordings_service import audit` names a module; `from x.y import f` names x.y.
                yield [*stem, alias.name], node.lineno


def target_unit(name: list[str]) -> str | None:
    if len(name) < 2 or name[0] != CORE.name:
        return None
    return name[1] if name[1] in PACKAGES | FLAT else None


def core_modules() -> Iterator[tuple[Path, ast.AST]]:
    for path in sorted(CORE.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def core_imports() -> list[Import]:
    found = []
    for path, tree in core_modules():
        source = unit_of(path)
        for name, line in imported_names(path, tree):
            target = target_unit(name)
            if target is not None and target != source:
                found.append(Import(source, target, f"{path.relative_to(ROOT)}:{line}"))
    return found


def cycles(edges: dict[str, set[str]], *, through: frozenset[str]) -> list[list[str]]:
    """One cycle for each group of units that reach each other (Tarjan's strongly connected components) and
    include one of `through`, starting there."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(unit: str) -> None:
        index[unit] = low[unit] = len(index)
        stack.append(unit)
        for nxt in sorted(edges.get(unit, ())):
            if nxt not in index:
                visit(nxt)
                low[unit] = min(low[unit], low[nxt])
            elif nxt in stack:
                low[unit] = min(low[unit], index[nxt])
        if low[unit] == index[unit]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == unit:
                    break
            if len(group) > 1 and group & through:
                groups.append(group)

    for unit in sorted(edges):
        if unit not in index:
            visit(unit)
    return [shortest_cycle(min(group & through), edges, group) for group in groups]


def shortest_cycle(start: str, edges: dict[str, set[str]], group: set[str]) -> list[str]:
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for unit in frontier:
            for nxt in sorted(edges.get(unit, set()) & group):
                if nxt == start:
                    return paths[unit] + [start]
                if nxt not in paths:
                    paths[nxt] = paths[unit] + [nxt]
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"no cycle through {start}")


def test_units_are_derived_from_the_tree() -> None:
    assert {"storage", "audio", "calls", "evaluations", "transcription"} <= PACKAGES
    assert {"recordings", "audit", "schema"} <= FLAT


def test_a_circle_through_a_package_is_named() -> None:
    edges = {"calls": {"transcription", "storage"}, "transcription": {"recordings"}, "recordings": {"calls"}}
    circle = ["transcription", "recordings", "calls", "transcription"]
    assert cycles(edges, through=frozenset({"transcription"})) == [circle]
    assert cycles({"calls": {"storage"}, "transcription": {"storage"}}, through=PACKAGES) == []
    assert cycles({"audit": {"errors"}, "errors": {"audit"}}, through=PACKAGES) == []


def test_no_package_imports_one_that_imports_it_back() -> None:
    imports = core_imports()
    edges: dict[str, set[str]] = {}
    for found in imports:
        edges.setdefault(found.source, set()).add(found.target)
    problems = []
    # Circles among flat modules alone are no question of layering (errors.py names audit's Actor, for
    # type checking only); a circle through a package is.
    for cycle in cycles(edges, through=PACKAGES):
        sites = [
            next(found.where for found in imports if (found.source, found.target) == step)
            for step in itertools.pairwise(cycle)
        ]
        problems.append(" → ".join(cycle) + " (" + ", ".join(sites) + ")")
    assert problems == []


def test_the_foundation_stays_below_the_packages() -> None:
    upward = sorted(
        f"{found.where}: {found.source} imports {found.target}/"
        for found in core_imports()
        if found.source in FOUNDATION
        and found.target in PACKAGES
        and found.target not in GROUND_FLOOR
        and (found.source, found.target) not in ALLOWED_UPWARD
    )
    assert upward == []


def test_the_ground_floor_imports_no_other_package() -> None:
    upward = sorted(
        f"{found.where}: {found.source}/ imports {found.target}/"
        for found in core_imports()
        if found.source in GROUND_FLOOR and found.target in PACKAGES
    )
    assert upward == []


def test_the_core_never_imports_flask() -> None:
    flask = sorted(
        f"{path.relative_to(ROOT)}:{line}: {'.'.join(name)}"
        for path, tree in core_modules()
        for name, line in imported_names(path, tree)
        if name[0].startswith("flask")
    )
    assert flask == []


def test_the_core_never_commits() -> None:
    commits = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted(CORE.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if ".commit(" in line
    ]
    assert commits == []


def test_no_module_is_over_400_lines() -> None:
    long = [
        f"{path.relative_to(ROOT)}: {count} lines"
        for folder in ("recordings_service", "web", "jobs")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert long == []


def test_tests_import_no_other_test_module() -> None:
    tests = ROOT / "tests"
    borrowed = sorted(
        f"{path.relative_to(ROOT)}:{line}: {'.'.join(name)}"
        for path in tests.rglob("*.py")
        for name, line in imported_names(path, ast.parse(path.read_text(encoding="utf-8")))
        if name[0] == "tests" and any(part.startswith("test_") for part in name[1:])
    )
    assert borrowed == []
