"""Themes ship inside the wheel, where the TUI looks for them first."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_carries_every_builtin_theme(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = tmp_path.glob("taskflowd-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for theme in sorted((ROOT / "themes").glob("*.toml")):
        assert f"taskflow/themes/{theme.name}" in names, theme.name
    assert "taskflow/cli/completion/taskflow.bash" in names
