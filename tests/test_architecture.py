"""The package's shape: no import circles, and no module importing one above its layer.

Every ``import`` counts, also those inside functions (a lazy import is still a
dependency). The layers are the ones docs/architecture.md describes.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "summarizer"

#: Lowest first. A module belongs to the layer of its longest matching prefix
#: and may import its own layer and those below.
LAYERS: list[list[str]] = [
    # records and rules that everything may use
    ["summarizer._version", "summarizer.errors", "summarizer.flags", "summarizer.records",
     "summarizer.stopping", "summarizer.progress", "summarizer.options"],
    # configuration, files and pure text functions
    ["summarizer.config", "summarizer.io", "summarizer.text", "summarizer.locking"],
    # models, and the decisions taken from the configuration
    ["summarizer.models", "summarizer.routing", "summarizer.quality"],
    # what a run has to do, and the tasks over an engine
    ["summarizer.planning", "summarizer.skipping", "summarizer.sharing", "summarizer.tasks"],
    # the stages: processing, writing, reporting
    ["summarizer.processing", "summarizer.writing", "summarizer.sinks", "summarizer.reporting"],
    # executors and the library's other entry points
    ["summarizer.executors", "summarizer.evaluation", "summarizer.inspection", "summarizer.hub",
     "summarizer.bench"],
    # the job
    ["summarizer.pipeline"],
    # the command line and the public API
    ["summarizer.commands", "summarizer.cli", "summarizer.__main__", "summarizer"],
]


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports, anywhere in its code."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target not in known and "." in target:
                target = target.rpartition(".")[0]
            if target in known and target != name and target.startswith("summarizer"):
                found.add(target)
    return found


def layer_of(name: str) -> int:
    matches = [
        (len(prefix), index)
        for index, prefixes in enumerate(LAYERS)
        for prefix in prefixes
        if name == prefix or name.startswith(prefix + ".")
    ]
    assert matches, f"{name} is in no layer: add it to LAYERS and docs/architecture.md"
    return max(matches)[1]


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def test_no_import_circles() -> None:
    edges = graph()
    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(edges[name]):
            if state.get(target) == 1:
                circles.append(path[path.index(target):] + [target] if target in path else [name, target])
            elif not state.get(target):
                visit(target, [*path, target])
        state[name] = 2

    for name in sorted(edges):
        if not state.get(name):
            visit(name, [name])
    assert circles == [], "import circles: " + "; ".join(" -> ".join(c) for c in circles)


def test_no_module_imports_one_above_its_layer() -> None:
    upward = [
        f"{name} (layer {layer_of(name)}) imports {target} (layer {layer_of(target)})"
        for name, targets in sorted(graph().items())
        for target in sorted(targets)
        if name != "summarizer" and layer_of(target) > layer_of(name)
    ]
    assert upward == []


def test_the_layers_name_only_existing_modules() -> None:
    known = modules()
    for prefixes in LAYERS:
        for prefix in prefixes:
            assert prefix in known or any(name.startswith(prefix + ".") for name in known), prefix
