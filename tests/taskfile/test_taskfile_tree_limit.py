"""A tree over the node limit is refused at load with a file:key error."""

from __future__ import annotations

from pathlib import Path

from taskflow.model import DaemonConfig
from taskflow.taskfile import load_file
from taskflow.taskfile.config import load_config


def _tree(leaves: int) -> str:
    lines = ["[tasks.fleet]", 'description = "check every customer database"']
    for i in range(leaves):
        lines += [f"[tasks.fleet.children.db{i}]", f'command = "check {i}"']
    lines += ["[tasks.small]", 'command = "true"']
    return "\n".join(lines) + "\n"


def test_tree_over_the_limit_is_refused_with_its_key(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_text(_tree(10))
    result = load_file(path, max_tree_nodes=5)
    assert [str(e) for e in result.errors] == [
        f"{path}: tasks.fleet.children.db4: tree fleet has more than 5 nodes (the daemon "
        "config's max_tree_nodes); split it or raise the limit"
    ]
    assert result.tasks == {}


def test_each_top_level_tree_has_its_own_budget(tmp_path: Path) -> None:
    path = tmp_path / "ok.toml"
    path.write_text(_tree(4))  # fleet: 5 nodes; small: 1 node
    result = load_file(path, max_tree_nodes=5)
    assert result.ok
    assert len(result.tasks) == 6


def test_default_limit_and_config_setting(tmp_path: Path) -> None:
    assert DaemonConfig().max_tree_nodes == 100_000
    config = tmp_path / "taskflow.toml"
    config.write_text("max_tree_nodes = 20000\n")
    assert load_config(config).max_tree_nodes == 20_000


def test_validate_applies_the_limit_of_a_config_among_its_paths(tmp_path: Path) -> None:
    import subprocess
    import sys

    tasks = tmp_path / "tasks.d"
    tasks.mkdir()
    (tasks / "wide.toml").write_text("[tasks.wide]\n" + "".join(
        f'[tasks.wide.children.n{i}]\ncommand = "true"\n' for i in range(5)))
    config = tmp_path / "taskflow.toml"
    config.write_text("max_tree_nodes = 3\n")

    def validate(*paths: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "taskflow.cli.main", "validate", *map(str, paths)],
                              capture_output=True, text=True, timeout=60)

    assert validate(tasks).returncode == 0  # the default limit is far above 6 nodes
    limited = validate(tasks, config)
    assert limited.returncode == 1 and "max_tree_nodes" in limited.stdout + limited.stderr
