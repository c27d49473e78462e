"""The package's import graph: no cycles, and every import points down the layers written out below.

Imports are read with ``ast`` from every module under ``scanner/``, wherever
they sit: module level, inside functions (the lazy imports that keep start-up
fast) and under ``TYPE_CHECKING``. A lazy import is still an arrow between
layers; it only moves the cost. A new module must be given a layer here.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "scanner"

# Each layer's modules; a name ending in ".*" also takes its package's submodules. The longest
# matching name decides, so the history package can sit in two layers: its git-reading parts are a
# source, its pipeline scans.
LAYERS: dict[str, tuple[str, ...]] = {
    # Plain data and helpers every layer uses; none knows git, rules or reports.
    "base": (
        "scanner.errors", "scanner.lazyre", "scanner.paths", "scanner.models", "scanner.version",
        "scanner.display", "scanner.jsontext", "scanner.der", "scanner.entropy", "scanner.allow",
        "scanner.encodings", "scanner.record", "scanner.vendored", "scanner.documentation", "scanner.forking",
        "scanner.regexcache", "scanner.digest",
    ),
    # The rule model: loading, validating and hashing rule files.
    "rules": ("scanner.rules", "scanner.validators"),
    # Text in, findings out: knows rules, not git (README, "How it works").
    "detect": ("scanner.detect", "scanner.decode", "scanner.prefilter", "scanner.rulematch", "scanner.rulecheck",
               "scanner.shadow"),
    # Running git and reading repositories: knows git, not rules.
    "sources": (
        "scanner.gitcmd", "scanner.sources.*", "scanner.hooks", "scanner.pushrange", "scanner.ci",
        "scanner.mirror", "scanner.sweep",
        "scanner.history.walk", "scanner.history.refs", "scanner.history.walkcache",
        "scanner.history.identity", "scanner.history.store",
    ),
    # The history scan: sources feeding the detector inside its worker processes.
    "history": ("scanner.history.*",),
    # The file scan: the files source feeding the detector, through history's matcher set-up and worker cap.
    "files": ("scanner.filescan",),
    # Repository-state checks (.gitignore coverage, MCP configs); they reuse the rules and git.
    "audit": ("scanner.audit.*",),
    # Writing findings: knows Finding and Exposure only.
    "report": ("scanner.report.*",),
    # Wiring: the entry point, argument parsing, configuration files and commands.
    "app": (
        "scanner", "scanner.__main__", "scanner.cli", "scanner.commands.*", "scanner.config",
        "scanner.baseline", "scanner.gitleaks_import",
    ),
}

# The layers each layer may import from (its own included).
MAY_IMPORT: dict[str, set[str]] = {
    "base": {"base"},
    "rules": {"base", "rules"},
    "detect": {"base", "rules", "detect"},
    "sources": {"base", "sources"},
    "history": {"base", "rules", "detect", "sources", "history"},
    "files": {"base", "rules", "detect", "sources", "history", "files"},
    "audit": {"base", "rules", "sources", "audit"},
    "report": {"base", "report"},
    "app": set(LAYERS),
}


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


MODULES = _modules()


def _target(name: str) -> str | None:
    """The module of the package an imported name lives in (``scanner.x.y`` may be a name in ``scanner.x``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> set[str]:
    """Every module of the package that ``module`` imports, at any depth of its code."""
    path = MODULES[module]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package, up level - 1 packages
                package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            # ``from scanner.history import walk`` imports the module scanner.history.walk
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name == "scanner" or name.startswith("scanner."):
                target = _target(name)
                if target is not None and target != module:
                    found.add(target)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def layer_of(module: str) -> str:
    best, layer = "", ""
    for name, patterns in LAYERS.items():
        for pattern in patterns:
            exact = pattern.removesuffix(".*")
            matches = module == exact or (pattern.endswith(".*") and module.startswith(exact + "."))
            if matches and len(exact) > len(best):
                best, layer = exact, name
    if not layer:
        raise AssertionError(f"{module} has no layer: add it to LAYERS in tests/layering_test.py")
    return layer


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_parser_sees_every_kind_of_import() -> None:
    # module level, relative-free ``from x import module``, inside a function, and under TYPE_CHECKING
    assert "scanner.history.walk" in GRAPH["scanner.history.scan"]
    assert "scanner.encodings" in GRAPH["scanner.rules"]  # imported inside load's helper
    assert "scanner.rules" in GRAPH["scanner.decode"]  # TYPE_CHECKING only
    assert "scanner.history.pool" in GRAPH["scanner.commands.sweep"]  # inside a function


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        assert layer_of(module) in MAY_IMPORT


def test_every_name_in_the_layer_map_exists() -> None:
    # a renamed or deleted module must leave the map too, or the map stops saying what the code is
    stale = [pattern for patterns in LAYERS.values() for pattern in patterns
             if pattern.removesuffix(".*") not in MODULES]
    assert not stale


def test_no_import_cycles() -> None:
    found = cycles(GRAPH)
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_imports_point_down_the_layers(layer: str) -> None:
    upward = sorted(
        f"{module} ({layer}) imports {target} ({layer_of(target)})"
        for module, targets in GRAPH.items() if layer_of(module) == layer
        for target in targets if layer_of(target) not in MAY_IMPORT[layer]
    )
    assert not upward, "imports up the layers:\n" + "\n".join(upward)


def test_the_layer_map_says_what_the_readme_says() -> None:
    # "Sources know git but not rules; the detector knows rules but not git; reporters know findings only."
    assert not MAY_IMPORT["sources"] & {"rules", "detect", "history", "report", "app"}
    assert not MAY_IMPORT["detect"] & {"sources", "history", "report", "app"}
    assert not MAY_IMPORT["rules"] & {"detect", "sources", "history", "report", "app"}
    assert not MAY_IMPORT["report"] & {"rules", "detect", "sources", "history", "audit", "app"}
    assert layer_of("scanner.gitcmd") == "sources" and layer_of("scanner.history.walk") == "sources"
