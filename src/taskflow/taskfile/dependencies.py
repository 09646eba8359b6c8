"""Resolving ``depends_on`` between siblings and finding dependency cycles.

Dependencies only ever name siblings (tasks with the same parent), so a group is a closed
unit: triggering ``nightly`` or reloading one file never needs another file's tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from taskflow.model import Dependency
from taskflow.taskfile.fields import INVALID, as_bool, as_str
from taskflow.taskfile.problems import Problems, child_path


@dataclass(frozen=True)
class DeclaredDependency:
    """One ``depends_on`` entry as written, with the key path to blame."""

    name: str
    required: bool
    path: str


def parse_depends_on(value: Any, path: str, problems: Problems) -> list[DeclaredDependency] | Any:
    """``["backup"]`` or ``[{ task = "backup", required = false }]`` (forms may be mixed)."""
    if not isinstance(value, list):
        problems.wrong_type(path, "a list of task names", value)
        return INVALID
    out: list[DeclaredDependency] = []
    ok = True
    for index, item in enumerate(value):
        item_path = child_path(path, index)
        if isinstance(item, dict):
            problems.unknown_keys(item_path, item, ("task", "required"))
            if "task" not in item:
                problems.add(item_path, 'missing key "task"')
                ok = False
                continue
            name = as_str(item["task"], child_path(item_path, "task"), problems)
            required = as_bool(item.get("required", True), child_path(item_path, "required"),
                               problems)
            if name is INVALID or required is INVALID:
                ok = False
                continue
            out.append(DeclaredDependency(name, required, item_path))
        else:
            name = as_str(item, item_path, problems)
            if name is INVALID:
                ok = False
                continue
            out.append(DeclaredDependency(name, True, item_path))
    return out if ok else INVALID


def resolve_siblings(
    parent: str | None,
    siblings: Sequence[str],
    declared: dict[str, list[DeclaredDependency]],
    all_names: Sequence[str],
    problems: Problems,
) -> dict[str, tuple[Dependency, ...]]:
    """Full-name dependencies of each sibling, reporting unknown, foreign and repeated names.

    ``siblings`` are the full names of one parent's children in file order; ``all_names`` are
    every task of the file, used to say where a misplaced dependency actually lives.
    """
    prefix = f"{parent}/" if parent else ""
    by_short = {name[len(prefix):]: name for name in siblings}
    resolved: dict[str, tuple[Dependency, ...]] = {}
    for task in siblings:
        deps: list[Dependency] = []
        seen: set[str] = set()
        for dep in declared.get(task, []):
            target = by_short.get(dep.name) or (dep.name if dep.name in siblings else None)
            if target is None:
                problems.add(dep.path, _explain_unknown(dep.name, task, all_names))
                continue
            if target in seen:
                problems.add(dep.path, f'duplicate dependency "{dep.name}"')
                continue
            seen.add(target)
            deps.append(Dependency(task=target, required=dep.required))
        resolved[task] = tuple(deps)
    return resolved


def _explain_unknown(name: str, task: str, all_names: Sequence[str]) -> str:
    elsewhere = [n for n in all_names if n == name or n.rsplit("/", 1)[-1] == name]
    if not elsewhere:
        return f'unknown task "{name}"'
    where = ", ".join(elsewhere)
    return (
        f'"{name}" is not a sibling of "{task}" (it is {where}); '
        "depends_on names tasks with the same parent"
    )


def find_cycles(
    siblings: Sequence[str], edges: dict[str, tuple[Dependency, ...]]
) -> list[list[str]]:
    """Each dependency cycle among ``siblings`` once, as ``[a, b, c, a]``, starting from the
    member that comes first in file order."""
    order = {name: i for i, name in enumerate(siblings)}
    cycles: list[list[str]] = []
    seen_sets: set[frozenset[str]] = set()
    done: set[str] = set()

    def visit(node: str, stack: list[str], on_stack: set[str]) -> None:
        stack.append(node)
        on_stack.add(node)
        for dep in edges.get(node, ()):
            nxt = dep.task
            if nxt in on_stack:
                cycle = stack[stack.index(nxt):]
                key = frozenset(cycle)
                if key not in seen_sets:
                    seen_sets.add(key)
                    start = min(range(len(cycle)), key=lambda i: order[cycle[i]])
                    rotated = cycle[start:] + cycle[:start]
                    cycles.append(rotated + [rotated[0]])
            elif nxt not in done:
                visit(nxt, stack, on_stack)
        stack.pop()
        on_stack.discard(node)
        done.add(node)

    for name in siblings:
        if name not in done:
            visit(name, [], set())
    return cycles
