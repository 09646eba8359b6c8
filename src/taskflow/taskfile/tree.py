"""Turning one file's ``[tasks]`` (and ``[defaults]``) into flat, resolved ``TaskSpec`` s.

The walk checks each key with ``fields``, builds the tree, resolves sibling dependencies,
then applies inheritance: ``[defaults]`` under every root, a group's inheritable settings
under its descendants, the nearest setting winning (``env`` and ``limits`` merge key by key).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from taskflow.model import Dependency, Limits, TaskSpec
from taskflow.model.config import DEFAULT_MAX_TREE_NODES
from taskflow.taskfile import fields as f
from taskflow.taskfile.dependencies import (
    DeclaredDependency,
    find_cycles,
    parse_depends_on,
    resolve_siblings,
)
from taskflow.taskfile.fields import INVALID
from taskflow.taskfile.placement import as_where
from taskflow.taskfile.problems import Problems, child_path

Checker = Callable[[Any, str, Problems], Any]

#: Settings a group (and ``[defaults]``) passes down to its descendants.
INHERITED: dict[str, Checker] = {
    "env": f.as_env,
    "cwd": f.as_str,
    "timeout": lambda v, p, pr: f.as_duration(v, p, pr, positive=True),
    "retries": f.as_retries,
    "service": f.as_str,
    "pool": f.as_str,
    "limits": f.as_limits,
    "on_open": lambda v, p, pr: f.as_choice(v, p, pr, ("wait", "fail")),
    "user": f.as_str,
    "priority": lambda v, p, pr: f.as_int(v, p, pr, low=0, high=3),
    "where": as_where,  # a group sends its whole tree to the cluster
}

#: Settings that belong to the node that sets them.
OWN: dict[str, Checker] = {
    "description": lambda v, p, pr: f.as_str(v, p, pr, empty_ok=True),
    "enabled": f.as_bool,
    "schedule": f.as_schedule,
    "expect": f.as_expectation,
    "tags": f.as_str_list,
    "run_if": lambda v, p, pr: f.as_choice(v, p, pr, ("all_done", "any_failed")),
}

LEAF_ONLY: dict[str, Checker] = {
    "command": f.as_command,
    "python": f.as_python_ref,
    "params": f.as_table,
}

TASK_KEYS = (*INHERITED, *OWN, *LEAF_ONLY, "depends_on", "children")

class _Budget:
    """Nodes left in the top-level tree being walked; reports the first node past the limit.

    The limit (``max_tree_nodes``) makes a generated file with a runaway tree fail at load,
    with its key path, instead of being expanded into specs and runs until memory runs out.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit
        self.exceeded = False

    def take(self, path: str, root: str, problems: Problems) -> bool:
        if self.left <= 0:
            if not self.exceeded:
                problems.add(path, f"tree {root} has more than {self.limit} nodes (the daemon "
                                   f"config's max_tree_nodes); split it or raise the limit")
                self.exceeded = True
            return False
        self.left -= 1
        return True


@dataclass
class _Node:
    name: str
    path: str
    parent: str | None
    settings: dict[str, Any] = field(default_factory=dict)
    declared: list[DeclaredDependency] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    is_group: bool = False


def parse_defaults(value: Any, problems: Problems) -> dict[str, Any]:
    """The ``[defaults]`` table: only inheritable settings make sense for every task."""
    table = f.as_table(value, "defaults", problems)
    if table is INVALID:
        return {}
    out: dict[str, Any] = {}
    for key, item in table.items():
        path = child_path("defaults", str(key))
        if key in INHERITED:
            converted = INHERITED[key](item, path, problems)
            if converted is not INVALID:
                out[key] = converted
        elif key in TASK_KEYS:
            allowed = ", ".join(sorted(INHERITED))
            problems.add(path, f'"{key}" cannot be a default (defaults may set: {allowed})')
        else:
            problems.unknown_keys("defaults", {key: item}, INHERITED)
    return out


def build_tasks(
    tasks: Any, defaults: dict[str, Any], source: str, problems: Problems,
    max_tree_nodes: int = DEFAULT_MAX_TREE_NODES,
) -> list[TaskSpec]:
    """Every task of the file, parents before children, in file order.

    A top-level tree with more than ``max_tree_nodes`` nodes (itself included) is an error
    at the first node past the limit; the walk of that tree stops there.
    """
    table = f.as_table(tasks, "tasks", problems)
    if table is INVALID:
        return []
    nodes: dict[str, _Node] = {}
    roots = _walk_children(table, "tasks", None, nodes, problems, max_tree_nodes)
    groups: list[tuple[str | None, list[str]]] = [(None, roots)]
    groups += [(n.name, n.children) for n in nodes.values() if n.is_group]
    deps = _resolve_dependencies(groups, nodes, problems)
    specs: list[TaskSpec] = []
    for root in roots:
        _emit(nodes[root], defaults, nodes, deps, source, specs)
    return specs


def _walk_children(
    table: dict[str, Any], path: str, parent: str | None, nodes: dict[str, _Node],
    problems: Problems, limit: int, budget: _Budget | None = None,
) -> list[str]:
    """The nodes of ``table``; at the top (``budget`` None) each root gets a fresh budget."""
    names: list[str] = []
    for key, value in table.items():
        node_path = child_path(path, str(key))
        if f.as_name(key, node_path, problems) is INVALID:
            continue
        if f.as_table(value, node_path, problems) is INVALID:
            continue
        tree = budget or _Budget(limit)
        if not tree.take(node_path, (parent or str(key)).split("/")[0], problems):
            break
        full = f"{parent}/{key}" if parent else key
        node = _Node(full, node_path, parent)
        nodes[full] = node
        names.append(full)
        _parse_node(node, value, nodes, problems, limit, tree)
    return names


def _parse_node(node: _Node, table: dict[str, Any], nodes: dict[str, _Node],
                problems: Problems, limit: int, budget: _Budget) -> None:
    problems.unknown_keys(node.path, table, TASK_KEYS)
    checkers = {**INHERITED, **OWN, **LEAF_ONLY}
    node.is_group = "children" in table
    for key, value in table.items():
        path = child_path(node.path, str(key))
        if key in checkers:
            if node.is_group and key in LEAF_ONLY:
                problems.add(path, f"a group (it has children) cannot have {key}")
                continue
            converted = checkers[key](value, path, problems)
            if converted is not INVALID:
                node.settings[key] = converted
        elif key == "depends_on":
            declared = parse_depends_on(value, path, problems)
            if declared is not INVALID:
                node.declared = declared
                if node.parent is None and declared:
                    problems.add(path, "a top-level task cannot have depends_on "
                                       "(dependencies name tasks with the same parent)")
    if node.is_group:
        children_path = child_path(node.path, "children")
        children = f.as_table(table["children"], children_path, problems)
        if children is not INVALID:
            if not children:
                problems.add(children_path, "a group needs at least one child")
            node.children = _walk_children(children, children_path, node.name, nodes, problems,
                                           limit, budget)
        return
    if "command" in table and "python" in table:
        problems.add(node.path, "has both command and python; a task runs exactly one")
    elif "command" not in table and "python" not in table:
        problems.add(node.path, "needs command or python (or children, to make it a group)")


def _resolve_dependencies(
    groups: list[tuple[str | None, list[str]]], nodes: dict[str, _Node], problems: Problems
) -> dict[str, tuple[Dependency, ...]]:
    all_names = list(nodes)
    resolved: dict[str, tuple[Dependency, ...]] = {}
    for parent, siblings in groups:
        if parent is None:
            continue  # top-level depends_on is already reported
        declared = {name: nodes[name].declared for name in siblings}
        edges = resolve_siblings(parent, siblings, declared, all_names, problems)
        resolved.update(edges)
        for cycle in find_cycles(siblings, edges):
            shown = " -> ".join(name.rsplit("/", 1)[-1] for name in cycle)
            problems.add(child_path(nodes[cycle[0]].path, "depends_on"),
                         f"dependency cycle: {shown}")
    return resolved


def _inherit(outer: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """The nearest setting wins; ``env`` and ``limits`` merge key by key."""
    merged = dict(outer)
    for key in INHERITED:
        if key not in own:
            continue
        if key == "env":
            merged["env"] = {**outer.get("env", {}), **own["env"]}
        elif key == "limits":
            base: Limits = outer.get("limits", Limits())
            mine: Limits = own["limits"]
            merged["limits"] = Limits(
                memory=mine.memory if mine.memory is not None else base.memory,
                cpu=mine.cpu if mine.cpu is not None else base.cpu,
            )
        else:
            merged[key] = own[key]
    return merged


def _emit(
    node: _Node, outer: dict[str, Any], nodes: dict[str, _Node],
    deps: dict[str, tuple[Dependency, ...]], source: str, out: list[TaskSpec],
) -> None:
    settings = _inherit(outer, node.settings)
    own = {k: v for k, v in node.settings.items() if k in OWN or k in LEAF_ONLY}
    if node.is_group:
        kind = "group"
    else:
        kind = "python" if "python" in own else "command"
    out.append(
        TaskSpec(
            name=node.name,
            kind=kind,
            parent=node.parent,
            children=tuple(node.children),
            depends_on=deps.get(node.name, ()),
            source=source,
            **settings,
            **own,
        )
    )
    for child in node.children:
        _emit(nodes[child], settings, nodes, deps, source, out)
