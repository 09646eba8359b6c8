"""The read side: every query the daemon asks of the state database, returning Structs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from taskflow.model import Attempt, AuditEntry, BreakerState, Run, RunState, RunTree
from taskflow.store.readers import ReaderPool
from taskflow.store.rows import (
    ACTIVE_SQL,
    ATTEMPT_SELECT,
    AUDIT_SELECT,
    BREAKER_SELECT,
    RUN_SELECT,
    OutputDirs,
    from_ts,
    row_attempt,
    row_audit,
    row_breaker,
    row_run,
)


async def get_run(db: ReaderPool, run_id: str) -> Run | None:
    rows = await db.fetchall(f"SELECT {RUN_SELECT} FROM runs WHERE id = ?", (run_id,))
    return row_run(rows[0]) if rows else None


async def run_tree(db: ReaderPool, root_id: str, dirs: OutputDirs) -> RunTree | None:
    """The whole run tree under ``root_id``; children in creation order."""
    runs = await db.fetchall(
        f"SELECT {RUN_SELECT} FROM runs WHERE root_id = ? ORDER BY created_at, id", (root_id,)
    )
    if not runs:
        return None
    attempt_rows = await db.fetchall(
        f"SELECT {', '.join('a.' + c for c in ATTEMPT_SELECT.split(', '))} FROM attempts a "
        "JOIN runs r ON r.id = a.run_id WHERE r.root_id = ? ORDER BY a.run_id, a.number",
        (root_id,),
    )
    nodes = {row[0]: RunTree(run=row_run(row), attempts=[], children=[]) for row in runs}
    _attach_attempts(nodes, attempt_rows, dirs)
    root = nodes.get(root_id)
    if root is None:  # the root row itself is gone (pruned mid-read); nothing coherent to show
        return None
    for node in nodes.values():
        if node is root:
            continue
        # A child whose parent row is missing still belongs to this tree: hang it on the root.
        parent = nodes.get(node.run.parent_id or "", root)
        parent.children.append(node)
    return root


async def tree_skeleton(db: ReaderPool, root_id: str) -> list[tuple[str, str | None, str, str | None]]:
    """``(id, parent_id, state, skip_reason)`` of every run of a tree, in creation order:
    a big tree's shape without its runs' full rows, attempts or spec snapshots."""
    return await db.fetchall(
        "SELECT id, parent_id, state, skip_reason FROM runs WHERE root_id = ? ORDER BY created_at, id",
        (root_id,),
    )


async def runs_with_attempts(db: ReaderPool, run_ids: list[str], dirs: OutputDirs) -> list[RunTree]:
    """The runs ``run_ids`` (in that order, those that exist) with their attempts, no children."""
    nodes: dict[str, RunTree] = {}
    for at in range(0, len(run_ids), 500):  # SQLite's bound-parameter limit is 999 on old builds
        chunk = run_ids[at : at + 500]
        marks = ", ".join("?" * len(chunk))
        for row in await db.fetchall(f"SELECT {RUN_SELECT} FROM runs WHERE id IN ({marks})", tuple(chunk)):
            nodes[row[0]] = RunTree(run=row_run(row), attempts=[])
        rows = await db.fetchall(
            f"SELECT {ATTEMPT_SELECT} FROM attempts WHERE run_id IN ({marks}) ORDER BY run_id, number",
            tuple(chunk),
        )
        _attach_attempts(nodes, rows, dirs)
    return [nodes[run_id] for run_id in run_ids if run_id in nodes]


def _attach_attempts(nodes: dict[str, RunTree], rows: list[tuple[Any, ...]], dirs: OutputDirs) -> None:
    """Hang attempt rows (ordered by run and number) on their runs' nodes."""
    for row in rows:
        node = nodes.get(row[0])
        if node is not None:
            node.attempts.append(row_attempt(row, dirs))


async def list_runs(
    db: ReaderPool,
    *,
    state: RunState | None = None,
    task: str | None = None,
    roots_only: bool = False,
    limit: int = 100,
    before: str | None = None,
) -> list[Run]:
    """Run history newest first; ``before`` is the id of the last run of the previous page."""
    where: list[str] = []
    params: list[Any] = []
    if state is not None:
        where.append("state = ?")
        params.append(str(state))
    if task is not None:
        if roots_only:
            where.append("task = ?")
            params.append(task)
        else:
            # Descendants are named "task/child": a range on the task index, '0' follows '/'.
            where.append("(task = ? OR (task >= ? AND task < ?))")
            params.extend((task, task + "/", task + "0"))
    if roots_only:
        where.append("parent_id IS NULL")
    if before is not None:
        where.append("id < ?")
        params.append(before)
    clause = f"WHERE {' AND '.join(where)} " if where else ""
    params.append(max(0, limit))
    rows = await db.fetchall(
        f"SELECT {RUN_SELECT} FROM runs {clause}ORDER BY id DESC LIMIT ?", tuple(params)
    )
    return [row_run(row) for row in rows]


async def active_runs(db: ReaderPool) -> list[Run]:
    rows = await db.fetchall(
        f"SELECT {RUN_SELECT} FROM runs WHERE state IN {ACTIVE_SQL} ORDER BY id"
    )
    return [row_run(row) for row in rows]


async def attempts(db: ReaderPool, run_id: str, dirs: OutputDirs) -> list[Attempt]:
    rows = await db.fetchall(
        f"SELECT {ATTEMPT_SELECT} FROM attempts WHERE run_id = ? ORDER BY number", (run_id,)
    )
    return [row_attempt(row, dirs) for row in rows]


async def last_runs_by_task(db: ReaderPool) -> dict[str, Run]:
    """The newest run of every task, read at daemon start.

    A skip scan over the ``(task, id)`` index: each step seeks the next task name and that
    task's highest id, so the cost grows with the number of tasks, not with history (a
    ``GROUP BY task`` walks every index entry: a million finished runs made start-up slow).
    """
    rows = await db.fetchall(
        "WITH RECURSIVE tasks(name) AS ("
        " SELECT (SELECT min(task) FROM runs)"
        " UNION ALL SELECT (SELECT min(task) FROM runs WHERE task > tasks.name)"
        " FROM tasks WHERE tasks.name IS NOT NULL) "
        f"SELECT {RUN_SELECT} FROM runs WHERE id IN (SELECT (SELECT max(id) FROM runs"
        " WHERE task = tasks.name) FROM tasks WHERE tasks.name IS NOT NULL)"
    )
    return {row[1]: row_run(row) for row in rows}


async def task_states(db: ReaderPool) -> dict[str, tuple[bool, str | None]]:
    rows = await db.fetchall("SELECT task, enabled, reason FROM task_state ORDER BY task")
    return {task: (bool(enabled), reason) for task, enabled, reason in rows}


async def breakers(db: ReaderPool) -> list[BreakerState]:
    rows = await db.fetchall(f"SELECT {BREAKER_SELECT} FROM breakers ORDER BY service")
    return [row_breaker(row) for row in rows]


async def schedules(db: ReaderPool) -> dict[str, tuple[datetime | None, datetime | None]]:
    rows = await db.fetchall("SELECT task, last_fire, next_fire FROM schedules ORDER BY task")
    return {task: (from_ts(last), from_ts(nxt)) for task, last, nxt in rows}


async def audit(db: ReaderPool, limit: int = 100) -> list[AuditEntry]:
    rows = await db.fetchall(
        f"SELECT {AUDIT_SELECT} FROM audit ORDER BY id DESC LIMIT ?", (max(0, limit),)
    )
    return [row_audit(row) for row in rows]


async def counts_by_state(db: ReaderPool) -> dict[str, int]:
    """Runs by state, from the counts the schema's triggers keep (ten rows, any history)."""
    rows = await db.fetchall("SELECT state, n FROM run_counts WHERE n > 0")
    return dict(rows)


async def get_meta(db: ReaderPool, key: str) -> str | None:
    rows = await db.fetchall("SELECT value FROM meta WHERE key = ?", (key,))
    return rows[0][0] if rows else None


async def next_audit_id(db: ReaderPool) -> int:
    """The id the next audit entry gets: ids are handed out by the single writer's owner, so
    ``append_audit`` can answer without a round trip per entry."""
    rows = await db.fetchall(
        "SELECT max(coalesce((SELECT max(id) FROM audit), 0), "
        "coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'audit'), 0))"
    )
    return int(rows[0][0]) + 1
