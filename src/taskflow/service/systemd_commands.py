"""Every call of systemctl, journalctl, systemd-analyze, groupadd and groupdel, in one place.

The programs are found on ``PATH`` like any command a person types (so a test can put
recording stand-ins first there). A program that is missing, fails or hangs becomes a
``ServiceError`` with one sentence naming the command and what it said.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Generator, Sequence
from typing import NamedTuple

from taskflow.service import ServiceError

#: The only programs this module runs.
PROGRAMS = frozenset({"systemctl", "journalctl", "systemd-analyze", "groupadd", "groupdel"})

#: What ``sd_booted()`` checks: systemd makes this folder when it is PID 1.
SYSTEMD_RUN_DIR = "/run/systemd/system"


class Finished(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def run(argv: Sequence[str], *, check: bool = True, timeout: float = 120.0, what: str | None = None) -> Finished:
    """Run ``argv`` to its end; with ``check``, a non-zero exit is a ``ServiceError``.

    ``what`` names the command in errors when its full line is too long to read.
    """
    _known(argv)
    name = what or shlex.join(argv)
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, errors="replace")
    except FileNotFoundError:
        raise ServiceError(f"{argv[0]} is not installed here (not found on PATH)") from None
    except subprocess.TimeoutExpired:
        raise ServiceError(f"{name} did not finish within {timeout:.0f}s") from None
    if check and done.returncode != 0:
        raise ServiceError(failure(name, done.returncode, done.stderr or done.stdout))
    return Finished(done.returncode, done.stdout, done.stderr)


def stream(argv: Sequence[str]) -> Generator[str, None, None]:
    """The lines ``argv`` prints, as it prints them (``journalctl -f``); stops it when closed."""
    _known(argv)
    try:
        proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True, errors="replace")
    except FileNotFoundError:
        raise ServiceError(f"{argv[0]} is not installed here (not found on PATH)") from None
    assert proc.stdout is not None and proc.stderr is not None
    try:
        yield from proc.stdout
        code = proc.wait()
        if code != 0:
            raise ServiceError(failure(shlex.join(argv), code, proc.stderr.read()))
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def failure(command: str, code: int, output: str) -> str:
    """One sentence: the command, its exit status, and the first lines it said."""
    said = [line.strip().rstrip(".") for line in output.splitlines() if line.strip()]
    detail = "; ".join(said[:3]) + (f" (and {len(said) - 3} more lines)" if len(said) > 3 else "")
    return f"{command} failed (exit {code})" + (f": {detail}" if detail else "")


def systemd_running() -> bool:
    """Whether systemd is this machine's init (PID 1), as ``sd_booted()`` tells."""
    return os.path.isdir(SYSTEMD_RUN_DIR)


def pid1_name() -> str:
    """What PID 1 is called (``systemd``, ``init``, ``tini``...), or ``unknown``."""
    try:
        with open("/proc/1/comm", encoding="utf-8", errors="replace") as f:
            return f.read().strip() or "unknown"
    except OSError:
        return "unknown"


def _known(argv: Sequence[str]) -> None:
    if not argv or argv[0] not in PROGRAMS:
        raise ValueError(f"not a systemd or group command: {list(argv)!r}")
