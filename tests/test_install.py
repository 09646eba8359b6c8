"""The documented install works: the wheel alone in a fresh venv, as docs/operations.md says,
and the shipped unit runs what that install puts in place (issue 9 item 2)."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import taskflow

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTION = "taskflowd"  # `taskflow` on PyPI is OpenStack's TaskFlow


def _run(*argv: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout)


def _documented_venv() -> str:
    text = (ROOT / "docs" / "operations.md").read_text()
    [venv] = set(re.findall(r"python3 -m venv (\S+)", text))
    assert f"{venv}/bin/pip install '{DISTRIBUTION}[yaml,metrics]'" in text
    return venv


def test_unit_runs_the_documented_install() -> None:
    [exec_start] = re.findall(r"^ExecStart=(\S+)", (ROOT / "taskflowd.service").read_text(), re.M)
    assert exec_start == f"{_documented_venv()}/bin/taskflowd"


def test_wheel_installs_alone_into_a_fresh_venv_and_works(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, ROOT)
    assert built.returncode == 0, built.stderr
    [wheel] = dist.glob("*.whl")
    assert wheel.name == f"{DISTRIBUTION}-{taskflow.__version__}-py3-none-any.whl"
    metadata = next(n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".dist-info/METADATA"))
    assert f"Name: {DISTRIBUTION}\n" in zipfile.ZipFile(wheel).read(metadata).decode()

    venv = tmp_path / "opt-taskflow"
    assert _run(sys.executable, "-m", "venv", venv).returncode == 0
    installed = _run(venv / "bin" / "pip", "install", "-q", f"{wheel}[yaml]", timeout=600)
    assert installed.returncode == 0, installed.stderr

    version = _run(venv / "bin" / "taskflowd", "--version")
    assert (version.returncode, version.stdout.strip()) == (0, f"taskflowd {taskflow.__version__}")
    checked = _run(venv / "bin" / "taskflow", "validate", ROOT / "examples")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("ok: ")
    # The installed copy is what ran, not this checkout.
    where = _run(venv / "bin" / "python", "-c", "import taskflow; print(taskflow.__file__)")
    assert where.stdout.startswith(str(venv)), where.stdout
