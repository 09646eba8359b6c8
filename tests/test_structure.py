"""Structure rules for ``src/taskflow`` that import-linter does not check, read with ``ast``.

Issue 10's "done when": no import circle inside a package, no module importing another
module's private (``_name``) name, and no code reaching into another object's private
attributes. The checker reads the source without importing it, so a circle hidden behind a
function-local import or an ``if TYPE_CHECKING:`` block is seen like any other import.

The rules, as the checker applies them:

- A *package* is a directory. Every import counts, wherever it is written; a package's
  ``__init__.pyi`` counts as imports of that package, since the lazy ``__getattr__`` built
  from it (``taskflow._lazy``) imports those modules on first use. ``from p import x`` imports
  the module ``p.x`` when there is one, else ``p`` itself (its ``__init__``); importing
  ``p.x`` does not count as importing ``p`` (as in import-linter's graph).
- A private name belongs to its scope: a module's ``_name`` to that module, a private module
  ``p._m`` to the package ``p`` (and its subpackages), as Textual's ``widgets/_tree.py`` is
  re-exported by ``widgets/__init__.py``. A private attribute belongs to its object:
  ``expr._name`` is allowed on ``self``, ``cls``, ``super()`` and ``type(self)`` only. Not on
  another instance of the same class either: the issue counts ``client._handshake`` (a
  ``Client`` built by ``cls(...)`` in its own classmethod) as a reach-in, and a per-class
  exception, judged statically by the attribute's name, would also let any class read a
  same-named private of an unrelated object. (An inherited private reached through ``self``,
  such as a Textual base class's, is beyond what a static check can tell apart.)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from textwrap import dedent

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

#: Private names of the standard library that are a public API in practice, by full dotted
#: name (``os._exit``) or, where the receiver's type is unknown to a static check, by
#: attribute name alone.
ALLOWED_PRIVATES = {
    # Documented in the os module: the exit of a forked child that must skip atexit handlers
    # and buffered-stream flushing.
    "os._exit",
    # namedtuple's documented methods and fields, underscored only to stay clear of field
    # names (collections docs, "namedtuple"); typing.NamedTuple has the same ones.
    "_replace",
    "_asdict",
    "_fields",
    "_field_defaults",
    "_make",
    # CPython's C socket module, which `socket` wraps; the blocking client (the CLI's path)
    # uses it directly to skip `socket`'s enum set-up at every start-up, a cost
    # tests/protocol/test_protocol_import_cost.py guards. Stable since Python 2.
    "_socket",
    # Textual defines FooterKey (one key of the footer) only in textual.widgets._footer and
    # exports the Footer around it; KeyFooter lays out the same keys (tui/widgets/key_footer.py).
    "textual.widgets._footer.FooterKey",
}


# --- reading the tree ---------------------------------------------------------------------


@dataclass(frozen=True)
class Module:
    """One module of the tree: its dotted name, the directory it lives in, its parsed code."""

    name: str
    package: str  # the directory, dotted: ``taskflow.engine`` for ``engine/__init__.py`` too
    path: str
    tree: ast.Module
    stub: ast.Module | None = None  # ``__init__.pyi`` beside a package's ``__init__.py``


@dataclass(frozen=True)
class Edge:
    """``source`` imports ``target``, at ``path:line``."""

    source: str
    target: str
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} ({self.path}:{self.line})"


def parse_modules(files: Mapping[str, str]) -> dict[str, Module]:
    """``files`` maps a path under ``src`` (``taskflow/engine/engine.py``) to its source."""
    modules: dict[str, Module] = {}
    for path, source in files.items():
        if not path.endswith(".py"):
            continue
        parts = path.removesuffix(".py").split("/")
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        stub_source = files.get(path + "i") if is_package else None
        modules[name] = Module(
            name=name,
            package=".".join(parts[:-1]),
            path=f"src/{path}",
            tree=ast.parse(source, path),
            stub=ast.parse(stub_source, path + "i") if stub_source is not None else None,
        )
    return modules


def read_source_tree(root: Path = SRC / "taskflow") -> dict[str, Module]:
    """The package at ``root`` (``src/taskflow``), every module and ``__init__.pyi`` in it."""
    files = {
        str(path.relative_to(root.parent)): path.read_text(encoding="utf-8")
        for pattern in ("*.py", "__init__.pyi")
        for path in root.rglob(pattern)
    }
    return parse_modules(files)


def is_private(name: str) -> bool:
    """``_name``, not a dunder such as ``__init__`` or ``__version__``."""
    return name.startswith("_") and not name.startswith("__")


def import_base(module: Module, node: ast.ImportFrom) -> str:
    """The absolute module that ``from ... import`` reads from."""
    if node.level == 0:
        return node.module or ""
    anchor = module.name if module.package == module.name else module.package
    parts = anchor.split(".")
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


@dataclass(frozen=True)
class Imported:
    """One name an import statement binds: ``import base as asname`` (``name`` None) or
    ``from base import name as asname``."""

    line: int
    base: str
    name: str | None
    asname: str | None


def imported_names(module: Module, tree: ast.Module) -> Iterator[Imported]:
    """Each import in ``tree``, wherever it is written, with relative ones made absolute."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Imported(node.lineno, alias.name, None, alias.asname)
        elif isinstance(node, ast.ImportFrom):
            base = import_base(module, node)
            for alias in node.names:
                yield Imported(node.lineno, base, alias.name, alias.asname)


def import_edges(modules: Mapping[str, Module]) -> list[Edge]:
    """Every import of one of ``modules`` by another, resolved to the module it loads."""
    edges: dict[tuple[str, str], Edge] = {}  # the first import of a target stands for all
    for module in modules.values():
        for tree, path in ((module.tree, module.path), (module.stub, module.path + "i")):
            if tree is None:
                continue
            for imp in imported_names(module, tree):
                submodule = f"{imp.base}.{imp.name}"
                target = submodule if imp.name is not None and submodule in modules else imp.base
                if target in modules and target != module.name:
                    edge = Edge(module.name, target, path, imp.line)
                    edges.setdefault((edge.source, edge.target), edge)
    return list(edges.values())


# --- (a) import circles -------------------------------------------------------------------


def strongly_connected(nodes: set[str], edges: list[Edge]) -> list[list[str]]:
    """Tarjan's components of the graph, those with more than one module, sorted."""
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for edge in edges:
        succ[edge.source].append(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:  # recursion depth is bounded by the package's size
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in succ[node]:
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
                components.append(sorted(component))

    for node in sorted(nodes):
        if node not in index:
            visit(node)
    return sorted(components)


def example_cycle(component: list[str], edges: list[Edge]) -> list[Edge]:
    """A shortest circle through the component's first module (breadth first)."""
    inside = set(component)
    start = component[0]
    came_by: dict[str, Edge] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for edge in edges:
                if edge.source != node or edge.target not in inside:
                    continue
                if edge.target == start:
                    path = [edge]
                    while path[0].source != start:
                        path.insert(0, came_by[path[0].source])
                    return path
                if edge.target not in came_by:
                    came_by[edge.target] = edge
                    following.append(edge.target)
        frontier = following
    raise AssertionError(f"no circle in component {component}")  # Tarjan said there was one


def describe_circle(component: list[str], edges: list[Edge]) -> str:
    """The component's modules and one circle through them, an import per line."""
    steps = "\n".join(f"    {edge}" for edge in example_cycle(component, edges))
    return f"{', '.join(component)} import each other; one circle:\n{steps}"


def circles_inside_packages(modules: Mapping[str, Module]) -> list[str]:
    """Modules of one package (directory) importing each other in a circle."""
    edges = import_edges(modules)
    offences = []
    for package in sorted({m.package for m in modules.values()}):
        members = {m.name for m in modules.values() if m.package == package}
        inside = [e for e in edges if e.source in members and e.target in members]
        for component in strongly_connected(members, inside):
            offences.append(f"{package}: {describe_circle(component, inside)}")
    return offences


def circles_across_packages(modules: Mapping[str, Module]) -> list[str]:
    """Circles whose modules live in more than one package."""
    edges = import_edges(modules)
    offences = []
    for component in strongly_connected(set(modules), edges):
        packages = sorted({modules[name].package for name in component})
        if len(packages) > 1:
            offences.append(f"across {', '.join(packages)}: {describe_circle(component, edges)}")
    return offences


# --- (b) private names imported -----------------------------------------------------------


def in_order(offences: list[tuple[str, int, str]]) -> list[str]:
    """``path:line: what`` lines, by file and then by line number."""
    return [f"{path}:{line}: {what}" for path, line, what in sorted(offences)]


def owner_of_private(dotted: str) -> tuple[str, str] | None:
    """The first private part of ``dotted`` and the scope it belongs to, if it has one."""
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        if is_private(part):
            return part, ".".join(parts[:i])
    return None


def within(module: Module, scope: str) -> bool:
    """Whether ``module`` may use a private name that belongs to ``scope``."""
    return module.name == scope or module.name.startswith(scope + ".")


def private_imports(modules: Mapping[str, Module]) -> list[str]:
    """``from m import _name``, ``import p._m`` or ``m._name`` outside the name's owner."""
    offences: list[tuple[str, int, str]] = []
    for module in modules.values():
        for imp in imported_names(module, module.tree):
            dotted = imp.base if imp.name is None else f"{imp.base}.{imp.name}"
            private = owner_of_private(dotted)
            if private is None or dotted in ALLOWED_PRIVATES:
                continue
            part, scope = private
            if not within(module, scope):
                owner = scope or "the top level (a private module)"
                offences.append((module.path, imp.line, f"imports {part}, private to {owner}"))
        offences.extend(
            (module.path, line, f"uses {dotted}, private to {owner}")
            for line, dotted, owner in ReachFinder(module, modules).module_privates
        )
    return in_order(offences)


# --- (c) private attributes reached -------------------------------------------------------


def module_bindings(module: Module) -> dict[str, str]:
    """The names ``module`` binds to modules (or their names), by what they stand for."""
    bindings = {}
    for imp in imported_names(module, module.tree):
        if imp.name is not None:
            bindings[imp.asname or imp.name] = f"{imp.base}.{imp.name}"
        elif imp.asname is not None:
            bindings[imp.asname] = imp.base
        else:  # ``import a.b`` binds ``a``
            head = imp.base.split(".")[0]
            bindings[head] = head
    return bindings


def dotted_name(expr: ast.expr) -> str | None:
    """``a.b.c`` for a chain of plain names, else None."""
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        inner = dotted_name(expr.value)
        return None if inner is None else f"{inner}.{expr.attr}"
    return None


def is_own_object(expr: ast.expr) -> bool:
    """``self``, ``cls``, ``super()`` or ``type(self)``: the code's own object or class."""
    if isinstance(expr, ast.Name):
        return expr.id in ("self", "cls")
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
        if expr.func.id == "super":
            return True
        return expr.func.id == "type" and len(expr.args) == 1 and is_own_object(expr.args[0])
    return False


@dataclass
class ReachFinder(ast.NodeVisitor):
    """Private attribute accesses in one module, split by what the receiver is."""

    module: Module
    modules: Mapping[str, Module]
    #: (line, ``module._name``, owning module): a module of ours read for a private name.
    module_privates: list[tuple[int, str, str]] = field(default_factory=list)
    #: (line, the access as written): any other object's private attribute.
    reaches: list[tuple[int, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.bindings = module_bindings(self.module)
        self.visit(self.module.tree)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.generic_visit(node)
        self.check(node, node.value, node.attr)

    def visit_Call(self, node: ast.Call) -> None:
        """``getattr(obj, "_name")`` and its kin are the same reach, spelled as a string."""
        self.generic_visit(node)
        if (
            isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr", "delattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            self.check(node, node.args[0], node.args[1].value)

    def check(self, node: ast.expr, receiver: ast.expr, attr: str) -> None:
        if not is_private(attr) or is_own_object(receiver):
            return
        head, _, rest = (dotted_name(receiver) or "").partition(".")
        meant = self.bindings.get(head)  # what an imported name stands for: ``os``, ``pkg.a``
        imported = ".".join(p for p in (meant, rest) if p) if meant else None
        if f"{imported}.{attr}" in ALLOWED_PRIVATES or attr in ALLOWED_PRIVATES:
            return
        if imported is not None and imported in self.modules:
            if not within(self.module, imported):
                self.module_privates.append((node.lineno, f"{imported}.{attr}", imported))
        else:
            self.reaches.append((node.lineno, ast.unparse(node)))


def private_reaches(modules: Mapping[str, Module]) -> list[str]:
    """``expr._name`` where ``expr`` is neither the code's own object nor a module of ours."""
    offences = [
        (module.path, line, f"reaches into {access}")
        for module in modules.values()
        for line, access in ReachFinder(module, modules).reaches
    ]
    return in_order(offences)


# --- the tree's structure -----------------------------------------------------------------


def report(offences: list[str], what: str) -> str:
    """The assertion message: how many, then one offence per line."""
    return f"{len(offences)} {what}:\n" + "\n".join(offences)


@pytest.fixture(scope="module")
def source_tree() -> dict[str, Module]:
    return read_source_tree()


def test_no_import_circle_inside_a_package(source_tree: dict[str, Module]) -> None:
    offences = circles_inside_packages(source_tree)
    assert not offences, report(offences, "import circles inside a package")


def test_no_import_circle_across_packages(source_tree: dict[str, Module]) -> None:
    offences = circles_across_packages(source_tree)
    assert not offences, report(offences, "import circles across packages")


def test_no_module_imports_another_modules_private_name(source_tree: dict[str, Module]) -> None:
    offences = private_imports(source_tree)
    assert not offences, report(offences, "imports of another module's private name")


def test_no_code_reaches_into_another_objects_private_attribute(source_tree: dict[str, Module]) -> None:
    offences = private_reaches(source_tree)
    assert not offences, report(offences, "reaches into another object's private attribute")


# --- the checker itself, on small trees ---------------------------------------------------


def tree(files: dict[str, str]) -> dict[str, Module]:
    """A tree from ``{"pkg/a": source}``: ``.py`` implied, ``pkg/__init__`` empty unless given."""
    sources = {"pkg/__init__": "", **files}
    return parse_modules({f"{path}.py": dedent(code) for path, code in sources.items()})


def test_checker_finds_a_circle_through_a_function_local_import():
    modules = tree({
        "pkg/a": "from pkg import b\n",
        "pkg/b": "import pkg.c\n",
        "pkg/c": "def late():\n    from . import a\n",
    })
    (offence,) = circles_inside_packages(modules)
    assert offence.startswith("pkg: pkg.a, pkg.b, pkg.c import each other")
    assert "pkg.c -> pkg.a (src/pkg/c.py:2)" in offence


def test_checker_finds_a_circle_behind_type_checking_and_through_the_package_init():
    modules = tree({
        "pkg/__init__": "from pkg.a import A\n",
        "pkg/a": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import B\n",
    })
    (offence,) = circles_inside_packages(modules)
    assert "pkg.a -> pkg (src/pkg/a.py:3)" in offence


def test_checker_counts_a_lazy_package_stub_as_the_package_importing():
    modules = parse_modules({
        "pkg/__init__.py": "from taskflow._lazy import stub_exports\n",
        "pkg/__init__.pyi": "from pkg.a import A as A\n",
        "pkg/a.py": "from pkg import B\n",
    })
    (offence,) = circles_inside_packages(modules)
    assert "pkg -> pkg.a (src/pkg/__init__.pyi:1)" in offence


def test_checker_passes_a_chain_and_tells_circles_across_packages_apart():
    modules = tree({
        "pkg/a": "from pkg.b import f\n",
        "pkg/b": "from .c import g\nfrom pkg.sub.x import h\n",
        "pkg/c": "import os\n",
        "pkg/sub/__init__": "",
        "pkg/sub/x": "from ..b import f\n",
    })
    assert circles_inside_packages(modules) == []
    (offence,) = circles_across_packages(modules)
    assert offence.startswith("across pkg, pkg.sub: pkg.b, pkg.sub.x import each other")


def test_checker_finds_private_names_imported_or_read_from_a_module():
    modules = tree({
        "pkg/a": "_dt = 1\n",
        "pkg/b": "from pkg.a import _dt\n",
        "pkg/c": "import pkg.a\nx = pkg.a._dt\n",
        "pkg/d": "from pkg import a\nx = a._dt\n",
        "pkg/_m": "",
        "other/e": "from pkg import _m\n",
    })
    assert private_imports(modules) == [
        "src/other/e.py:1: imports _m, private to pkg",
        "src/pkg/b.py:1: imports _dt, private to pkg.a",
        "src/pkg/c.py:2: uses pkg.a._dt, private to pkg.a",
        "src/pkg/d.py:2: uses pkg.a._dt, private to pkg.a",
    ]


def test_checker_passes_a_private_module_used_inside_its_package():
    modules = tree({"pkg/_m": "def f(): pass\n", "pkg/sub/a": "from pkg._m import f\n"})
    assert private_imports(modules) == []


def test_checker_finds_reaches_into_other_objects():
    modules = tree({
        "pkg/a": """\
        class Recovery:
            def __init__(self, engine):
                self._engine = engine

            def run(self, timer):
                self._engine._seq += 1
                timer._watch()
                getattr(timer, "_armed", None)

            @classmethod
            def connect(cls):
                recovery = cls(None)
                recovery._handshake()
        """
    })
    assert private_reaches(modules) == [
        "src/pkg/a.py:6: reaches into self._engine._seq",
        "src/pkg/a.py:7: reaches into timer._watch",
        "src/pkg/a.py:8: reaches into getattr(timer, '_armed', None)",
        "src/pkg/a.py:13: reaches into recovery._handshake",
    ]


def test_checker_passes_own_privates_and_allowed_ones():
    modules = tree({
        "pkg/a": """\
        import os
        from collections import namedtuple

        class Key:
            _cache = {}

            def __init__(self, key):
                self._key = key

            def __eq__(self, other):
                return self._key == other.key and super()._x and type(self)._cache

            def dispose(self):
                getattr(self, "_key", None)

            @classmethod
            def make(cls):
                return cls._cache

        def quit(point):
            point._replace(x=1)
            os._exit(1)
        """
    })
    assert private_reaches(modules) == []
    assert private_imports(modules) == []
