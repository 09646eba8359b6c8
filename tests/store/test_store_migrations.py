"""Opening old, newer, foreign and broken database files."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from taskflow.model import Run, RunState, new_ulid
from taskflow.store import MIGRATIONS, Migration, Store, StoreError

# A v2 step as a later taskflow would ship it: a column added with a backfill.
V2 = Migration(
    "runs remember their host",
    ("ALTER TABLE runs ADD COLUMN host TEXT", "UPDATE runs SET host = 'legacy'"),
)


def _backfill_notes(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE notes (run_id TEXT PRIMARY KEY, note TEXT)")
    conn.execute("INSERT INTO notes SELECT id, 'from v2 ' || task FROM runs")


V3 = Migration("notes per run (a Python step)", _backfill_notes)


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


async def test_fresh_file_gets_the_current_schema_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = await Store.open(path)
    await store.close()
    assert user_version(path) == len(MIGRATIONS)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"runs", "attempts", "task_state", "breakers", "schedules", "audit", "meta"} <= tables


async def test_old_file_is_upgraded_in_place_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    v1 = await Store.open(path, migrations=MIGRATIONS[:1])
    await v1.close()
    run_id = new_ulid()
    run = Run(id=run_id, task="nightly", root_id=run_id, created_at=datetime(2026, 1, 1, tzinfo=UTC))
    with sqlite3.connect(path) as conn:  # as v1 wrote it: today's writer knows later columns
        conn.execute("INSERT INTO runs (id, task, root_id, state, trigger, priority, created_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (run_id, run.task, run_id, str(run.state), str(run.trigger), run.priority,
                      run.created_at.timestamp()))
    assert user_version(path) == 1

    upgraded = await Store.open(path, migrations=(*MIGRATIONS, V2, V3))
    try:
        assert await upgraded.get_run(run_id) == run
        again = Run(id=new_ulid(), task="after", root_id="x", created_at=run.created_at)
        await upgraded.save_runs([again])  # the writer still works against the new schema
    finally:
        await upgraded.close()
    assert user_version(path) == len(MIGRATIONS) + 2
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT host FROM runs WHERE id = ?", (run_id,)).fetchone()[0] == "legacy"
        assert conn.execute("SELECT note FROM notes").fetchone()[0] == "from v2 nightly"
        # Audit retention's index arrives with the upgrade.
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'audit_at'").fetchone()[0] == 1


async def test_failed_step_leaves_the_file_at_its_last_whole_version(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    await (await Store.open(path)).close()
    broken = Migration("broken", ("CREATE TABLE ok_so_far (x)", "THIS IS NOT SQL"))
    with pytest.raises(StoreError, match=rf"could not be upgraded to schema {len(MIGRATIONS) + 1} \(broken\)"):
        await Store.open(path, migrations=(*MIGRATIONS, broken))
    assert user_version(path) == len(MIGRATIONS)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'ok_so_far'").fetchone()[0] == 0


async def test_newer_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    await (await Store.open(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(StoreError) as info:
        await Store.open(path)
    assert str(info.value) == (
        f"state database {path} was written by a newer taskflow (schema {len(MIGRATIONS) + 1}, this one knows "
        f"{len(MIGRATIONS)}); upgrade taskflow or use another --state-dir"
    )
    assert user_version(path) == len(MIGRATIONS) + 1  # refused, not touched


async def test_garbage_file_is_refused_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is a text file, not a database\n" * 200)
    with pytest.raises(StoreError, match="is not an SQLite database or is corrupt"):
        await Store.open(path)


async def test_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE runs (something_else TEXT)")
    with pytest.raises(StoreError, match="not a taskflow one"):
        await Store.open(path)


async def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        await Store.open(tmp_path / "nope" / "state.db")


async def test_schema_3_compacts_history_and_keeps_every_attempt_and_count(tmp_path: Path) -> None:
    """A file from before schema 3, written as that taskflow wrote it: full output paths,
    counts by state computed from the rows. After the upgrade the paths read back the same,
    the usual one is stored as '', the counts are kept by triggers, the file is compacted."""
    path = tmp_path / "state.db"
    v2 = await Store.open(path, migrations=MIGRATIONS[:2])
    await v2.close()
    created = datetime(2026, 1, 1, tzinfo=UTC)
    runs = [Run(id=(i := new_ulid()), task="nightly", root_id=i, created_at=created, state=state)
            for state in (RunState.SUCCEEDED, RunState.SUCCEEDED, RunState.FAILED)]
    usual = f"{tmp_path}/output/{runs[0].id}.1"
    with sqlite3.connect(path) as conn:  # as v2 wrote them: today's writer knows later columns
        conn.executemany(
            "INSERT INTO runs (id, task, root_id, state, trigger, priority, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(r.id, r.task, r.id, str(r.state), str(r.trigger), r.priority, created.timestamp()) for r in runs],
        )
        conn.executemany(
            "INSERT INTO attempts (run_id, number, state, output_dir) VALUES (?, 1, 'succeeded', ?)",
            [(runs[0].id, usual), (runs[1].id, "/srv/elsewhere/out"), (runs[2].id, None)],
        )

    store = await Store.open(path)
    try:
        assert [(await store.attempts(r.id))[0].output_dir for r in runs] == [usual, "/srv/elsewhere/out", None]
        assert await store.counts_by_state() == {"succeeded": 2, "failed": 1}
        runs[2].state = RunState.SUCCEEDED
        await store.save_runs([runs[2]])
        await store.save_runs([Run(id=(i := new_ulid()), task="t", root_id=i, created_at=created)])
        assert await store.counts_by_state() == {"succeeded": 3, "pending": 1}
    finally:
        await store.close()
    with sqlite3.connect(path) as conn:
        stored = dict(conn.execute("SELECT run_id, output_dir FROM attempts").fetchall())
        assert stored[runs[0].id] == "" and stored[runs[1].id] == "/srv/elsewhere/out"
        assert conn.execute("PRAGMA freelist_count").fetchone()[0] == 0
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "runs_roots" not in names and "sqlite_autoindex_attempts_1" not in names
