"""The kill-9 suite's workload and its checks (used by ``test_kill9_suite.py``).

Every leaf runs ``leaf.sh``: it appends ``run_id attempt pid name`` to a ledger (one short
``O_APPEND`` write, atomic), prints a begin and an end marker line, and exits as its mode says.
Every task carries the suite's unique marker in its environment and its argv, so a scan of
``/proc`` finds any task process left behind.
"""

from __future__ import annotations

import os
import random
import stat
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from daemon_process import DaemonProcess

from taskflow.client import ClientError
from taskflow.protocol import ShowRun, TriggerTask

LEAF = """\
#!/bin/sh
# leaf.sh NAME MODE MARKER: MODE is ok | flaky (exit 75 on attempt 1) | slow (sleeps past its timeout) | fail
name=$1; mode=$2
echo "$TASKFLOW_RUN_ID $TASKFLOW_ATTEMPT $$ $name" >> "$KILL9_LEDGER"
echo "begin $TASKFLOW_RUN_ID $TASKFLOW_ATTEMPT"
sleep "$(awk -v s="$$" 'BEGIN { srand(s); printf "%.2f", rand() * 0.4 }')"
case "$mode" in
  flaky) if [ "$TASKFLOW_ATTEMPT" = 1 ]; then echo "end $TASKFLOW_RUN_ID $TASKFLOW_ATTEMPT"; exit 75; fi ;;
  slow) sleep 5 ;;
  fail) echo "end $TASKFLOW_RUN_ID $TASKFLOW_ATTEMPT"; exit 3 ;;
esac
echo "end $TASKFLOW_RUN_ID $TASKFLOW_ATTEMPT"
"""

TASKS = """\
[defaults]
timeout = 20
env = {{ KILL9_LEDGER = "{ledger}", KILL9_MARKER = "{marker}" }}

[tasks.tree]
description = "required and optional dependencies, a retried flaky leaf"
[tasks.tree.children.fetch]
command = ["{leaf}", "fetch", "ok", "{marker}"]
[tasks.tree.children.build]
command = ["{leaf}", "build", "flaky", "{marker}"]
retries = {{ max = 2, backoff = "0.3s", on = ["exit:75"] }}
depends_on = ["fetch"]
[tasks.tree.children.lint]
command = ["{leaf}", "lint", "fail", "{marker}"]
depends_on = ["fetch"]
[tasks.tree.children.publish]
command = ["{leaf}", "publish", "ok", "{marker}"]
depends_on = ["build", {{ task = "lint", required = false }}]

[tasks.broken]
description = "a required dependency fails: its dependant is skipped"
[tasks.broken.children.first]
command = ["{leaf}", "first", "fail", "{marker}"]
[tasks.broken.children.second]
command = ["{leaf}", "second", "ok", "{marker}"]
depends_on = ["first"]

[tasks.flaky]
command = ["{leaf}", "flaky", "flaky", "{marker}"]
retries = {{ max = 3, backoff = "0.2s", max_backoff = "1s", jitter = 0.2 }}

[tasks.slow]
command = ["{leaf}", "slow", "slow", "{marker}"]
timeout = 1
retries = {{ max = 1, backoff = "0.2s", on = ["timeout"] }}

[tasks.quick]
command = ["{leaf}", "quick", "ok", "{marker}"]
"""

TRIGGERABLE = ["tree", "tree", "broken", "flaky", "slow", "quick", "quick"]


@dataclass
class Workload:
    """One suite run: a daemon, its tasks, the ledger, and every acknowledged run id."""

    daemon: DaemonProcess
    rng: random.Random
    seed: int
    marker: str
    acknowledged: list[str] = field(default_factory=list)
    kills: int = 0

    @property
    def ledger(self) -> Path:
        return self.daemon.workdir / "ledger"

    def write(self) -> None:
        leaf = self.daemon.workdir / "leaf.sh"
        leaf.write_text(LEAF)
        leaf.chmod(leaf.stat().st_mode | stat.S_IXUSR)
        self.ledger.touch()
        self.daemon.write_tasks(
            TASKS.format(leaf=leaf, ledger=self.ledger, marker=self.marker)
        )

    def why(self, text: str) -> str:
        return f"{text} (seed {self.seed}; rerun with TASKFLOW_KILL9_SEED={self.seed})"

    # ------------------------------------------------------------------ chaos

    def cycle(self, max_uptime: float) -> None:
        """Start the daemon, trigger runs until a killer thread SIGKILLs it at a random moment."""
        self.daemon.start(timeout=60)
        delay = self.rng.uniform(0.05, max_uptime)
        killer = threading.Timer(delay, self.daemon.kill)
        killer.start()
        try:
            with self.daemon.client() as client:
                while killer.is_alive():
                    task = self.rng.choice(TRIGGERABLE)
                    ref = client.call(TriggerTask(task=task))
                    self.acknowledged.append(ref.id)
                    time.sleep(self.rng.uniform(0.0, 0.15))
        except (ClientError, OSError):
            pass  # the daemon died under us: that trigger was never acknowledged
        killer.join()
        self.kills += 1

    def settle(self, timeout: float) -> dict[str, object]:
        """Start a last time; wait until every acknowledged run is terminal; return the trees."""
        self.daemon.start(timeout=60)
        trees: dict[str, object] = {}
        deadline = time.monotonic() + timeout
        pending = list(self.acknowledged)
        with self.daemon.client() as client:
            while pending and time.monotonic() < deadline:
                still = []
                for run_id in pending:
                    tree = client.call(ShowRun(run_id=run_id))
                    if tree.run.state.terminal:
                        trees[run_id] = tree
                    else:
                        still.append(run_id)
                pending = still
                if pending:
                    time.sleep(0.2)
            for run_id in pending:
                trees[run_id] = client.call(ShowRun(run_id=run_id))
        return trees

    # ------------------------------------------------------------------ checks

    def ledger_entries(self) -> list[tuple[str, int, int, str]]:
        rows = []
        for line in self.ledger.read_text().splitlines():
            run_id, attempt, pid, name = line.split()
            rows.append((run_id, int(attempt), int(pid), name))
        return rows

    def leftover_processes(self) -> list[str]:
        """Processes whose argv or environment carries the marker (zombies have neither)."""
        found = []
        needle = self.marker.encode()
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            for part in ("cmdline", "environ"):
                try:
                    data = Path(f"/proc/{entry}/{part}").read_bytes()
                except OSError:
                    continue
                if needle in data:
                    cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
                    found.append(f"{entry}: {cmd.decode(errors='replace')}")
                    break
        return found


def non_terminal(trees: dict) -> list[str]:
    return [f"{rid} {tree.run.task} {tree.run.state}" for rid, tree in trees.items()
            if not tree.run.state.terminal]


def leaves(trees: dict):
    for tree in trees.values():
        for node in tree.walk():
            if not node.children:
                yield node
