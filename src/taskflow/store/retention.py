"""Retention: forget old finished run trees (with their output) and old audit entries.

Only whole root trees go, and only when every run in them is terminal, so history never
shows a half tree and crash recovery never loses a run it must reconcile. Rows are deleted
through the writer (one transaction); output directories are removed afterwards in a
thread, so a slow disk never stalls the event loop.

Audit entries go by age alone (``audit_days``, independent of run retention: they are the
security record), in chunks of ``AUDIT_CHUNK`` rows per transaction, so a first sweep over
years of entries never holds the writer for long. Deleting rows never frees their ids: the
table is ``AUTOINCREMENT``, so ``sqlite_sequence`` remembers the highest id even when every
row is gone.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import NamedTuple

from taskflow.model import TERMINAL_STATES, RetentionConfig
from taskflow.store.readers import ReaderPool
from taskflow.store.rows import ACTIVE_SQL, OutputDirs, sql_in, to_ts
from taskflow.store.writer import Write

_TERMINAL_SQL = sql_in(TERMINAL_STATES)

# Root runs past their age or past the newest `per_task` of their task, with no live run left.
_CANDIDATES = f"""
WITH roots AS (
    SELECT id, state, coalesce(finished_at, created_at) AS ended,
           row_number() OVER (PARTITION BY task ORDER BY id DESC) AS rank
    FROM runs WHERE parent_id IS NULL
)
SELECT id FROM roots
WHERE state IN {_TERMINAL_SQL}
  AND ((?1 IS NOT NULL AND ended < ?1) OR (?2 IS NOT NULL AND rank > ?2))
  AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.root_id = roots.id AND r.state IN {ACTIVE_SQL})
ORDER BY id
"""
# The guard is repeated in the deletes: a tree that came back to life since the read stays.
_STILL_DEAD = f"NOT EXISTS (SELECT 1 FROM runs WHERE root_id = ?1 AND state IN {ACTIVE_SQL})"
DELETE_TREE_ATTEMPTS = (
    f"DELETE FROM attempts WHERE run_id IN (SELECT id FROM runs WHERE root_id = ?1) AND {_STILL_DEAD}"
)
DELETE_TREE_RUNS = f"DELETE FROM runs WHERE root_id = ?1 AND {_STILL_DEAD}"
_CHUNK = 400  # well under SQLite's bound-parameter limit

# Oldest first along the `audit_at` index, so each chunk is a short range scan.
_OLD_AUDIT = "SELECT id FROM audit WHERE at < ?1 ORDER BY at, id LIMIT ?2"
DELETE_AUDIT = "DELETE FROM audit WHERE id = ?1"
AUDIT_CHUNK = 2000  # rows per transaction: a few milliseconds of the writer's time


class Pruned(NamedTuple):
    """What one retention sweep deleted."""

    roots: int  # root runs, each with its whole tree
    audit_entries: int


async def prunable_roots(
    db: ReaderPool, retention: RetentionConfig, now: datetime
) -> list[str]:
    """Ids of the root runs whose trees retention lets go."""
    if retention.days is None and retention.per_task is None:
        return []
    cutoff = None if retention.days is None else to_ts(now) - retention.days * 86400.0
    rows = await db.fetchall(_CANDIDATES, (cutoff, retention.per_task))
    return [row[0] for row in rows]


async def output_dirs(db: ReaderPool, root_ids: list[str], stored: OutputDirs) -> list[str]:
    """Output directories of every attempt in the given trees."""
    dirs: list[str] = []
    for start in range(0, len(root_ids), _CHUNK):
        chunk = root_ids[start : start + _CHUNK]
        rows = await db.fetchall(
            "SELECT a.run_id, a.number, a.output_dir FROM attempts a JOIN runs r ON r.id = a.run_id "
            f"WHERE a.output_dir IS NOT NULL AND r.root_id IN ({', '.join('?' * len(chunk))})",
            tuple(chunk),
        )
        dirs.extend(path for run_id, number, dir in rows if (path := stored.unpack(run_id, number, dir)))
    return dirs


def tree_deletes(root_ids: Iterable[str]) -> list[Write]:
    """The writer rows that delete these trees (attempts first, then runs)."""
    writes: list[Write] = [(DELETE_TREE_ATTEMPTS, root, (root,)) for root in root_ids]
    writes += [(DELETE_TREE_RUNS, root, (root,)) for root in root_ids]
    return writes


def audit_cutoff(retention: RetentionConfig, now: datetime) -> float | None:
    """Unix time before which audit entries go; ``None`` when they are kept forever."""
    if retention.audit_days is None:
        return None
    return to_ts(now) - retention.audit_days * 86400.0


async def old_audit_ids(db: ReaderPool, cutoff: float) -> list[int]:
    """Ids of up to ``AUDIT_CHUNK`` audit entries written before ``cutoff``, oldest first."""
    rows = await db.fetchall(_OLD_AUDIT, (cutoff, AUDIT_CHUNK))
    return [row[0] for row in rows]


def audit_deletes(ids: Iterable[int]) -> list[Write]:
    """The writer rows that delete these audit entries."""
    return [(DELETE_AUDIT, audit_id, (audit_id,)) for audit_id in ids]


async def remove_output(dirs: list[str], under: str | None) -> None:
    """Delete output directories off the event loop; only inside ``under`` when given."""
    await asyncio.to_thread(_remove_all, dirs, _inside(under))


def _inside(under: str | None) -> Callable[[str], bool]:
    base = None if under is None else os.path.realpath(under)

    def allowed(path: str) -> bool:
        if not os.path.isabs(path) or os.path.dirname(path) == path:
            return False  # never a relative path or a filesystem root, whatever a row says
        if base is None:
            return True
        real = os.path.realpath(path)
        return real != base and real.startswith(base + os.sep)

    return allowed


def _remove_all(dirs: list[str], allowed: Callable[[str], bool]) -> None:
    for path in dirs:
        if allowed(path):
            shutil.rmtree(path, ignore_errors=True)
