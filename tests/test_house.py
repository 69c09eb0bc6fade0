"""The house's shape, read from the code with ``ast``: no import circle (counting imports inside
functions and under ``TYPE_CHECKING``), no import from a lower layer up to a higher one, the
render stage never simulating, reading or checking a run itself, and modules and functions
of a readable size: no module over 400 lines, no function over 60."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"

LAYERS: tuple[tuple[str, ...], ...] = (
    # the vocabulary: errors, enums, files written safely, escaping
    ("errors", "etf", "safe", "run", "ahead", "output"),
    # data: traces, topologies, what reads them
    ("trace", "tracefile", "dotscan", "dotast", "dotparse", "dotref", "topology", "reader",
     "importlog", "gen", "layout", "costs", "collect", "inputs"),
    # the model and what reads a run: the worm, the checker, the fold
    ("fold", "worm", "check", "views", "names", "report", "record", "attach", "assertion",
     "snapshots",
     "testing", "exports"),
    # a run ready to draw
    ("runs",),
    # the picture, then the outputs made of it
    ("render",),
    # what users call
    ("cli", "notebook", "pytest_plugin", "__main__", ""),
)
"""Module groups, lowest first: a module imports its own group's and lower groups' only
(``render`` is its package, ``""`` the package's ``__init__``)."""

NOT_FROM_RENDER = ("worm", "check", "reader", "record", "inputs", "importlog", "runs")
"""What the render stage never imports: it draws a run it is handed (``runs`` hands it one;
the scene-script entry point, :mod:`inkworm.render.scene`, asks it for its class's run)."""

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60



def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted((SRC / "inkworm").rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Each module's inkworm imports, wherever they are in it (a function, ``TYPE_CHECKING``);
    ``from inkworm import x`` names the module ``x`` when there is one, else the package."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                graph[name].update(a.name for a in node.names if a.name in modules)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, *([base] if base else [])])
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    if full in modules:
                        graph[name].add(full)
                    elif base in modules:
                        graph[name].add(base)
        graph[name].discard(name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                part = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    part.append(top)
                    if top == node:
                        break
                if len(part) > 1:
                    found.append(sorted(part))
    return found


def _group(module: str) -> str:
    return module.removeprefix("inkworm").removeprefix(".").split(".")[0]


def _layer(module: str) -> int:
    group = _group(module)
    for k, layer in enumerate(LAYERS):
        if group in layer:
            return k
    raise AssertionError(f"{module} is in no layer of tests/test_house.py: add it to one")


def test_the_cycle_finder_finds_a_circle_and_a_hidden_one() -> None:
    """The finder itself: a three-module circle, and one closed by an import in a function."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    assert cycles({"x": {"y"}, "y": {"x"}}) == [["x", "y"]]


def test_no_import_circle_in_src() -> None:
    graph = import_graph()
    assert "inkworm.render.timeline" in graph and graph["inkworm.render.story"]
    assert cycles(graph) == []


def test_every_import_goes_down_the_layers() -> None:
    graph = import_graph()
    upward = sorted(f"{m} -> {d}" for m, deps in graph.items() for d in deps
                    if _layer(d) > _layer(m))
    assert upward == []


def test_the_render_stage_never_simulates_reads_or_checks() -> None:
    graph = import_graph()
    leaks = sorted(f"{m} -> {d}" for m, deps in graph.items() if _group(m) == "render"
                   for d in deps if _group(d) in NOT_FROM_RENDER
                   and not (m == "inkworm.render.scene" and d == "inkworm.runs"))
    assert leaks == []


def _rel(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


def test_no_module_is_over_400_lines() -> None:
    long = {_rel(p): n for p in _modules().values()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def test_no_function_is_over_60_lines() -> None:
    long = {}
    for path in _modules().values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and \
                    node.end_lineno is not None and \
                    (lines := node.end_lineno - node.lineno + 1) > MAX_FUNCTION_LINES:
                long[f"{_rel(path)}:{node.name}"] = lines
    assert long == {}


def test_every_event_kind_has_a_stepper() -> None:
    """The story's table covers the trace format: a new kind without a stepper is an error
    in render (:func:`~inkworm.render.steps.step_at`), and this test names it first."""
    from inkworm.render.steps import STEPPERS, step_at
    from inkworm.trace import EVENT_CLASSES, Event
    from inkworm.views import RunState

    assert set(EVENT_CLASSES.values()) == set(STEPPERS)

    class Unknown(Event):
        pass

    with pytest.raises(TypeError, match="no step for a Unknown event"):
        step_at([Unknown.__new__(Unknown)], 0, RunState(), "a")
