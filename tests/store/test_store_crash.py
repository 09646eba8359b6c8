"""SIGKILL a real writer process at random moments: nothing it acknowledged may be lost.

The same database file is reused across every kill, so each restart also exercises WAL
recovery of a file whose writer died mid-transaction.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import taskflow

WRITER = Path(__file__).with_name("store_crash_writer.py")
KILLS = 22


def _spawn(db: Path) -> subprocess.Popen[str]:
    env = dict(os.environ)
    src = str(Path(taskflow.__file__).resolve().parents[1])
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.Popen(
        [sys.executable, str(WRITER), str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env,
    )  # fmt: skip


def test_sigkilled_writer_loses_nothing_it_acknowledged(tmp_path: Path) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    db = tmp_path / "state.db"
    acked: dict[str, set[str]] = {"run": set(), "attempt": set(), "done": set()}
    for kill in range(KILLS):
        proc = _spawn(db)
        try:
            ready = proc.stdout.readline()  # type: ignore[union-attr]
            assert ready == "ready -\n", f"writer did not start (kill {kill}): {proc.stderr.read()}"  # type: ignore[union-attr]
            time.sleep(rng.uniform(0.02, 0.3))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, f"writer died by itself: {proc.stderr.read()}"  # type: ignore[union-attr]
        out = proc.stdout.read()  # type: ignore[union-attr]
        for line in out.splitlines(keepends=True):
            if line.endswith("\n"):  # a torn last line was never acknowledged
                kind, run_id = line.split()
                acked[kind].add(run_id)
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]

    print({k: len(v) for k, v in acked.items()})
    assert len(acked["done"]) > KILLS, f"too little work to mean anything (seed {seed})"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        states = dict(conn.execute("SELECT id, state FROM runs"))
        attempts = {row[0] for row in conn.execute("SELECT run_id FROM attempts")}
    assert acked["run"] <= states.keys(), f"lost acknowledged runs (seed {seed})"
    assert acked["attempt"] <= attempts, f"lost acknowledged attempts (seed {seed})"
    assert {states[i] for i in acked["done"]} == {"succeeded"}, f"lost terminal states (seed {seed})"
