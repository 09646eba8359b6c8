"""``taskflow backfill``: one run per schedule slot in a range, in order, each knowing its
slot — against a real daemon of this module's own (its tasks have schedules)."""

from __future__ import annotations

import itertools
import os
import pwd
import subprocess
import sys
from collections.abc import Iterator

import pytest
from daemon_process import DaemonProcess

from .conftest import poll, taskflow

TASKS = """
[tasks.nightly]
command = "echo slot=$TASKFLOW_SCHEDULED_AT"
schedule = "0 2 * * *"

[tasks.berlin]
command = "echo slot=$TASKFLOW_SCHEDULED_AT"
schedule = { cron = "0 2 * * *", timezone = "Europe/Berlin" }

[tasks.hourly_sleep]
command = "sleep 2"
schedule = "0 * * * *"

[tasks.overlapping]
command = "sleep 1"
schedule = { cron = "0 * * * *", allow_overlap = true }

[tasks.ticker]
command = "true"
schedule = { every = "1s" }

[tasks.unscheduled]
command = "echo slot=${TASKFLOW_SCHEDULED_AT-unset}"

[tasks.pyslot]
python = "slottasks:slot"
schedule = "30 4 * * *"
"""

PYTASKS = '''
import taskflow

@taskflow.task
def slot(ctx: taskflow.Context) -> str:
    print("ctx.scheduled_at", None if ctx.scheduled_at is None else ctx.scheduled_at.isoformat())
    return "ok"
'''


@pytest.fixture(scope="module")
def backfill_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    proc = DaemonProcess(tmp_path_factory.mktemp("backfill-daemon"), prefix="tf-bf")
    proc.write_tasks(TASKS, "backfill.toml")
    (proc.tasks_dir / "slottasks.py").write_text(PYTASKS)
    config = proc.workdir / "taskflow.toml"
    config.write_text('on_stop = "stop"\nstop_grace = 2.0\n')
    proc.extra_args = ["--config", str(config)]
    try:
        proc.start(timeout=30)
        yield proc
        proc.stop(timeout=20)
    finally:
        proc.cleanup()


@pytest.fixture
def tf(backfill_daemon: DaemonProcess):
    def call(*args: str, timeout: float = 60):
        return taskflow(*args, socket=backfill_daemon.socket, timeout=timeout)

    return call


def test_backfill_of_a_daily_task_runs_each_slot_in_order_with_its_slot(tf) -> None:
    done = tf("backfill", "nightly", "--from", "2026-01-01", "--to", "2026-01-03", "--wait")
    assert done.code == 0, done.err
    ids = done.out.split()
    assert len(ids) == 3
    slots = ["2026-01-01T02:00:00Z", "2026-01-02T02:00:00Z", "2026-01-03T02:00:00Z"]
    for run_id, slot in zip(ids, slots, strict=True):
        assert tf("logs", run_id).out.strip() == f"slot={slot}"
        shown = tf("show", run_id, "--json").json()
        assert shown["run"]["scheduled_at"] == slot and shown["run"]["trigger"] == "backfill"
        assert f"slot {slot}" in tf("show", run_id).out
    runs = [tf("show", run_id, "--json").json()["run"] for run_id in ids]
    for before, after in itertools.pairwise(runs):  # one after another, no overlap
        assert after["after_run"] == before["id"]
        assert after["started_at"] >= before["finished_at"]


def test_json_lists_the_runs_with_their_slots(tf) -> None:
    done = tf("backfill", "nightly", "--from", "2026-02-01T00:00:00Z", "--to", "2026-02-02T02:00:00Z", "--json")
    assert done.code == 0, done.err
    made = done.json()
    assert [run["scheduled_at"] for run in made] == ["2026-02-01T02:00:00Z", "2026-02-02T02:00:00Z"]
    assert all(run["task"] == "nightly" and len(run["id"]) == 26 for run in made)
    for run in made:
        assert tf("wait", run["id"]).code == 0


def test_local_times_are_read_in_the_schedules_timezone(tf) -> None:
    # 02:00 in Berlin in January is 01:00 UTC.
    done = tf("backfill", "berlin", "--from", "2026-01-05 00:00", "--to", "2026-01-05", "--wait")
    assert done.code == 0, done.err
    [run_id] = done.out.split()
    assert tf("logs", run_id).out.strip() == "slot=2026-01-05T01:00:00Z"


def test_python_tasks_get_the_slot_as_ctx_scheduled_at_and_manual_runs_none(tf) -> None:
    done = tf("backfill", "pyslot", "--from", "2026-03-01", "--to", "2026-03-01", "--wait")
    assert done.code == 0, done.err
    [run_id] = done.out.split()
    assert "ctx.scheduled_at 2026-03-01T04:30:00+00:00" in tf("logs", run_id).out
    manual = tf("run", "pyslot", "--wait")
    assert manual.code == 0, manual.err
    assert "ctx.scheduled_at None" in tf("logs", manual.out.strip()).out
    assert tf("show", manual.out.strip(), "--json").json()["run"]["scheduled_at"] is None
    shell = tf("run", "unscheduled", "--wait")
    assert tf("logs", shell.out.strip()).out.strip() == "slot=unset"


def test_backfill_runs_can_be_cancelled_and_the_next_one_waits_its_turn(tf) -> None:
    done = tf("backfill", "hourly_sleep", "--from", "2026-01-01 00:00", "--to", "2026-01-01 02:00")
    assert done.code == 0, done.err
    first, second, third = done.out.split()
    poll(lambda: tf("show", first, "--json").json()["run"]["state"] == "running")
    assert tf("show", second, "--json").json()["run"]["state"] == "pending"
    assert f"after {first}" in tf("show", second).out
    assert tf("cancel", second).code == 0
    assert tf("wait", second).code == 3  # cancelled
    assert tf("show", third, "--json").json()["run"]["state"] == "pending"  # still behind the first
    assert tf("wait", first).code == 0
    assert tf("wait", third).code == 0
    runs = {r: tf("show", r, "--json").json()["run"] for r in (first, second, third)}
    assert runs[second]["state"] == "cancelled"
    assert runs[third]["started_at"] >= runs[first]["finished_at"]


def test_allow_overlap_queues_every_slot_at_once(tf) -> None:
    done = tf("backfill", "overlapping", "--from", "2026-01-01 00:00", "--to", "2026-01-01 02:00", "--json")
    assert done.code == 0, done.err
    ids = [run["id"] for run in done.json()]
    runs = [tf("show", r, "--json").json()["run"] for r in ids]
    assert all(run["after_run"] is None for run in runs)
    for run_id in ids:
        assert tf("wait", run_id).code == 0
    runs = [tf("show", r, "--json").json()["run"] for r in ids]
    assert max(run["started_at"] for run in runs) < min(run["finished_at"] for run in runs)  # together


def test_refusals_are_one_sentence(tf) -> None:
    unscheduled = tf("backfill", "unscheduled", "--from", "2026-01-01", "--to", "2026-01-02")
    assert unscheduled.code == 1 and "has no schedule" in unscheduled.err
    assert len(unscheduled.err.strip().splitlines()) == 1
    empty = tf("backfill", "nightly", "--from", "2026-01-01 03:00", "--to", "2026-01-02 01:00")
    assert empty.code == 1 and "no slot of nightly's schedule (0 2 * * *) falls" in empty.err
    many = tf("backfill", "ticker", "--from", "2026-01-01", "--to", "2026-01-02")
    assert many.code == 1 and "more than 1000 slots" in many.err and "--max" in many.err
    capped = tf("backfill", "nightly", "--from", "2026-01-01", "--to", "2026-01-31", "--max", "5")
    assert capped.code == 1 and "more than 5 slots" in capped.err
    unknown = tf("backfill", "nope", "--from", "2026-01-01", "--to", "2026-01-02")
    assert unknown.code == 1 and "no task named 'nope'" in unknown.err
    bad_time = tf("backfill", "nightly", "--from", "yesterday", "--to", "2026-01-02")
    assert bad_time.code == 2 and "invalid time 'yesterday'" in bad_time.err
    backwards = tf("backfill", "nightly", "--from", "2026-01-05", "--to", "2026-01-02")
    assert backwards.code == 2 and "is before --from" in backwards.err
    assert tf("backfill", "nightly", "--to", "2026-01-02").code == 2  # --from is required
    assert "taskflow backfill" not in tf("runs", "--task", "unscheduled", "--json").out


def test_backfill_is_audited_with_who_the_range_and_the_count(tf) -> None:
    done = tf("backfill", "nightly", "--from", "2026-04-01", "--to", "2026-04-02", "--json")
    assert done.code == 0, done.err
    for run in done.json():
        tf("wait", run["id"])
    entries = tf("audit", "--json", "--limit", "50").json()
    entry = next(e for e in entries if e["action"] == "backfill" and e["args"].get("start") == "2026-04-01T00:00:00")
    assert entry["user"] == "root" and entry["outcome"] == "ok"
    assert entry["args"]["task"] == "nightly" and entry["args"]["end"] == "2026-04-02T23:59:59"
    assert entry["args"]["count"] == 2
    refused = [e for e in entries if e["action"] == "backfill" and e["args"]["task"] == "unscheduled"]
    assert refused and "has no schedule" in refused[0]["outcome"]


# Runs as another user: connects, asks for a backfill, prints the outcome (the modules are
# imported before the switch: that user may not read this tree).
VIEWER = """
import os, sys
from datetime import datetime
from taskflow.client import Client, ClientError
from taskflow.protocol import Backfill
uid, gid, sock = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
os.setgroups([]); os.setgid(gid); os.setuid(uid)
with Client.connect(sock) as c:
    print("role", c.welcome.role)
    try:
        c.call(Backfill(task="nightly", start=datetime(2026, 5, 1), end=datetime(2026, 5, 2))); print("ok")
    except ClientError as e:
        print("refused", e.code, e.message)
"""


@pytest.mark.skipif(os.getuid() != 0, reason="switching users needs root")
def test_viewers_are_refused(backfill_daemon: DaemonProcess, tf) -> None:
    os.chmod(backfill_daemon.socket, 0o666)  # let the other user reach it for this test
    entry = pwd.getpwnam("daemon")  # in neither the socket's nor the operator group: a viewer
    done = subprocess.run([sys.executable, "-c", VIEWER, str(entry.pw_uid), str(entry.pw_gid), backfill_daemon.socket],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "role viewer", "refused forbidden backfill needs the operator role; daemon is a viewer"]
    assert not [r for r in tf("runs", "--task", "nightly", "--json", "--limit", "200").json()
                if (r["scheduled_at"] or "").startswith("2026-05-01")]
    audit = tf("audit", "--json", "--limit", "50").json()
    assert any(e["action"] == "backfill" and e["user"] == "daemon" and "needs the operator role" in e["outcome"]
               for e in audit)
