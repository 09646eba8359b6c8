"""Every kind of task-file mistake is reported with its file, key path and reason."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from taskflow.model import TaskFileError
from taskflow.taskfile import load_file, load_paths


def test_unknown_keys_everywhere_suggest_the_close_match(errors_of):
    errors = errors_of("a.toml", """
        colour = 1
        [defaults]
        timout = 5
        [tasks.hello]
        comand = "echo hi"
        command = "echo hi"
        retries = { max = 1, backof = "1s" }
        [services.api]
        breaker = { failures = 3, cooldow = "1s" }
    """)
    assert errors == [
        'a.toml: colour: unknown key',
        'a.toml: defaults.timout: unknown key (did you mean "timeout"?)',
        'a.toml: services.api.breaker.cooldow: unknown key (did you mean "cooldown"?)',
        'a.toml: tasks.hello.comand: unknown key (did you mean "command"?)',
        'a.toml: tasks.hello.retries.backof: unknown key (did you mean "backoff"?)',
    ]


def test_wrong_types_are_named(errors_of):
    errors = errors_of("a.toml", """
        [tasks.hello]
        command = 3
        enabled = "yes"
        tags = "deploy"
        env = { A = true }
        pool = 2
        priority = "high"
    """)
    assert errors == [
        "a.toml: tasks.hello.command: expected a string or a list of strings, got an integer",
        "a.toml: tasks.hello.enabled: expected true or false, got a string",
        "a.toml: tasks.hello.tags: expected a list of strings, got a string",
        "a.toml: tasks.hello.env.A: expected a string, got a boolean",
        "a.toml: tasks.hello.pool: expected a string, got an integer",
        "a.toml: tasks.hello.priority: expected an integer, got a string",
    ]


def test_unknown_dependency(errors_of):
    errors = errors_of("nightly.toml", """
        [tasks.nightly.children.backup]
        command = "true"
        [tasks.nightly.children.verify]
        command = "true"
        depends_on = ["bakup"]
    """)
    assert errors == ['nightly.toml: tasks.nightly.children.verify.depends_on[0]: '
                      'unknown task "bakup"']


def test_dependency_outside_its_tree_says_where_the_task_is(errors_of):
    errors = errors_of("a.toml", """
        [tasks.prepare]
        command = "true"
        [tasks.nightly.children.sub.children.backup]
        command = "true"
        [tasks.nightly.children.verify]
        command = "true"
        depends_on = ["backup", { task = "prepare", required = false }]
    """)
    assert errors == [
        'a.toml: tasks.nightly.children.verify.depends_on[0]: "backup" is not a sibling of '
        '"nightly/verify" (it is nightly/sub/backup); depends_on names tasks with the same parent',
        'a.toml: tasks.nightly.children.verify.depends_on[1]: "prepare" is not a sibling of '
        '"nightly/verify" (it is prepare); depends_on names tasks with the same parent',
    ]


def test_top_level_task_may_not_depend(errors_of):
    errors = errors_of("a.toml", """
        [tasks.a]
        command = "true"
        [tasks.b]
        command = "true"
        depends_on = ["a"]
    """)
    assert errors == ["a.toml: tasks.b.depends_on: a top-level task cannot have depends_on "
                      "(dependencies name tasks with the same parent)"]


def test_dependency_cycle_is_printed(errors_of):
    errors = errors_of("a.toml", """
        [tasks.g.children.a]
        command = "true"
        depends_on = ["b"]
        [tasks.g.children.b]
        command = "true"
        depends_on = ["c"]
        [tasks.g.children.c]
        command = "true"
        depends_on = ["a"]
        [tasks.g.children.d]
        command = "true"
        depends_on = ["d"]
    """)
    assert errors == [
        "a.toml: tasks.g.children.a.depends_on: dependency cycle: a -> b -> c -> a",
        "a.toml: tasks.g.children.d.depends_on: dependency cycle: d -> d",
    ]


def test_invalid_cron(errors_of):
    errors = errors_of("a.toml", """
        [tasks.a]
        command = "true"
        schedule = "61 * * * *"
        [tasks.b]
        command = "true"
        schedule = { cron = "every day" }
    """)
    assert errors == [
        "a.toml: tasks.a.schedule: invalid cron expression '61 * * * *'",
        "a.toml: tasks.b.schedule.cron: invalid cron expression 'every day'",
    ]


def test_schedule_needs_exactly_one_trigger(errors_of):
    errors = errors_of("a.toml", """
        [tasks.a]
        command = "true"
        schedule = { cron = "* * * * *", every = "1m" }
        [tasks.b]
        command = "true"
        schedule = { missed = "sometimes", timezone = "Mars/Olympus" }
        [tasks.c]
        command = "true"
        schedule = { at = 2026-12-01 }
    """)
    assert errors == [
        "a.toml: tasks.a.schedule: needs exactly one of cron, every, at (found: cron, every)",
        "a.toml: tasks.b.schedule: needs exactly one of cron, every, at (found: none)",
        "a.toml: tasks.b.schedule.timezone: unknown time zone 'Mars/Olympus'",
        "a.toml: tasks.b.schedule.missed: must be one of \"skip\", \"once\", \"all\", "
        "got 'sometimes'",
        "a.toml: tasks.c.schedule.at: expected a date-time like 2026-12-01T03:00:00Z, "
        "got a date without a time",
    ]


def test_bad_durations_and_sizes(errors_of):
    errors = errors_of("a.toml", """
        [tasks.a]
        command = "true"
        timeout = "5 minutes"
        limits = { memory = "lots", cpu = "-1s" }
        retries = { max = -1, jitter = 2 }
    """)
    assert errors == [
        "a.toml: tasks.a.timeout: invalid duration '5 minutes' "
        '(use seconds or "90s", "5m", "2h")',
        "a.toml: tasks.a.limits.memory: invalid size 'lots' "
        '(use bytes or "512MiB", "2GiB", "100MB")',
        "a.toml: tasks.a.limits.cpu: invalid duration '-1s' (use seconds or \"90s\", \"5m\", "
        '"2h")',
        "a.toml: tasks.a.retries.max: must be at least 0, got -1",
        "a.toml: tasks.a.retries.jitter: must be between 0 and 1, got 2",
    ]


def test_leaf_needs_exactly_one_of_command_and_python(errors_of):
    errors = errors_of("a.toml", """
        [tasks.both]
        command = "true"
        python = "mod:fn"
        [tasks.neither]
        description = "nothing to run"
        [tasks.group]
        command = "true"
        [tasks.group.children.x]
        command = "true"
    """)
    assert errors == [
        "a.toml: tasks.both: has both command and python; a task runs exactly one",
        "a.toml: tasks.neither: needs command or python (or children, to make it a group)",
        "a.toml: tasks.group.command: a group (it has children) cannot have command",
    ]


def test_priority_python_reference_and_names(errors_of):
    errors = errors_of("a.toml", """
        [tasks.a]
        python = "mod.fn"
        priority = 4
        [tasks."-bad"]
        command = "true"
        [tasks.b]
        python = "pkg.mod:fn"
        retries = { on = ["exit:999", "exit:75", "Value Error"] }
    """)
    assert errors == [
        "a.toml: tasks.a.python: invalid python reference 'mod.fn' (expected \"module:function\")",
        "a.toml: tasks.a.priority: must be between 0 and 3, got 4",
        "a.toml: tasks.-bad: invalid task name '-bad' (use letters, digits, '_', '.', '-'; "
        "start with a letter or digit)",
        "a.toml: tasks.b.retries.on[0]: invalid retry condition 'exit:999' (use \"timeout\", "
        '"exit", "exit:N", "signal", "resources", "spawn" or an exception class name)',
        "a.toml: tasks.b.retries.on[2]: invalid retry condition 'Value Error' (use \"timeout\", "
        '"exit", "exit:N", "signal", "resources", "spawn" or an exception class name)',
    ]


def test_toml_syntax_error_has_a_line_number(errors_of):
    errors = errors_of("a.toml", """
        [tasks.a]
        command = "true
    """)
    assert len(errors) == 1
    assert errors[0].startswith("a.toml: invalid TOML: ")
    assert "line 3" in errors[0]


def test_yaml_syntax_error_has_a_line_number(errors_of):
    errors = errors_of("a.yaml", """
        tasks:
          a:
            command: [echo, hi
          b: 1
    """)
    assert len(errors) == 1
    assert errors[0].startswith("a.yaml: invalid YAML: ")
    assert "line 5" in errors[0]


def test_yaml_duplicate_keys_are_errors(errors_of):
    errors = errors_of("a.yaml", """
        tasks:
          a:
            command: "true"
            command: "false"
          a:
            command: "true"
    """)
    assert errors == [
        "a.yaml: tasks.a.command: duplicate key (line 5; first defined at line 4)",
        "a.yaml: tasks.a: duplicate key (line 6; first defined at line 3)",
    ]


def test_yaml_on_is_a_key_not_a_boolean(errors_of):
    # PyYAML's YAML 1.1 rules would read `on` as True and `yes` as a boolean.
    assert errors_of("a.yaml", """
        tasks:
          a:
            command: "true"
            retries: {max: 1, on: [timeout]}
            enabled: yes
    """) == ["a.yaml: tasks.a.enabled: expected true or false, got a string"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(write):
    path = write("a.toml", "[tasks.a]\ncommand = 'true'\n")
    path.chmod(0)
    result = load_file(path)
    assert [str(e) for e in result.errors] == [f"{path}: cannot read file: Permission denied"]


def test_unreadable_file_as_a_folder_named_like_a_file(tasks_dir: Path):
    # Works for root too: reading a directory fails whoever you are.
    path = tasks_dir / "weird.toml"
    path.mkdir()
    result = load_file(path)
    assert [str(e) for e in result.errors] == [f"{path}: cannot read file: Is a directory"]


def test_not_utf8(write, tasks_dir: Path):
    path = tasks_dir / "a.toml"
    path.write_bytes(b"[tasks.a]\ncommand = '\xff'\n")
    assert [e.reason for e in load_file(path).errors] == ["file is not valid UTF-8 (line 2)"]


def test_missing_path_is_an_error_not_a_crash(tmp_path: Path):
    task_set = load_paths([tmp_path / "nope"])
    missing = str(tmp_path / "nope")
    assert task_set.errors == [TaskFileError(missing, "", "no such file or directory")]
    assert task_set.tasks == {}


def test_name_defined_in_two_files_names_both(write, tasks_dir: Path):
    write("a.toml", "[tasks.nightly]\ncommand = 'true'\n")
    write("b.yaml", "tasks:\n  nightly:\n    command: 'true'\n  other:\n    command: 'true'\n")
    task_set = load_paths([tasks_dir])
    assert [str(e) for e in task_set.errors] == [
        f'{tasks_dir}/b.yaml: tasks.nightly: task "nightly" is also defined in {tasks_dir}/a.toml'
    ]
    assert sorted(task_set.tasks) == ["nightly"]  # b.yaml contributes nothing
    assert task_set.tasks["nightly"].source == str(tasks_dir / "a.toml")


def test_a_file_with_many_errors_reports_all_of_them(errors_of):
    errors = errors_of("nightly.toml", """
        [defaults]
        timeout = "soon"
        schedule = "* * * * *"
        [pools]
        db = -1
        [tasks.nightly]
        schedule = "0 25 * * *"
        [tasks.nightly.children.backup]
        command = ["pg_dump", 3]
        limits = { memory = "1 potato" }
        [tasks.nightly.children.verify]
        command = "true"
        depends_on = ["bakup"]
        run_if = "sometimes"
        [tasks.nightly.children.notify]
        depends_on = ["verify", "notify"]
    """)
    assert errors == [
        "nightly.toml: defaults.timeout: invalid duration 'soon' "
        '(use seconds or "90s", "5m", "2h")',
        'nightly.toml: defaults.schedule: "schedule" cannot be a default (defaults may set: '
        "cwd, env, limits, on_open, pool, priority, retries, service, timeout, user, where)",
        "nightly.toml: pools.db: must be at least 0, got -1",
        "nightly.toml: tasks.nightly.schedule: invalid cron expression '0 25 * * *'",
        "nightly.toml: tasks.nightly.children.backup.command[1]: expected a string, "
        "got an integer",
        "nightly.toml: tasks.nightly.children.backup.limits.memory: invalid size '1 potato' "
        '(use bytes or "512MiB", "2GiB", "100MB")',
        'nightly.toml: tasks.nightly.children.verify.run_if: must be one of "all_done", '
        "\"any_failed\", got 'sometimes'",
        "nightly.toml: tasks.nightly.children.notify: needs command or python "
        "(or children, to make it a group)",
        'nightly.toml: tasks.nightly.children.verify.depends_on[0]: unknown task "bakup"',
        "nightly.toml: tasks.nightly.children.notify.depends_on: dependency cycle: "
        "notify -> notify",
    ]


def test_service_and_pool_errors(errors_of):
    errors = errors_of("a.toml", """
        [pools]
        db = "two"
        [services.api]
        rate_limit = { per = "1s" }
        [services.web]
        rate_limit = { rate = 0, burst = 0 }
        breaker = { failures = 0 }
    """)
    assert errors == [
        "a.toml: pools.db: expected an integer, got a string",
        'a.toml: services.api.rate_limit: missing key "rate"',
        "a.toml: services.web.breaker.failures: must be at least 1, got 0",
        "a.toml: services.web.rate_limit.rate: must be greater than 0, got 0",
        "a.toml: services.web.rate_limit.burst: must be at least 1, got 0",
    ]


def test_yaml_without_pyyaml_says_what_to_install(write):
    import subprocess
    import sys

    path = write("a.yaml", "tasks: {}\n")
    code = (
        "import sys; sys.modules['yaml'] = None\n"  # makes `import yaml` fail as if missing
        "from taskflow.taskfile import load_file\n"
        "print(load_file(sys.argv[1]).errors[0])\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    assert out.strip() == f"{path}: YAML task files need PyYAML: install taskflowd[yaml]"
