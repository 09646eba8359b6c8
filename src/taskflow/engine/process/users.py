"""Running a task as another user: ``user = "deploy"`` in a task file.

DESIGN.md: tasks run with the daemon's user unless a task sets ``user`` and the daemon is
root. The wrapper shell stays root (it opens the output files and records the exit status
in the root-owned state dir); only the task itself is started through ``setpriv`` with the
user's uid, gid and supplementary groups, and ``HOME``/``USER``/``LOGNAME`` set for it.
A ``user`` the daemon cannot switch to is a ``config`` problem, never retried.
"""

from __future__ import annotations

import os
import pwd
import shutil
from dataclasses import dataclass

SETPRIV = "setpriv"  # util-linux, essential on Debian and present on every mainstream distro


@dataclass(frozen=True, slots=True)
class TaskUser:
    name: str
    uid: int
    gid: int
    home: str

    def prefix(self) -> tuple[str, ...]:
        """argv that runs what follows as this user."""
        setpriv = shutil.which(SETPRIV) or f"/usr/bin/{SETPRIV}"
        return (setpriv, f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups", "--")

    def env(self) -> dict[str, str]:
        return {"HOME": self.home, "USER": self.name, "LOGNAME": self.name}


def _daemon_user() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def resolve_user(name: str | None) -> TaskUser | None:
    """The user to switch to, or None to run as the daemon's user.

    Raises ``ValueError`` with one sentence when the daemon cannot honour ``name``.
    """
    if not name:
        return None
    current = _daemon_user()
    if name == current:
        return None
    if os.geteuid() != 0:
        raise ValueError(f'task sets user "{name}", but the daemon runs as {current} and only root can switch users')
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise ValueError(f'task sets user "{name}", which does not exist on this host') from None
    if shutil.which(SETPRIV) is None and not os.path.exists(f"/usr/bin/{SETPRIV}"):
        raise ValueError(f'task sets user "{name}", but setpriv (util-linux) is not installed')
    return TaskUser(entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir)


def user_problem(name: str | None, *, python: bool = False) -> str | None:
    """Why a task's ``user`` cannot be honoured, or None."""
    try:
        found = resolve_user(name)
    except ValueError as exc:
        return str(exc)
    if found is not None and python:
        # The runner reads and writes its call and result files in the root-only state dir.
        return f'task sets user "{name}": only command tasks can run as another user; Python tasks run as the daemon\'s user'
    return None
