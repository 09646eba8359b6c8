"""The state database's schema and its migrations, keyed on ``PRAGMA user_version``.

``MIGRATIONS[i]`` turns schema ``i`` into schema ``i + 1``; a file at version ``v`` gets
steps ``v..`` applied in place, each in its own transaction together with the new
``user_version``, so a crash mid-upgrade leaves the file at a whole version. Adding a step
means appending one ``Migration``; never edit a released one. A file written by a newer
taskflow is refused rather than guessed at.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable, Sequence
from typing import NamedTuple

from taskflow.store.errors import StoreError

log = logging.getLogger("taskflow.store")


class Migration(NamedTuple):
    """One schema step: SQL statements, or a function for data rewrites SQL cannot express."""

    description: str
    apply: tuple[str, ...] | Callable[[sqlite3.Connection], None]


_V1 = (
    """CREATE TABLE runs (
        id TEXT PRIMARY KEY NOT NULL,
        task TEXT NOT NULL,
        root_id TEXT NOT NULL,
        parent_id TEXT,
        state TEXT NOT NULL,
        trigger TEXT NOT NULL,
        priority INTEGER NOT NULL,
        params TEXT,
        created_at REAL NOT NULL,
        started_at REAL,
        finished_at REAL,
        not_before REAL,
        error_type TEXT,
        skip_reason TEXT,
        message TEXT,
        exit_code INTEGER,
        result TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        progress REAL,
        progress_message TEXT,
        requested_by TEXT,
        spec BLOB
    )""",
    "CREATE INDEX runs_state ON runs (state)",
    # list_runs filters by task and pages newest first by id (a ULID, so creation order).
    "CREATE INDEX runs_task_created ON runs (task, id)",
    "CREATE INDEX runs_root ON runs (root_id)",
    # Root runs per task, newest first: `runs --roots`, `ls` and per-task retention.
    "CREATE INDEX runs_roots ON runs (task, id) WHERE parent_id IS NULL",
    """CREATE TABLE attempts (
        run_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        state TEXT NOT NULL,
        pid INTEGER,
        pid_started_at REAL,
        started_at REAL,
        finished_at REAL,
        exit_code INTEGER,
        signal INTEGER,
        error_type TEXT,
        message TEXT,
        peak_rss INTEGER,
        cpu_seconds REAL,
        output_dir TEXT,
        output_bytes INTEGER NOT NULL DEFAULT 0,
        output_cut INTEGER NOT NULL DEFAULT 0,
        result TEXT,
        PRIMARY KEY (run_id, number)
    )""",
    """CREATE TABLE task_state (
        task TEXT PRIMARY KEY NOT NULL,
        enabled INTEGER NOT NULL,
        reason TEXT,
        updated_at REAL,
        updated_by TEXT
    )""",
    """CREATE TABLE breakers (
        service TEXT PRIMARY KEY NOT NULL,
        status TEXT NOT NULL,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        opened_at REAL,
        half_open_at REAL,
        probe_run_id TEXT,
        tripped_by TEXT,
        updated_at REAL
    )""",
    """CREATE TABLE schedules (
        task TEXT PRIMARY KEY NOT NULL,
        last_fire REAL,
        next_fire REAL
    )""",
    """CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL,
        user TEXT NOT NULL,
        role TEXT NOT NULL,
        action TEXT NOT NULL,
        args TEXT NOT NULL,
        outcome TEXT NOT NULL
    )""",
    "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT)",
)

def _compact_history(conn: sqlite3.Connection) -> None:
    """Schema 3: fewer bytes per finished run, and counts by state that cost nothing to read.

    - ``attempts`` becomes a WITHOUT ROWID table clustered on its key (``run_id, number``):
      the separate key index, a second copy of every run id, goes.
    - An attempt's output folder in the usual place (``output/<run id>.<n>`` beside the
      database) is stored as ``''`` (see ``rows.OutputDirs``).
    - ``runs_roots`` goes: ``runs_task_created`` answers the same queries (a task name
      matched exactly is a root's; a child's name has its parent's as a prefix).
    - ``run_counts`` holds runs by state, kept by triggers in the same transaction as the
      row they count, so ``status`` reads ten rows, not the whole history.
    """
    path = conn.execute("PRAGMA database_list").fetchone()[2]
    root = os.path.join(os.path.dirname(os.path.abspath(path)), "output") if path else None
    columns = [row[1] for row in conn.execute("PRAGMA table_info(attempts)")]
    conn.execute(_ATTEMPTS_V3.replace("CREATE TABLE attempts", "CREATE TABLE attempts_v3"))
    listed = ", ".join(columns)
    picked = ", ".join(
        "CASE WHEN output_dir = ?1 || '/' || run_id || '.' || number THEN '' ELSE output_dir END"
        if column == "output_dir" else column
        for column in columns
    )
    conn.execute(f"INSERT INTO attempts_v3 ({listed}) SELECT {picked} FROM attempts", (root,))
    conn.execute("DROP TABLE attempts")
    conn.execute("ALTER TABLE attempts_v3 RENAME TO attempts")
    conn.execute("DROP INDEX IF EXISTS runs_roots")
    conn.execute("CREATE TABLE run_counts (state TEXT PRIMARY KEY NOT NULL, n INTEGER NOT NULL) WITHOUT ROWID")
    conn.execute("INSERT INTO run_counts SELECT state, count(*) FROM runs GROUP BY state")
    for statement in _RUN_COUNT_TRIGGERS:
        conn.execute(statement)


_ATTEMPTS_V3 = """CREATE TABLE attempts (
        run_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        state TEXT NOT NULL,
        pid INTEGER,
        pid_started_at REAL,
        started_at REAL,
        finished_at REAL,
        exit_code INTEGER,
        signal INTEGER,
        error_type TEXT,
        message TEXT,
        peak_rss INTEGER,
        cpu_seconds REAL,
        output_dir TEXT,
        output_bytes INTEGER NOT NULL DEFAULT 0,
        output_cut INTEGER NOT NULL DEFAULT 0,
        result TEXT,
        PRIMARY KEY (run_id, number)
    ) WITHOUT ROWID"""

# A state's row is created by its first run (the UPSERT), and the trigger runs inside the
# statement that changed ``runs``, so a count can never disagree with a committed table.
_COUNT_UP = (
    "INSERT INTO run_counts (state, n) VALUES (NEW.state, 1) "
    "ON CONFLICT (state) DO UPDATE SET n = n + 1"
)
_RUN_COUNT_TRIGGERS = (
    f"CREATE TRIGGER run_counts_insert AFTER INSERT ON runs BEGIN {_COUNT_UP}; END",
    "CREATE TRIGGER run_counts_update AFTER UPDATE OF state ON runs WHEN OLD.state IS NOT NEW.state "
    f"BEGIN UPDATE run_counts SET n = n - 1 WHERE state = OLD.state; {_COUNT_UP}; END",
    "CREATE TRIGGER run_counts_delete AFTER DELETE ON runs "
    "BEGIN UPDATE run_counts SET n = n - 1 WHERE state = OLD.state; END",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration("initial schema", _V1),
    # Audit retention deletes by age; without this every sweep would scan the whole table.
    Migration("index audit entries by time", ("CREATE INDEX audit_at ON audit (at)",)),
    Migration("compact history: attempts without rowid, usual output folders implied, runs "
              "counted by state", _compact_history),
    # The dask executor records the cluster worker of each attempt (NULL: this host).
    Migration("attempts name their cluster worker", ("ALTER TABLE attempts ADD COLUMN worker TEXT",)),
    # `show --json` gives a Python task's traceback (it was only in stderr and result.json).
    Migration("attempts keep a Python traceback", ("ALTER TABLE attempts ADD COLUMN traceback TEXT",)),
    # A run past its task's `expect` (SLA) is marked late: shown, told and counted, not killed.
    Migration("runs record when they went late", ("ALTER TABLE runs ADD COLUMN late_at REAL",)),
    # `taskflow mark`: an operator marked an ended run succeeded or skipped; who, why, from what.
    Migration("runs record an operator's mark", (
        "ALTER TABLE runs ADD COLUMN marked_by TEXT",
        "ALTER TABLE runs ADD COLUMN marked_reason TEXT",
        "ALTER TABLE runs ADD COLUMN marked_from TEXT",
        "ALTER TABLE runs ADD COLUMN marked_at REAL",
    )),
    # Scheduled and backfill runs know their slot (TASKFLOW_SCHEDULED_AT); the slots of one
    # backfill run one at a time, each waiting for the run before it, across restarts too.
    Migration("runs record their schedule slot and the run they wait for", (
        "ALTER TABLE runs ADD COLUMN scheduled_at REAL",
        "ALTER TABLE runs ADD COLUMN after_run TEXT",
    )),
)


def prepare_database(path: str, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Make ``path`` a WAL-mode taskflow database at the newest known schema; return it.

    Runs in a worker thread before the async connections open, so a broken file is refused
    with a ``StoreError`` before anything else touches it.
    """
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise StoreError(f"state database {path} cannot be created: directory {parent} does not exist")
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=30.0)
    except sqlite3.Error as exc:
        raise _error(path, exc) from exc
    try:
        # WAL is a property of the file: set once, every later connection uses it.
        conn.execute("PRAGMA journal_mode = WAL")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        known = len(migrations)
        if version > known:
            raise StoreError(
                f"state database {path} was written by a newer taskflow (schema {version}, "
                f"this one knows {known}); upgrade taskflow or use another --state-dir"
            )
        if version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise StoreError(f"state database {path} is an SQLite file but not a taskflow one; use another --state-dir")
        for step in range(version, known):
            _apply(conn, path, step + 1, migrations[step])
        if version < known:
            _give_back_freed_pages(conn)
        return known
    except sqlite3.Error as exc:
        raise _error(path, exc) from exc
    finally:
        conn.close()


def _give_back_freed_pages(conn: sqlite3.Connection) -> None:
    """After an upgrade that rewrote a table, shrink the file to what it holds (once per
    upgrade). Without room for the copy VACUUM makes, the file stays as it is: its free
    pages are reused by later writes, so nothing is lost but the disk space."""
    if conn.execute("PRAGMA freelist_count").fetchone()[0]:
        try:
            conn.execute("VACUUM")
        except sqlite3.Error as exc:
            log.warning("state database not compacted after its upgrade: %s", exc)


def _apply(conn: sqlite3.Connection, path: str, version: int, migration: Migration) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        if callable(migration.apply):
            migration.apply(conn)
        else:
            for statement in migration.apply:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {int(version)}")
        conn.execute("COMMIT")
    except Exception as exc:
        conn.execute("ROLLBACK")
        raise StoreError(
            f"state database {path} could not be upgraded to schema {version} "
            f"({migration.description}): {exc}"
        ) from exc


def _error(path: str, exc: sqlite3.Error) -> StoreError:
    """One sentence for what went wrong opening the file, by SQLite's error code."""
    name = getattr(exc, "sqlite_errorname", "")
    if name in ("SQLITE_NOTADB", "SQLITE_CORRUPT"):
        return StoreError(f"state database {path} is not an SQLite database or is corrupt ({exc})")
    if name in ("SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_READONLY"):
        return StoreError(f"state database {path} cannot be opened for writing ({exc})")
    return StoreError(f"state database {path} could not be opened: {exc}")
