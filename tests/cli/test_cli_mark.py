"""``taskflow mark RUN succeeded|skipped --reason TEXT`` against the real test daemon."""

from __future__ import annotations

from .conftest import poll


def _failed_boom(tf) -> str:
    started = tf("run", "boom", "--wait")
    assert started.code == 3, started.err
    return started.out.strip()


def test_mark_succeeded_is_shown_by_show_and_runs(tf):
    run_id = _failed_boom(tf)
    done = tf("mark", run_id, "succeeded", "--reason", "fixed by hand")
    assert done.code == 0, done.err
    assert done.out.strip() == f"marked {run_id} (boom) succeeded, was failed; what waited on it runs now"

    shown = tf("show", run_id)
    assert shown.code == 0 and "marked succeeded by root: fixed by hand (was failed)" in shown.out
    data = tf("show", run_id, "--json").json()
    assert data["run"]["state"] == "succeeded"
    assert (data["run"]["marked_by"], data["run"]["marked_reason"], data["run"]["marked_from"]) == (
        "root", "fixed by hand", "failed")
    assert data["run"]["marked_at"].endswith("Z")
    listed = tf("runs", "--task", "boom", "--limit", "5")
    line = next(line for line in listed.out.splitlines() if run_id in line)
    assert "succeeded (marked)" in line
    assert tf("wait", run_id).code == 0  # it counts as succeeded now


def test_mark_skipped_with_json(tf):
    run_id = _failed_boom(tf)
    done = tf("mark", run_id, "skipped", "--reason", "not needed today", "--json")
    assert done.code == 0, done.err
    run = done.json()
    assert (run["state"], run["skip_reason"], run["marked_from"]) == ("skipped", "marked", "failed")
    assert "skipped (marked)" in tf("runs", "--task", "boom", "--limit", "5").out


def test_refusals_are_one_sentence_with_exit_1(tf):
    started = tf("run", "sleepy")
    run_id = started.out.strip()
    poll(lambda: tf("show", run_id, "--json").json()["run"]["state"] == "running")
    try:
        running = tf("mark", run_id, "succeeded", "--reason", "x")
        assert running.code == 1
        assert running.err.strip() == (
            f"taskflow: run {run_id} (sleepy) is still running; only an ended run can be marked")
    finally:
        tf("cancel", run_id)
    done = tf("run", "hello", "--wait").out.strip()
    ok = tf("mark", done, "skipped", "--reason", "x")
    assert ok.code == 1 and ok.err.strip() == f"taskflow: run {done} (hello) already succeeded"
    unknown = tf("mark", "01JNOSUCHRUN0000000000000", "succeeded", "--reason", "x")
    assert unknown.code == 1 and "no run 01JNOSUCHRUN0000000000000" in unknown.err
    assert len(unknown.err.strip().splitlines()) == 1
    assert tf("mark", done, "failed", "--reason", "x").code == 2  # only succeeded or skipped
    assert tf("mark", done, "succeeded").code == 2  # a reason is required
