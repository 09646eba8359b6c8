"""``taskflow.toml``: human units, relative paths, and every error at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from taskflow.model import BreakerSettings, DaemonConfig, RetentionConfig
from taskflow.taskfile import ConfigError, load_config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_human_units_and_relative_paths(tmp_path: Path):
    path = tmp_path / "taskflow.toml"
    path.write_text(
        'tasks = ["tasks.d", "/srv/more"]\n'
        'state_dir = "state"\n'
        'python_path = "plugins"\n'
        'stop_grace = "15s"\n'
        'output_cap = "32MiB"\n'
        "max_workers = 3\n"
        'adhoc = "off"\n'
        "[pools]\ndb = 2\n"
        '[breaker]\nfailures = 5\ncooldown = "2m"\n'
        '[retention]\ndays = "2d"\nper_task = false\n'
        '[keys]\nquit = "q,ctrl+c"\n'
    )
    config = load_config(path)
    assert config == DaemonConfig(
        tasks=[str(tmp_path / "tasks.d"), "/srv/more"],
        state_dir=str(tmp_path / "state"),
        python_path=[str(tmp_path / "plugins")],
        stop_grace=15.0,
        output_cap=32 * 1024**2,
        max_workers=3,
        adhoc="off",
        pools={"db": 2},
        breaker=BreakerSettings(failures=5, cooldown=120.0),
        retention=RetentionConfig(days=2.0, per_task=None),
        keys={"quit": "q,ctrl+c"},
    )


def test_every_error_is_reported(tmp_path: Path):
    path = tmp_path / "taskflow.toml"
    path.write_text(
        "max_workers = 0\n"
        'stop_grace = "a while"\n'
        'log_format = "xml"\n'
        "mystery = 1\n"
        "[retention]\ndays = -1\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert [str(e) for e in caught.value.errors] == [
        f"{path}: mystery: unknown key",
        f"{path}: max_workers: must be at least 1, got 0",
        f"{path}: stop_grace: invalid duration 'a while' (use seconds or \"90s\", \"5m\", \"2h\")",
        f'{path}: log_format: must be one of "json", "text", got \'xml\'',
        f"{path}: retention.days: must be greater than 0, got -1",
    ]
    assert str(caught.value).count("\n") == 4


def test_audit_retention_is_its_own_long_setting(tmp_path: Path):
    path = tmp_path / "taskflow.toml"
    path.write_text("[retention]\ndays = 7\n")
    assert load_config(path).retention == RetentionConfig(days=7.0, audit_days=365.0)
    path.write_text('[retention]\naudit_days = "90d"\n')
    assert load_config(path).retention == RetentionConfig(audit_days=90.0)
    path.write_text("[retention]\naudit_days = false\n")
    assert load_config(path).retention.audit_days is None
    path.write_text("[retention]\naudit_days = 0\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert [str(e) for e in caught.value.errors] == [
        f"{path}: retention.audit_days: must be greater than 0, got 0"]
    path.write_text('[retention]\naudit_days = "-1d"\n')
    with pytest.raises(ConfigError, match=r"retention\.audit_days: "):
        load_config(path)


def test_attempt_cgroups_is_a_boolean_defaulting_to_on(tmp_path: Path):
    path = tmp_path / "taskflow.toml"
    path.write_text("max_workers = 2\n")
    assert load_config(path).attempt_cgroups is True
    path.write_text("attempt_cgroups = false\n")
    assert load_config(path).attempt_cgroups is False
    path.write_text('attempt_cgroups = "no"\n')
    with pytest.raises(ConfigError, match="attempt_cgroups: "):
        load_config(path)


def test_min_workers_above_max(tmp_path: Path):
    path = tmp_path / "taskflow.toml"
    path.write_text("max_workers = 2\nmin_workers = 3\n")
    with pytest.raises(ConfigError, match="min_workers: must not exceed max_workers"):
        load_config(path)


def test_syntax_error_and_missing_file(tmp_path: Path):
    bad = tmp_path / "taskflow.toml"
    bad.write_text("max_workers = \n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="cannot read file"):
        load_config(tmp_path / "missing.toml")


def test_example_config_is_valid():
    config = load_config(EXAMPLES / "taskflow.toml")
    assert config.tasks == [str(EXAMPLES)]
    assert config.output_cap == 4 * 1024**2


def test_fields_without_a_checker_are_still_type_checked(tmp_path: Path):
    path = tmp_path / "taskflow.toml"
    path.write_text('plugins = ["hooks", 3]\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert [str(e) for e in caught.value.errors] == [
        f"{path}: plugins[1]: Expected `str`, got `int`"]
    path.write_text('plugins = ["hooks"]\n')
    assert load_config(path).plugins == ["hooks"]


def test_notifiers_are_read_and_every_mistake_in_them_named(tmp_path: Path):
    from taskflow.model.notifications import EmailSettings, NotifierConfig

    path = tmp_path / "taskflow.toml"
    path.write_text(
        '[notifiers.chat]\nwebhook = "https://chat.example.com/hook"\non = ["failed"]\ntags = "prod"\n'
        'timeout = "5s"\n'
        '[notifiers.mail]\nemail = { to = "ops@example.com", smtp = "mail:25" }\n'
    )
    assert load_config(path).notifiers == {
        "chat": NotifierConfig(name="chat", kind="webhook", webhook="https://chat.example.com/hook",
                               on=("failed",), tags=("prod",), timeout=5.0),
        "mail": NotifierConfig(name="mail", kind="email",
                               email=EmailSettings(to=("ops@example.com",), smtp="mail:25")),
    }
    path.write_text(
        '[notifiers.a]\nwebhook = "ftp://x"\n'
        '[notifiers.b]\ncommand = "cat"\nwebhook = "http://x"\n'
        '[notifiers.c]\ncommand = "cat"\non = ["failed", "recoverd"]\nretries = -1\n'
        '[notifiers.d]\nemail = { smtp = "mail" }\n'
        '[notifiers.e]\nemail = { to = "x@y", smtp = "mail" }\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert [str(e).removeprefix(f"{path}: ") for e in caught.value.errors] == [
        "notifiers.a.webhook: must be an http:// or https:// URL, got 'ftp://x'",
        "notifiers.b: needs exactly one of command, webhook, email (found: command, webhook)",
        'notifiers.c.on[1]: must be one of "failed", "recovered", "breaker_opened", "breaker_closed", "late", '
        "got 'recoverd'",
        "notifiers.c.retries: must be between 0 and 20, got -1",
        "notifiers.d.email: needs `to`, the addresses to write to",
        "notifiers.e.email.smtp: must be host:port, got 'mail'",
    ]
