"""The architecture, checked: imports between plastix's modules go one way.

Every import statement of every module is read from the source (module level and inside
functions; imports under ``if TYPE_CHECKING:`` are for the type checker only and are left out).
``from package import name`` is followed through the package's ``__init__`` to the module that
defines ``name``, so a facade hides no cycle; a plain ``import plastix as px`` (what rules and
plugins write) imports the facade only. Then no module may import itself through others, and
each may import only from its own layer or the layers below it (``docs/architecture.rst``).
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: The layers, lowest first: a module may import from its own layer and those below.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("errors and version", ("plastix._errors", "plastix._version")),
    ("registry tables", ("plastix.registry._names", "plastix.registry._tables",
                         "plastix.registry.hookspecs")),
    ("rule-author layer", ("plastix._ops", "plastix._graph", "plastix._validate",
                           "plastix._rule")),
    ("backends", ("plastix.backends",)),
    ("registry", ("plastix.registry",)),
    ("compiler", ("plastix._compiler",)),
    ("runtime", ("plastix._runtime", "plastix.network")),
    ("public modules", ("plastix.torch", "plastix.distributed")),
    ("applications and rules", ("plastix._apps", "plastix.__main__", "plastix.learners")),
]


def _package_dirs() -> dict[str, Path]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    dirs = config["tool"]["setuptools"]["package-dir"]
    return {pkg: ROOT / folder for pkg, folder in dirs.items()}


def modules() -> dict[str, Path]:
    """Every module of the installed package, by dotted name (packages as their name)."""
    found: dict[str, Path] = {}
    for pkg, folder in _package_dirs().items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            found[".".join([pkg, *parts])] = path
    return found


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                lines.update(range(inner.lineno, (inner.end_lineno or inner.lineno) + 1))
    return lines


def imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, list[str]]]:
    """``(module, names)`` for each import in ``name``'s source: the imported module (dotted,
    resolved from relative form) and the names taken from it (empty for ``import x``)."""
    tree = ast.parse(path.read_text())
    skip = _type_checking_lines(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: list[tuple[str, list[str]]] = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            out.append((base, [a.name for a in node.names]))
    return out


def _defining(module: str, attr: str, known: dict[str, Path], seen: set[str]) -> str | None:
    """The module that defines ``module.attr``: a submodule, or where a package's
    ``__init__`` imported it from; None when the package defines it itself."""
    if f"{module}.{attr}" in known:
        return f"{module}.{attr}"
    path = known[module]
    if path.name != "__init__.py":
        return module
    if module in seen:
        return None
    for source, names in imports(module, path, known):
        if attr in names and source in known:
            return _defining(source, attr, known, seen | {module})
    return None  # defined in the facade itself


def edges() -> dict[str, set[str]]:
    """Module -> the plastix modules it imports (facades followed, see the module doc)."""
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        targets: set[str] = set()
        for source, names in imports(name, path, known):
            if source not in known:
                continue
            if not names:  # ``import plastix as px``: the facade only
                if known[source].name != "__init__.py":
                    targets.add(source)
                continue
            for attr in names:
                target = _defining(source, attr, known, set())
                if target is not None and target != name:
                    targets.add(target)
        graph[name] = targets
    return graph


def layer_of(module: str) -> int:
    best, index = -1, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, index = len(prefix), i
    return index


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(v: str) -> list[str] | None:
        state[v] = 1
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if state.get(w) == 1:
                return [*stack[stack.index(w):], w]
            if w not in state:
                found = visit(w)
                if found:
                    return found
        stack.pop()
        state[v] = 2
        return None

    for v in sorted(graph):
        if v not in state:
            found = visit(v)
            if found:
                return found
    return None


def test_the_walk_sees_the_known_imports() -> None:
    # the walker itself: a module-level, a function-level and a facade-followed import
    graph = edges()
    assert "plastix._graph" in graph["plastix._validate"]
    assert "plastix._compiler.lower" in graph["plastix._runtime.binding"]  # via the facade
    assert "plastix._runtime.io" in graph["plastix._runtime.binding"]  # inside a method
    assert graph["plastix.learners.spaic"] <= {"plastix.learners._pieces"}


def test_no_import_cycles() -> None:
    cycle = find_cycle(edges())
    assert cycle is None, " -> ".join(cycle or [])


def test_every_module_has_a_layer() -> None:
    assert [m for m in modules() if layer_of(m) < 0 and m != "plastix"] == []


def test_imports_go_down_the_layers_only() -> None:
    upward = sorted(f"{a} ({LAYERS[layer_of(a)][0]}) imports {b} ({LAYERS[layer_of(b)][0]})"
                    for a, targets in edges().items() for b in targets
                    if a != "plastix" and layer_of(b) > layer_of(a))
    assert upward == []


def test_the_compiler_uses_the_backends_package_interface() -> None:
    known = modules()
    private = [f"{m} imports {source}" for m, path in known.items()
               if m.startswith("plastix._compiler")
               for source, _ in imports(m, path, known) if source.startswith("plastix.backends._")]
    assert private == []


def test_rules_use_the_public_api_only() -> None:
    for module, path in modules().items():
        if not module.startswith("plastix.learners"):
            continue
        for source, _ in imports(module, path, modules()):
            if source.startswith("plastix"):
                assert source in ("plastix", "plastix.learners") \
                    or source.startswith("plastix.learners."), f"{module} imports {source}"
