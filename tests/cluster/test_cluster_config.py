"""``[executor]`` and ``where`` are checked offline, key by key, with file:key errors; the
local executor stays the default and needs no ``distributed``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from taskflow.model import ExecutorConfig, LocalClusterSettings, Placement
from taskflow.taskfile import ConfigError, load_config, load_file


def _validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "taskflow.cli.main", "validate", *map(str, paths)],
                          capture_output=True, text=True, timeout=30)


def test_executor_settings_read_as_written(tmp_path: Path):
    remote = tmp_path / "taskflow.toml"
    remote.write_text('[executor]\nkind = "dask"\naddress = "tcp://10.0.0.5:8786"\nsend_all = true\n'
                      'poll_interval = "250ms"\n')
    assert load_config(remote).executor == ExecutorConfig(kind="dask", address="tcp://10.0.0.5:8786", send_all=True,
                                                          poll_interval=0.25)
    remote.write_text('[executor]\nkind = "dask"\nlocal = { workers = 3, threads = 2, resources = { gpu = 1 } }\n')
    assert load_config(remote).executor.local == LocalClusterSettings(workers=3, threads=2, resources={"gpu": 1.0})
    remote.write_text("max_workers = 2\n")
    assert load_config(remote).executor == ExecutorConfig(kind="local")


def test_every_executor_problem_is_named_by_its_key(tmp_path: Path):
    path = tmp_path / "taskflow.toml"
    path.write_text('[executor]\nkind = "celery"\naddress = "http://x:1"\nlocal = { workers = 0, nodes = 2 }\n'
                    'spare = true\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    text = str(caught.value)
    for expected in (
        f"{path}: executor.kind: must be one of \"local\", \"dask\", got 'celery'",
        f"{path}: executor.address: expected a scheduler address such as \"tcp://10.0.0.5:8786\", got 'http://x:1'",
        f"{path}: executor.local.workers: must be between 1 and 256, got 0",
        f"{path}: executor.local.nodes: unknown key",
        f"{path}: executor.spare: unknown key",
    ):
        assert expected in text, text
    path.write_text('[executor]\nkind = "dask"\n')
    with pytest.raises(ConfigError, match=r'executor: kind = "dask" needs address = "tcp://HOST:PORT" or local'):
        load_config(path)
    path.write_text('[executor]\nkind = "dask"\naddress = "tcp://a:1"\nlocal = { workers = 2 }\n')
    with pytest.raises(ConfigError, match="takes address or local, not both"):
        load_config(path)


def test_where_is_inherited_and_checked(tmp_path: Path):
    (tmp_path / "tasks.toml").write_text('''
[tasks.etl]
where = { workers = ["db-1", "db-2"] }
[tasks.etl.children.extract]
command = "true"
[tasks.etl.children.crunch]
command = "true"
where = { resources = { cpu = 4, gpu = 1 } }
[tasks.plain]
command = "true"
''')
    tasks = load_file(tmp_path / "tasks.toml").tasks
    assert tasks["etl/extract"].where == Placement(workers=("db-1", "db-2"))
    assert tasks["etl/crunch"].where == Placement(resources={"cpu": 4.0, "gpu": 1.0})  # the nearest wins
    assert tasks["plain"].where is None


def test_validate_reports_bad_where_and_bad_executor_as_file_key_sentences(tmp_path: Path):
    tasks = tmp_path / "tasks.toml"
    tasks.write_text('[tasks.a]\ncommand = "true"\nwhere = { workers = [1], resources = { cpu = 0 }, zone = "eu" }\n')
    config = tmp_path / "taskflow.toml"
    config.write_text('[executor]\nkind = "dask"\nlocal = { workers = "two" }\n')
    result = _validate(tasks, config)
    assert result.returncode == 1
    lines = result.stdout.splitlines() + result.stderr.splitlines()
    assert f"{tasks}: tasks.a.where.workers[0]: expected a string, got an integer" in lines, lines
    assert f"{tasks}: tasks.a.where.resources.cpu: must be greater than 0, got 0" in lines, lines
    assert f"{tasks}: tasks.a.where.zone: unknown key" in lines, lines
    assert f"{config}: executor.local.workers: expected an integer, got a string" in lines, lines
    assert "Traceback" not in result.stderr


def test_the_cli_and_a_local_daemon_config_never_import_distributed(tmp_path: Path):
    config = tmp_path / "taskflow.toml"
    config.write_text('[executor]\nkind = "dask"\naddress = "tcp://127.0.0.1:1"\n')
    probe = ("import sys, taskflow.cli.main, taskflow.taskfile as t; t.load_config(sys.argv[1]); "
             "import taskflow.daemon.app; print('distributed' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe, str(config)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
