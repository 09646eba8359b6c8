"""The CLI drives three hosts through a real sshd: merged reads, fan-out, lost hosts, roles."""

from __future__ import annotations

import pytest


def test_hosts_lists_each_host_reachable_with_version_role_workers_and_load(fleet):
    done = fleet.taskflow("--host", "web,viewer-1", "hosts", "--json")
    assert done.code == 0, done.err
    rows = {row["host"]: row for row in done.json()}
    assert list(rows) == ["web-1", "web-2", "web-3", "viewer-1"]
    for name in ("web-1", "web-2", "web-3"):
        assert rows[name]["reachable"] is True
        assert rows[name]["version"]
        assert (rows[name]["user"], rows[name]["role"]) == (fleet.operator, "operator")
        assert rows[name]["workers_max"] == 8 and rows[name]["workers_busy"] >= 0
        assert len(rows[name]["load"]) == 3
    assert (rows["viewer-1"]["user"], rows["viewer-1"]["role"]) == (fleet.viewer, "viewer")

    text = fleet.taskflow("--host", "web-*", "hosts")
    assert text.code == 0, text.err
    header, *lines = text.out.strip().splitlines()
    assert header.split()[:3] == ["host", "ssh", "reachable"]
    assert [line.split()[0] for line in lines] == ["web-1", "web-2", "web-3"]
    assert all(line.split()[2] == "yes" for line in lines)


def test_runs_merge_every_host_with_a_host_field_and_column(fleet):
    started = {}
    for name in ("web-1", "web-2"):
        done = fleet.taskflow("--host", name, "run", "hello", "--wait")
        assert done.code == 0, done.err
        started[name] = done.out.strip()

    merged = fleet.taskflow("--host", "web", "runs", "--task", "hello", "--limit", "50", "--json")
    assert merged.code == 0, merged.err
    hosts_of = {run["id"]: run["host"] for run in merged.json()}
    assert hosts_of[started["web-1"]] == "web-1"
    assert hosts_of[started["web-2"]] == "web-2"
    times = [run["created_at"] for run in merged.json()]
    assert times == sorted(times, reverse=True)  # newest first across hosts

    text = fleet.taskflow("--host", "web", "runs", "--task", "hello", "--limit", "50")
    assert text.code == 0, text.err
    assert text.out.split()[0] == "host"
    lines = {line.split()[1]: line.split()[0] for line in text.out.strip().splitlines()[1:]}
    assert lines[started["web-1"]] == "web-1" and lines[started["web-2"]] == "web-2"

    # one host, no host field: the single-host output is unchanged
    single = fleet.taskflow("--host", "web-1", "runs", "--task", "hello", "--json")
    assert "host" not in single.json()[0]


def test_fan_out_run_wait_prints_a_line_per_host_and_exits_3_when_one_failed(fleet):
    marker = fleet.daemons["web-2"].workdir / "fail"
    marker.write_text("")
    try:
        done = fleet.taskflow("--host", "web", "run", "flaky", "--wait")
    finally:
        marker.unlink()
    assert done.code == 3, (done.out, done.err)
    lines = done.out.strip().splitlines()
    assert [line.split()[0] for line in lines] == ["web-1", "web-2", "web-3"]
    states = {line.split()[0]: line.split()[1] for line in lines}
    assert states == {"web-1": "succeeded", "web-2": "failed", "web-3": "succeeded"}
    assert "exited with status 5" in lines[1]

    again = fleet.taskflow("--host", "web-1,web-3", "exec", "--wait", "--json", "--", "true")
    assert again.code == 0, again.err
    assert [(run["host"], run["state"]) for run in again.json()] == [("web-1", "succeeded"), ("web-3", "succeeded")]


def test_a_host_whose_daemon_was_killed_is_one_sentence_and_the_others_still_print(fleet):
    daemon = fleet.daemons["web-3"]
    daemon.kill()
    try:
        done = fleet.taskflow("--host", "web", "status", "--json")
        assert done.code == 1
        assert [info["host"] for info in done.json()] == ["web-1", "web-2"]
        [sentence] = done.err.strip().splitlines()
        assert sentence.startswith("taskflow: host web-3: cannot reach taskflowd at ")
        assert "connection refused" in sentence

        listing = fleet.taskflow("--host", "web", "hosts", "--json")
        assert listing.code == 1
        reachable = {row["host"]: row["reachable"] for row in listing.json()}
        assert reachable == {"web-1": True, "web-2": True, "web-3": False}

        text = fleet.taskflow("--host", "web", "runs")
        assert text.code == 1 and len(text.err.strip().splitlines()) == 1
        assert {line.split()[0] for line in text.out.strip().splitlines()[1:]} <= {"web-1", "web-2"}
    finally:
        daemon.start(timeout=30)
    assert fleet.taskflow("--host", "web-3", "health").code == 0


def test_an_unreachable_ssh_host_is_one_sentence(fleet, tmp_path):
    hosts = tmp_path / "hosts.toml"
    hosts.write_text(fleet.hosts_file.read_text() + '\n[hosts.gone]\nssh = "nobody@gone"\n'
                     'ssh_options = ["-p", "1"]\n')
    done = fleet.taskflow("--host", "web-1,gone", "status", "--json", hosts_file=hosts)
    assert done.code == 1
    assert [info["host"] for info in done.json()] == ["web-1"]
    [sentence] = done.err.strip().splitlines()
    assert sentence.startswith("taskflow: cannot reach host gone (nobody@gone) over ssh: ")
    assert "Connection refused" in sentence


def test_a_viewer_over_ssh_is_refused_a_mutation_with_the_remote_sentence(fleet):
    done = fleet.taskflow("--host", "viewer-1", "run", "hello")
    assert done.code == 1
    assert done.err == f"taskflow: refused: trigger task needs the operator role; {fleet.viewer} is a viewer\n"
    for argv in (["disable", "hello"], ["exec", "--", "true"], ["breakers", "trip", "svc"]):
        done = fleet.taskflow("--host", "viewer-1", *argv)
        assert done.code == 1, (argv, done.out, done.err)
        [sentence] = done.err.strip().splitlines()
        assert sentence.startswith("taskflow: refused: ") and f"{fleet.viewer} is a viewer" in sentence, sentence
    assert fleet.taskflow("--host", "viewer-1", "ls").code == 0  # reading is allowed


@pytest.mark.parametrize("argv", [["cancel", "01M8ZZZZZZZZZZZZZZZZZZZZZZ"], ["logs", "x"], ["run", "a", "b"]])
def test_mutations_and_streams_take_one_host(fleet, argv):
    done = fleet.taskflow("--host", "web", *argv)
    assert done.code == 2, done.err
    assert done.err.strip() == ("taskflow: " + argv[0] + " acts on one host at a time; --host names 3 "
                                "(web-1, web-2, web-3)")


def test_an_unknown_host_name_is_one_sentence(fleet):
    done = fleet.taskflow("--host", "web-9", "status")
    assert done.code == 1
    assert done.err.strip() == f"taskflow: no host or group named 'web-9' in {fleet.hosts_file}"


def test_hosts_without_host_lists_every_host_of_the_file(fleet):
    done = fleet.taskflow("hosts", "--json")
    names = [row["host"] for row in done.json()]
    assert names[-4:] == ["web-1", "web-2", "web-3", "viewer-1"]
    assert names[:-4] in ([], ["local"])  # local only when a local socket exists
    assert done.code == (0 if all(row["reachable"] for row in done.json()) else 1)
