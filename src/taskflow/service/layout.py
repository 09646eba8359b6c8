"""Where ``taskflow service`` puts each file: a system unit or a user unit, maybe under ``--root``.

A *system* unit (``/etc/systemd/system``) runs the daemon as root with the paths of
DESIGN.md ("Commands"): socket ``/run/taskflow/taskflowd.sock``, state ``/var/lib/taskflow``,
tasks ``/etc/taskflow/tasks.d``. A *user* unit (``~/.config/systemd/user``, for
``systemctl --user``) runs it as its user with the XDG folders: socket
``$XDG_RUNTIME_DIR/taskflow``, state ``$XDG_STATE_HOME/taskflow``, tasks
``$XDG_CONFIG_HOME/taskflow/tasks.d``. Every path here is the one on the target machine;
``on_disk`` puts ``--root DIR`` in front of it. Pure: the environment is passed in.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Literal

import msgspec

UNIT_NAME = "taskflowd.service"
DROP_IN_NAME = "hardening.conf"
EXAMPLE_NAME = "example.toml"
#: What install left behind, so uninstall removes that and nothing else.
RECORD_NAME = "service-install.json"
#: The socket's group (viewers connect) and the operator group (DESIGN.md "Security").
SYSTEM_GROUPS = ("taskflow", "taskflow-ops")

Scope = Literal["system", "user"]


class ServiceLayout(msgspec.Struct, frozen=True, kw_only=True):
    """The paths of one installation of the unit."""

    scope: Scope
    root: str | None = None  # --root DIR: write into this tree instead of /
    unit_dir: str
    config_dir: str
    tasks_dir: str
    state_dir: str
    runtime_dir: str
    socket: str
    groups: tuple[str, ...] = ()  # groups the install creates (system units only)

    @property
    def unit_path(self) -> str:
        return posixpath.join(self.unit_dir, UNIT_NAME)

    @property
    def drop_in_dir(self) -> str:
        return self.unit_path + ".d"

    @property
    def drop_in_path(self) -> str:
        return posixpath.join(self.drop_in_dir, DROP_IN_NAME)

    @property
    def example_path(self) -> str:
        return posixpath.join(self.tasks_dir, EXAMPLE_NAME)

    @property
    def record_path(self) -> str:
        return posixpath.join(self.config_dir, RECORD_NAME)

    @property
    def user(self) -> bool:
        return self.scope == "user"

    def on_disk(self, path: str) -> str:
        """``path`` as this process reaches it: below ``--root`` when one was given."""
        if self.root is None:
            return path
        return posixpath.join(self.root, path.lstrip("/"))


def system_layout(root: str | None = None) -> ServiceLayout:
    """The system unit's layout (the daemon runs as root)."""
    return ServiceLayout(
        scope="system",
        root=root,
        unit_dir="/etc/systemd/system",
        config_dir="/etc/taskflow",
        tasks_dir="/etc/taskflow/tasks.d",
        state_dir="/var/lib/taskflow",
        runtime_dir="/run/taskflow",
        socket="/run/taskflow/taskflowd.sock",
        groups=SYSTEM_GROUPS,
    )


def user_layout(env: Mapping[str, str], *, home: str, uid: int, root: str | None = None) -> ServiceLayout:
    """A user unit's layout, from the XDG variables of ``env`` (their defaults when unset)."""

    def xdg(name: str, default: str) -> str:
        value = env.get(name, "")
        return value if posixpath.isabs(value) else posixpath.join(home, default)

    config = xdg("XDG_CONFIG_HOME", ".config")
    runtime = env.get("XDG_RUNTIME_DIR") or f"/run/user/{uid}"
    return ServiceLayout(
        scope="user",
        root=root,
        unit_dir=posixpath.join(config, "systemd", "user"),
        config_dir=posixpath.join(config, "taskflow"),
        tasks_dir=posixpath.join(config, "taskflow", "tasks.d"),
        state_dir=posixpath.join(xdg("XDG_STATE_HOME", ".local/state"), "taskflow"),
        runtime_dir=posixpath.join(runtime, "taskflow"),
        socket=posixpath.join(runtime, "taskflow", "taskflowd.sock"),
    )
