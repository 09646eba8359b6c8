"""Where the daemon's socket is, by default: shared by the CLI, the TUI and ``taskflowd``.

Precedence (DESIGN.md "Commands"): an explicit path, then ``TASKFLOW_SOCKET``, then
``/run/taskflow/taskflowd.sock`` for root, else ``$XDG_RUNTIME_DIR/taskflow/taskflowd.sock``
(falling back to ``/tmp/taskflow-<uid>/taskflowd.sock`` when no runtime dir is set, as over
some ``su`` sessions). A non-root client with no daemon of its own uses the system one.
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


def resolve_socket_path(
    explicit: str | None = None, *, system: str = ROOT_SOCKET, uid: int | None = None
) -> str:
    """Where a client connects: ``explicit`` (``--socket``) or ``TASKFLOW_SOCKET`` when
    given; else this user's own daemon's socket when there is one; else the system daemon's
    (``/run/taskflow/taskflowd.sock``) — so a member of the socket group reaches the daemon
    systemd runs without saying where it is."""
    if explicit:
        return explicit
    own = default_socket_path(uid=uid)
    if own == system or os.environ.get("TASKFLOW_SOCKET") or os.path.exists(own):
        return own
    # The system directory may be closed to us (not in its group): connecting there still
    # gives the better error, naming that directory, than "no such socket" for our own.
    return system if os.path.isdir(os.path.dirname(system)) else own
