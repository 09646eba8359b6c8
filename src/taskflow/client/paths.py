"""Where the daemon's socket is, by default: shared by the CLI, the TUI and ``taskflowd``.

Precedence (DESIGN.md "Commands"): an explicit path, then ``TASKFLOW_SOCKET``, then
``/run/taskflow/taskflowd.sock`` for root, else ``$XDG_RUNTIME_DIR/taskflow/taskflowd.sock``
(falling back to ``/tmp/taskflow-<uid>/taskflowd.sock`` when no runtime dir is set, as over
some ``su`` sessions).
"""

from __future__ import annotations

import os

SOCKET_NAME = "taskflowd.sock"
ROOT_SOCKET = "/run/taskflow/taskflowd.sock"


def default_socket_path(env: dict[str, str] | None = None, uid: int | None = None) -> str:
    """The socket path to use when none was given on the command line."""
    env = dict(os.environ) if env is None else env
    uid = os.getuid() if uid is None else uid
    if env.get("TASKFLOW_SOCKET"):
        return env["TASKFLOW_SOCKET"]
    if uid == 0:
        return ROOT_SOCKET
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime:
        return os.path.join(runtime, "taskflow", SOCKET_NAME)
    return os.path.join("/tmp", f"taskflow-{uid}", SOCKET_NAME)


def resolve_socket_path(explicit: str | None = None) -> str:
    """``explicit`` (``--socket``) when given, else the default for this user."""
    return explicit or default_socket_path()
