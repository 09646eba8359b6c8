"""hosts.toml is checked offline: every problem as ``file: key: reason``, like task files."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from taskflow.client.hosts import HostsError, load_hosts, select_hosts


def cli(*args: str, hosts_file, cwd=None):
    env = {**os.environ, "NO_COLOR": "1", "TASKFLOW_HOSTS": str(hosts_file)}
    env.pop("TASKFLOW_HOST", None)
    done = subprocess.run([sys.executable, "-m", "taskflow.console", *args], capture_output=True, text=True,
                          timeout=60, env=env, cwd=cwd)
    assert "Traceback" not in done.stderr, done.stderr
    return done


GARBAGE = textwrap.dedent("""\
    colour = "blue"

    [defaults]
    ssh_options = "-v"

    [hosts.web-1]
    ssh = "ops@web-1"
    sockett = "/run/x.sock"

    [hosts.web-2]
    socket = 3

    [hosts."web*"]
    ssh = "ops@web-9"

    [hosts.local]
    ssh = "ops@elsewhere"

    [groups]
    web = ["web-1", "web-3", 7]
    web-1 = ["web-1"]
    """)


def test_a_garbage_hosts_file_gives_every_problem_as_file_key_reason(tmp_path):
    hosts = tmp_path / "hosts.toml"
    hosts.write_text(GARBAGE)
    done = cli("hosts", "--check", hosts_file=hosts, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "hosts.toml: colour: unknown key (expected defaults, hosts, groups)",
        'hosts.toml: defaults.ssh_options: must be a list of strings, e.g. ["-o", "ConnectTimeout=5"]',
        "hosts.toml: hosts.web-1.sockett: unknown key (expected ssh, socket, ssh_options)",
        "hosts.toml: hosts.web-2.ssh: missing: the ssh destination, e.g. ssh = \"ops@web-1\"",
        "hosts.toml: hosts.web*: 'web*' cannot be a name: no spaces, commas or glob characters (*?[)",
        'hosts.toml: hosts.local: "local" is always the local daemon; give this one another name',
        'hosts.toml: groups.web[1]: unknown host "web-3"',
        "hosts.toml: groups.web[2]: must be a host name (a string)",
        'hosts.toml: groups.web-1: "web-1" is already a host; a group needs a name of its own',
    ]
    assert done.stderr.strip().startswith("taskflow: 9 problem(s) in ")

    # any command that needs the file says the first problem in one sentence
    status = cli("--host", "web-1", "status", hosts_file=hosts, cwd=tmp_path)
    assert status.returncode == 1
    [sentence] = status.stderr.strip().splitlines()
    assert sentence == "taskflow: hosts.toml: colour: unknown key (expected defaults, hosts, groups) (and 8 more)"


def test_bad_toml_and_a_missing_file(tmp_path):
    hosts = tmp_path / "hosts.toml"
    hosts.write_text("[hosts\n")
    done = cli("hosts", "--check", hosts_file=hosts, cwd=tmp_path)
    assert done.returncode == 1 and done.stdout.startswith("hosts.toml: not valid TOML: ")
    missing = cli("hosts", "--check", hosts_file=tmp_path / "none.toml", cwd=tmp_path)
    assert missing.returncode == 1 and missing.stdout == "none.toml: no such file\n"
    # without a file there is only the local daemon; naming another host says where it looked
    unknown = cli("--host", "web-1", "status", hosts_file=tmp_path / "none.toml", cwd=tmp_path)
    assert unknown.returncode == 1
    assert unknown.stderr == "taskflow: no host or group named 'web-1' in none.toml\n"


def test_hosts_groups_globs_and_lists_select_in_order_without_duplicates(tmp_path):
    hosts = tmp_path / "hosts.toml"
    hosts.write_text(textwrap.dedent("""\
        [defaults]
        ssh_options = ["-o", "ConnectTimeout=5"]
        socket = "/run/taskflow/taskflowd.sock"
        [hosts]
        db-1 = "ops@db-1"
        [hosts.web-1]
        ssh = "ops@web-1"
        ssh_options = ["-p", "2222"]
        [hosts.web-2]
        ssh = "web-2.example.com"
        socket = "/srv/tf.sock"
        [groups]
        web = ["web-1", "web-2"]
        all = ["local", "web-1", "web-2", "db-1"]
        """))
    fleet = load_hosts(str(hosts))
    assert fleet.hosts["web-1"].ssh_options == ("-o", "ConnectTimeout=5", "-p", "2222")
    assert fleet.hosts["web-2"].socket == "/srv/tf.sock"
    assert fleet.hosts["db-1"].socket == "/run/taskflow/taskflowd.sock"

    def names(expression):
        chosen = select_hosts(expression, fleet)
        return [h.name for h in chosen.hosts], chosen.several

    assert names("web-1") == (["web-1"], False)
    assert names("local") == (["local"], False)
    assert names("web") == (["web-1", "web-2"], True)
    assert names("web-*") == (["web-1", "web-2"], True)
    assert names("db-1,web,web-1") == (["db-1", "web-1", "web-2"], True)
    assert names("all") == (["local", "web-1", "web-2", "db-1"], True)
    for bad in ("nope", "x-*"):
        try:
            select_hosts(bad, fleet)
        except HostsError:
            continue
        raise AssertionError(f"{bad} selected something")


def test_the_shipped_example_is_a_valid_hosts_file(tmp_path):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "hosts.toml.example"
    done = cli("hosts", "--check", hosts_file=example, cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    assert done.stdout.endswith(": 4 hosts, 2 groups, ok\n")
