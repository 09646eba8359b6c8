"""``plan``'s picture of a tree a trigger would run: the summary, one line per node with
what it would get (and what would skip it) below it, then the order in waves.

    plan of deploy: 7 nodes, 6 leaves; on success 5 run in 5 waves; nothing runs now
    deploy  group
    ├── build  command  wave 1  timeout 2m  pool db (limit 2)
    │   ├── command: make VERSION=$TASKFLOW_PARAM_VERSION
    │   ├── expanded: make VERSION=1.4.2
    │   └── if it fails: skips migrate, release; runs rollback
    └── rollback  command  skipped: runs only if a dependency fails (release)
    order (every leaf assumed to succeed; a wave's leaves may start together):
      wave 1  build, docs
"""

from __future__ import annotations

import json
import textwrap

from rich.console import Group
from rich.text import Text
from rich.tree import Tree

from taskflow.cli.output import BREAKER_STYLES
from taskflow.model import format_duration
from taskflow.protocol import PlannedNode, TaskPlan

#: Names listed per wave (and in the "not on the happy path" lines) before "+N more".
NAMES_PER_LINE = 8


def plan_view(plan: TaskPlan) -> Group:
    """The whole picture: summary, tree (the nodes the plan holds), order."""
    parts: list[Text | Tree] = [_summary(plan)]
    if plan.nodes:
        parts.append(_tree(plan))
    if plan.next_offset is not None:
        more = plan.nodes_total - len(plan.nodes)
        parts.append(Text(f"… {more:,} more nodes not drawn (taskflow plan {plan.task} --all draws them, "
                          "--json lists them)", style="dim"))
    parts.extend(_order(plan))
    return Group(*parts)


def _summary(plan: TaskPlan) -> Text:
    waves = len(plan.waves)
    line = Text(f"plan of {plan.task}: ", style="bold")
    line.append(f"{_count(plan.nodes_total, 'node')}, {_count(plan.leaves, 'leaf', 'leaves')}; if every leaf "
                f"succeeds {plan.leaves_run:,} run in {_count(waves, 'wave')}")
    if plan.skipped:
        line.append(f", {plan.skipped:,} skipped")
    line.append(f"; {plan.max_workers} workers, {plan.executor} executor")
    if plan.params:
        line.append("\nparams: " + _pairs(plan.params))
    for held in plan.paused:
        line.append(f"\npaused now: {held} (queued runs would wait)", style="yellow")
    if plan.problems:
        line.append(f"\n{_count(plan.problems, 'leaf', 'leaves')} would fail before starting (see below)",
                    style="bold red")
    line.append("\nnothing was run or recorded", style="dim")
    return line


def _tree(plan: TaskPlan) -> Tree:
    root, *rest = plan.nodes
    view = Tree(_label(root, top=True), guide_style="dim")
    branches = {root.name: view}
    _details(view, root)
    for node in rest:
        parent = branches.get(node.parent or "", view)
        branch = parent.add(_label(node, top=False))
        branches[node.name] = branch
        _details(branch, node)
    return view


def _label(node: PlannedNode, *, top: bool) -> Text:
    label = Text(node.name if top else node.name.rsplit("/", 1)[-1], style="bold" if node.runs else "dim")
    label.append(f"  {node.kind}", style="dim")
    if not node.runs:
        label.append(f"  skipped: {node.skip}", style="dim")
    elif node.wave is not None:
        label.append(f"  wave {node.wave}", style="cyan")
    if node.kind == "group":
        if node.paused:
            label.append(f"  paused: {node.paused}", style="yellow")
        return label
    facts: list[str] = []
    if node.priority != 2:
        facts.append(f"priority {node.priority}")
    if node.pool:
        facts.append(f"pool {node.pool}" + (f" (limit {node.pool_limit})" if node.pool_limit is not None else ""))
    facts.append(f"timeout {format_duration(node.timeout)}" if node.timeout is not None else "no timeout")
    if node.retries.max:
        on = f" on {', '.join(node.retries.on)}" if node.retries.on else ""
        facts.append(f"retries {node.retries.max}{on}")
    if node.runs_on == "cluster":
        facts.append("on the cluster")
    label.append("  " + "  ".join(facts))
    if node.service:
        label.append(f"  service {node.service} ")
        label.append(f"breaker {node.breaker}", style=BREAKER_STYLES.get(node.breaker or "", ""))
    if node.paused:
        label.append(f"  paused: {node.paused}", style="yellow")
    if node.problem:
        label.append(f"  would fail (config): {node.problem}", style="bold red")
    return label


def _details(branch: Tree, node: PlannedNode) -> None:
    """The lines below a node: its command, what it waits on, what its failure changes."""
    dim = "dim"
    if node.command is not None:
        shown = node.command if isinstance(node.command, str) else " ".join(node.command)
        branch.add(Text("command: ", style=dim).append(_block(shown), style=""))
    if node.expanded:
        branch.add(Text("expanded: ", style=dim).append(_block(node.expanded), style=""))
    if node.python:
        branch.add(Text("python: ", style=dim).append(f"{node.python}({_pairs(node.params)})", style=""))
    elif node.param_env:
        branch.add(Text("env: ", style=dim).append(" ".join(f"{k}={v}" for k, v in node.param_env.items()), style=""))
    if node.depends_on and node.parent is None:
        # Triggering one node of a tree runs it alone: its dependencies neither run nor gate.
        names = _names([dep.task.rsplit("/", 1)[-1] for dep in node.depends_on], "and")
        branch.add(Text(f"depends on {names}, which a trigger of {node.name} alone neither runs nor waits for",
                        style=dim))
    elif node.depends_on:
        short = [(dep.task.rsplit("/", 1)[-1], dep.required) for dep in node.depends_on]
        if node.run_if == "any_failed":
            text = "runs only if one of these does not succeed: " + _names([name for name, _ in short])
        else:
            required = [name for name, req in short if req]
            optional = [name for name, req in short if not req]
            text = f"skipped if {_names(required, 'or')} does not succeed" if required else ""
            if optional:
                text += ("; " if text else "") + f"waits for {_names(optional, 'and')} (optional: only orders)"
        branch.add(Text(text, style=dim))
    if node.breaker_note:
        branch.add(Text(f"breaker: {node.breaker_note}", style=BREAKER_STYLES.get(node.breaker or "", "")))
    if node.where is not None:
        where = [f"workers {', '.join(node.where.workers)}"] if node.where.workers else []
        where += [f"{k}={v:g}" for k, v in sorted(node.where.resources.items())]
        branch.add(Text("where: " + ("; ".join(where) or "any worker"), style=dim))
    if node.runs and (node.if_fails_skips or node.if_fails_runs):
        parts = []
        if node.if_fails_skips:
            parts.append("skips " + ", ".join(node.if_fails_skips))
        if node.if_fails_runs:
            parts.append("runs " + ", ".join(node.if_fails_runs))
        more = " and more" if node.if_fails_more else ""
        branch.add(Text(f"if it fails: {'; '.join(parts)}{more}", style=dim))


def _order(plan: TaskPlan) -> list[Text]:
    """The waves, named from the nodes the plan holds, counted from the whole tree."""
    if not plan.waves:
        return [Text("order: nothing would run", style="bold")]
    by_wave: dict[int, list[str]] = {}
    for node in plan.nodes:
        if node.wave is not None:
            by_wave.setdefault(node.wave, []).append(_relative(plan.task, node.name))
    out = [Text("order (every leaf assumed to succeed; a wave's leaves may start together, "
                "pools and workers permitting):", style="bold")]
    for wave, count in enumerate(plan.waves, start=1):
        names = by_wave.get(wave, [])[:NAMES_PER_LINE]
        rest = count - len(names)
        line = Text(f"  wave {wave}  ", style="cyan")
        line.append(", ".join(names) if names else f"{count:,} leaves")
        if names and rest:
            line.append(f" +{rest:,} more", style="dim")
        out.append(line)
    off_path = [_relative(plan.task, n.name) for n in plan.nodes if not n.runs and n.run_if == "any_failed"]
    if off_path:
        out.append(Text("  only if something fails: ", style="dim").append(_capped(off_path)))
    return out


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _relative(root: str, name: str) -> str:
    return name.removeprefix(root + "/") if name != root else name


def _capped(names: list[str]) -> str:
    shown = ", ".join(names[:NAMES_PER_LINE])
    return shown + (f" +{len(names) - NAMES_PER_LINE:,} more" if len(names) > NAMES_PER_LINE else "")


def _names(names: list[str], joiner: str = "or") -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + f" {joiner} {names[-1]}"


def _pairs(params: dict[str, object]) -> str:
    return ", ".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in params.items())


def _block(text: str, max_lines: int = 12) -> str:
    """A command as written, its first ``max_lines`` lines (a script under a node should
    not push the rest of the tree off the screen)."""
    lines = textwrap.dedent(text).strip("\n").splitlines() or [""]
    shown = "\n".join(lines[:max_lines])
    return shown + (f"\n… (+{len(lines) - max_lines} more lines)" if len(lines) > max_lines else "")
