"""Helpers for the ``taskflow service`` tests: stand-in systemd commands, unit trees, a CLI runner.

Where systemd is not PID 1 (CI, containers), the commands that need a running systemd
(``systemctl``, ``journalctl``) and the ones that change this machine (``groupadd``,
``groupdel``) are real executables placed first on ``PATH`` that record their argv, one
JSON list a line, and print what the test gave them. ``systemd-analyze`` is the real one:
it verifies what install wrote.
"""


from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

STAND_INS = ("systemctl", "journalctl", "groupadd", "groupdel")

STAND_IN = """\
#!{python}
# A stand-in for {name}: records its argv, prints the canned output, exits with the canned code.
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "calls.jsonl"), "a") as log:
    log.write(json.dumps([os.path.basename(sys.argv[0]), *sys.argv[1:]]) + "\\n")
for suffix, stream in ((".out", sys.stdout), (".err", sys.stderr)):
    path = os.path.join(here, "{name}" + suffix)
    if os.path.exists(path):
        with open(path) as f:
            stream.write(f.read())
code = os.path.join(here, "{name}.rc")
sys.exit(int(open(code).read()) if os.path.exists(code) else 0)
"""

needs_analyze = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                   reason="systemd-analyze not installed (.ci/run installs it)")


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


@dataclass
class StandIns:
    """The folder of stand-ins; ``calls()`` is every command they were run as."""

    bin: Path
    env: dict[str, str] = field(default_factory=dict)

    def calls(self) -> list[list[str]]:
        log = self.bin / "calls.jsonl"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]

    def reply(self, name: str, out: str = "", err: str = "", code: int = 0) -> None:
        """What the stand-in for ``name`` prints and exits with from now on."""
        (self.bin / f"{name}.out").write_text(out)
        (self.bin / f"{name}.err").write_text(err)
        (self.bin / f"{name}.rc").write_text(str(code))

    def taskflow(self, *args: str, timeout: float = 60, env: dict[str, str] | None = None,
                 prefix: list[str] | None = None) -> Result:
        """The CLI in a subprocess with the stand-ins first on PATH; never a traceback.

        ``prefix`` goes before the interpreter (``unshare --user`` for a non-root run)."""
        full_env = {**os.environ, **self.env, **(env or {})}
        full_env.pop("TASKFLOW_DEBUG", None)
        done = subprocess.run([*(prefix or []), sys.executable, "-m", "taskflow.cli.main", *args],
                              capture_output=True, text=True, timeout=timeout, env=full_env)
        assert "Traceback" not in done.stderr, done.stderr
        assert "Traceback" not in done.stdout, done.stdout
        return Result(done.returncode, done.stdout, done.stderr)


def make_stand_ins(folder: Path) -> StandIns:
    """The stand-ins in ``folder``, and the environment that puts them first on PATH."""
    folder.mkdir()
    for name in STAND_INS:
        path = folder / name
        path.write_text(STAND_IN.format(python=sys.executable, name=name))
        path.chmod(0o755)
    env = {"PATH": f"{folder}{os.pathsep}{os.environ.get('PATH', '')}", "NO_COLOR": "1"}
    return StandIns(folder, env)


def non_root_prefix() -> list[str] | None:
    """How to run a command as a non-root user here: as it is when we are not root; as root,
    in a new user namespace (``unshare --user``: the process is uid 65534 there but keeps
    reading the files it could, such as this interpreter under /root); None if neither."""
    if os.geteuid() != 0:
        return []
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "--user", "true"], capture_output=True).returncode == 0:
        return [unshare, "--user"]
    return None


def unit_library_tree(root: Path, *executables: str) -> Path:
    """``root`` made fit for ``systemd-analyze verify --root``: systemd's own units (a target
    machine has them) and stand-ins for the executables the unit names."""
    for library in ("/lib/systemd/system", "/usr/lib/systemd/system"):
        if (root / "usr/lib/systemd/system/sysinit.target").exists():
            break  # copied already
        if Path(library).is_dir():
            shutil.copytree(library, root / "usr/lib/systemd/system", dirs_exist_ok=True, symlinks=True)
            break
    for exe in ("bin/kill", *executables):
        path = root / exe.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    return root


def tree_state(root: Path) -> dict[str, tuple[int, str]]:
    """Every path below ``root`` with its mode and content (or link target): to compare."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                state[rel] = (0, os.readlink(path))
            elif path.is_dir():
                state[rel] = (path.stat().st_mode, "")
            else:
                state[rel] = (path.stat().st_mode, path.read_text(errors="replace"))
    return state
