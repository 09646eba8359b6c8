"""What a valid task file means once loaded: names, trees, inheritance, services, merging."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import msgspec

from taskflow.model import (
    BreakerSettings,
    Dependency,
    Limits,
    RateLimit,
    RetryPolicy,
    Schedule,
    ServiceSpec,
)
from taskflow.taskfile import discover, load_file, load_paths, merge

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

NIGHTLY_TOML = """
[defaults]
timeout = "5m"
env = { LEVEL = "defaults", FROM_DEFAULTS = "1" }

[pools]
db = 2

[services.payments-api]
breaker = { failures = 4, cooldown = "45s" }
rate_limit = { rate = 30, per = "1m", burst = 5 }

[tasks.nightly]
description = "Nightly maintenance"
schedule = { cron = "0 3 * * *", missed = "once", timezone = "Europe/Berlin" }
tags = ["maintenance"]
env = { LEVEL = "group" }
retries = { max = 2, backoff = "2s", max_backoff = "1m", jitter = 0.5, on = ["timeout", "exit:75"] }
limits = { cpu = "10m" }
service = "payments-api"
priority = 1

[tasks.nightly.children.backup]
command = ["pg_dump", "-f", "/tmp/app.sql", "app"]
limits = { memory = "512MiB" }
pool = "db"

[tasks.nightly.children.verify]
command = "pg_restore --list /tmp/app.sql"
depends_on = ["backup"]
timeout = 90
env = { LEVEL = "leaf" }

[tasks.nightly.children.notify]
python = "pytasks:notify"
params = { channel = "#ops", count = 3 }
depends_on = [{ task = "verify", required = false }]
run_if = "any_failed"
enabled = false
on_open = "fail"

[tasks.hello]
command = "echo hello"
schedule = { every = "10m" }

[tasks.once]
command = "true"
schedule = { at = "2026-12-01T03:00:00Z" }
retries = 3
"""

NIGHTLY_YAML = """
defaults:
  timeout: 5m
  env: {LEVEL: defaults, FROM_DEFAULTS: "1"}
pools:
  db: 2
services:
  payments-api:
    breaker: {failures: 4, cooldown: 45s}
    rate_limit: {rate: 30, per: 1m, burst: 5}
tasks:
  nightly:
    description: Nightly maintenance
    schedule: {cron: "0 3 * * *", missed: once, timezone: Europe/Berlin}
    tags: [maintenance]
    env: {LEVEL: group}
    retries: {max: 2, backoff: 2s, max_backoff: 1m, jitter: 0.5, on: [timeout, "exit:75"]}
    limits: {cpu: 10m}
    service: payments-api
    priority: 1
    children:
      backup:
        command: [pg_dump, -f, /tmp/app.sql, app]
        limits: {memory: 512MiB}
        pool: db
      verify:
        command: pg_restore --list /tmp/app.sql
        depends_on: [backup]
        timeout: 90
        env: {LEVEL: leaf}
      notify:
        python: pytasks:notify
        params: {channel: "#ops", count: 3}
        depends_on: [{task: verify, required: false}]
        run_if: any_failed
        enabled: false
        on_open: fail
  hello:
    command: echo hello
    schedule: {every: 10m}
  once:
    command: "true"
    schedule: {at: 2026-12-01T03:00:00Z}
    retries: 3
"""


def test_tree_names_and_order(write):
    path = write("nightly.toml", NIGHTLY_TOML)
    result = load_file(path)
    assert result.ok, result.errors
    assert list(result.tasks) == [
        "nightly", "nightly/backup", "nightly/verify", "nightly/notify", "hello", "once",
    ]
    group = result.tasks["nightly"]
    assert group.kind == "group"
    assert group.children == ("nightly/backup", "nightly/verify", "nightly/notify")
    assert group.parent is None
    assert result.tasks["nightly/verify"].parent == "nightly"
    assert result.tasks["nightly/verify"].depends_on == (Dependency("nightly/backup", True),)
    assert result.tasks["nightly/notify"].depends_on == (Dependency("nightly/verify", False),)
    assert {spec.source for spec in result.tasks.values()} == {str(path)}


def test_inheritance_from_defaults_and_groups(write):
    tasks = load_file(write("nightly.toml", NIGHTLY_TOML)).tasks
    backup, verify, notify = (tasks[f"nightly/{n}"] for n in ("backup", "verify", "notify"))
    policy = RetryPolicy(max=2, backoff=2.0, max_backoff=60.0, jitter=0.5,
                         on=("timeout", "exit:75"))
    # Inherited from the group (which inherited timeout from [defaults]).
    assert backup.retries == policy and notify.retries == policy
    assert backup.service == "payments-api" and backup.priority == 1
    assert backup.timeout == 300.0 and verify.timeout == 90.0
    # env merges key by key; the nearest value wins.
    assert backup.env == {"LEVEL": "group", "FROM_DEFAULTS": "1"}
    assert verify.env == {"LEVEL": "leaf", "FROM_DEFAULTS": "1"}
    # limits merge field by field.
    assert backup.limits == Limits(memory=512 * 1024**2, cpu=600.0)
    assert verify.limits == Limits(cpu=600.0)
    # Group-only settings stay with the group.
    assert tasks["nightly"].tags == ("maintenance",) and backup.tags == ()
    assert tasks["nightly"].schedule is not None and backup.schedule is None
    assert tasks["nightly"].description == "Nightly maintenance" and backup.description == ""
    # Leaf settings.
    assert backup.command == ("pg_dump", "-f", "/tmp/app.sql", "app") and backup.kind == "command"
    assert backup.pool == "db"
    assert notify.kind == "python" and notify.python == "pytasks:notify"
    assert notify.params == {"channel": "#ops", "count": 3}
    assert notify.run_if == "any_failed" and notify.enabled is False and notify.on_open == "fail"
    assert tasks["once"].retries == RetryPolicy(max=3)
    assert tasks["hello"].timeout == 300.0  # [defaults] reach roots too


def test_schedules_pools_and_services(write):
    result = load_file(write("nightly.toml", NIGHTLY_TOML))
    assert result.tasks["nightly"].schedule == Schedule(
        cron="0 3 * * *", missed="once", timezone="Europe/Berlin")
    assert result.tasks["hello"].schedule == Schedule(every=600.0)
    assert result.tasks["once"].schedule == Schedule(
        at=datetime(2026, 12, 1, 3, 0, tzinfo=UTC))
    assert result.pools == {"db": 2}
    assert result.services == {
        "payments-api": ServiceSpec(
            name="payments-api",
            breaker=BreakerSettings(failures=4, cooldown=45.0),
            rate_limit=RateLimit(rate=0.5, burst=5),
        )
    }


def test_toml_and_yaml_give_identical_task_sets(write):
    from_toml = load_file(write("a/nightly.toml", NIGHTLY_TOML))
    from_yaml = load_file(write("b/nightly.yaml", NIGHTLY_YAML))
    assert from_toml.ok and from_yaml.ok, (from_toml.errors, from_yaml.errors)

    def without_source(result):
        return {name: msgspec.structs.replace(spec, source="")
                for name, spec in result.tasks.items()}

    assert without_source(from_toml) == without_source(from_yaml)
    assert from_toml.pools == from_yaml.pools
    assert from_toml.services == from_yaml.services
    # Identical down to the encoded bytes (types, not just equal values).
    assert msgspec.json.encode(without_source(from_toml)) == msgspec.json.encode(
        without_source(from_yaml))


def test_naive_at_is_read_in_the_schedule_time_zone(write):
    result = load_file(write("a.toml", """
        [tasks.a]
        command = "true"
        schedule = { at = 2026-07-01T03:00:00, timezone = "Europe/Berlin" }
    """))
    assert result.tasks["a"].schedule.at == datetime(2026, 7, 1, 1, 0, tzinfo=UTC)


def test_folders_merge_in_sorted_order_skipping_config_and_hidden(write, tasks_dir):
    write("b.toml", "[pools]\ndb = 2\n[tasks.b]\ncommand = 'true'\n")
    write("a.yml", "pools: {db: 2}\ntasks:\n  a:\n    command: 'true'\n")
    write("sub/c.yaml", "tasks:\n  c:\n    command: 'true'\n")
    write(".hidden.toml", "not toml at all [")
    write("taskflow.toml", "max_workers = 2\n")
    write("notes.txt", "ignored")
    task_set = load_paths([tasks_dir])
    assert task_set.errors == []
    assert task_set.files == [str(tasks_dir / n) for n in ("a.yml", "b.toml", "sub/c.yaml")]
    assert list(task_set.tasks) == ["a", "b", "c"]
    assert task_set.pools == {"db": 2}
    assert discover([tasks_dir]).config_files == [tasks_dir / "taskflow.toml"]


def test_a_broken_file_keeps_out_only_its_own_tasks(write, tasks_dir):
    write("good.toml", "[tasks.good]\ncommand = 'true'\n")
    write("bad.toml", "[tasks.bad]\ncommand = 'true'\n[tasks.worse]\npriority = 9\n")
    task_set = load_paths([tasks_dir])
    assert list(task_set.tasks) == ["good"]
    assert len(task_set.errors) == 2


def test_merge_reuses_results_and_flags_conflicting_pools(write):
    first = load_file(write("a.toml", "[pools]\ndb = 2\n[tasks.a]\ncommand = 'true'\n"))
    second = load_file(write("b.toml", "[pools]\ndb = 5\n[tasks.b]\ncommand = 'true'\n"))
    task_set = merge([first, second])
    assert [e.reason for e in task_set.errors] == [
        f'pool "db" is also defined in {first.file} with limit 2']
    assert list(task_set.tasks) == ["a"]
    # The same results merged the other way round blame the other file.
    assert merge([second, first]).errors[0].file == first.file


def test_explicit_non_task_file_is_an_error(write):
    path = write("notes.txt", "hello")
    assert [e.reason for e in load_paths([path]).errors] == [
        "not a task file (expected .toml, .yaml or .yml)"]


def test_examples_load_cleanly():
    task_set = load_paths([EXAMPLES])
    assert task_set.errors == []
    assert {"deploy", "nightly", "checks", "payments", "cleanup", "heartbeat", "batch"} <= set(
        task_set.tasks)
    deploy = task_set.tasks
    assert deploy["deploy/rollback"].run_if == "any_failed"
    assert deploy["nightly"].schedule.cron == "0 3 * * *"
    assert deploy["cleanup"].schedule.cron == "*/5 * * * *"
    assert deploy["heartbeat"].schedule.every == 30.0
    assert task_set.pools == {"db": 2, "frozen": 0}  # holds.toml: a pool paused by a limit of 0
    shards = [n for n in task_set.tasks if n.startswith("batch/shard-")]
    assert len(shards) == 6 and all(task_set.tasks[n].pool == "db" for n in shards)
    assert task_set.services["payments-api"].breaker.failures == 3
    assert task_set.tasks["payments/settle"].service == "payments-api"
    assert {task_set.tasks[n].kind for n in task_set.tasks if n.startswith("checks/")} == {
        "python"}
