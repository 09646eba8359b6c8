"""What each browser connection runs: the ``taskflow tui`` command line textual-serve starts.

textual-serve starts a new process per browser tab through the shell, so the command is
one quoted string. It names the socket explicitly (every tab sees the daemon the web
process resolved at start) and, unless actions were allowed, asks for ``--read-only``: the
served dashboard then refuses every mutating key whatever role the daemon grants the user
running ``taskflow web``.
"""

from __future__ import annotations

import shlex
import sys


def dashboard_command(socket_path: str, *, read_only: bool = True, theme: str | None = None) -> str:
    """The shell command of one served dashboard (``exec``: no shell left between)."""
    argv = [sys.executable, "-m", "taskflow.cli.main", "--socket", socket_path, "tui"]
    if read_only:
        argv.append("--read-only")
    if theme:
        argv += ["--theme", theme]
    return "exec " + shlex.join(argv)
