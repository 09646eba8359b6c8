"""The command lines of systemctl, journalctl, systemd-analyze and groupadd, as argv lists.

Pure, so a plan can hold them and ``--dry-run`` can print them; ``systemd_commands`` runs them.
"""

from __future__ import annotations

from taskflow.service.layout import UNIT_NAME, ServiceLayout

#: What ``service status`` asks ``systemctl show`` for.
SHOW_PROPERTIES = (
    "LoadState", "ActiveState", "SubState", "UnitFileState", "MainPID", "ActiveEnterTimestamp",
    "FragmentPath", "DropInPaths", "NRestarts", "Result", "InvocationID",
)


def systemctl(layout: ServiceLayout, *args: str) -> list[str]:
    """``systemctl [--user | --root=DIR] ARGS``."""
    scope = ["--user"] if layout.user else []
    if layout.root is not None:
        scope.append(f"--root={layout.root}")
    return ["systemctl", *scope, *args]


def show(layout: ServiceLayout) -> list[str]:
    return systemctl(layout, "show", UNIT_NAME, "--property=" + ",".join(SHOW_PROPERTIES))


def verify(layout: ServiceLayout) -> list[str]:
    """``systemd-analyze verify`` of the installed unit (with its drop-ins).

    A system unit below ``--root`` is verified in that tree (``--root=DIR`` and the unit's
    path inside it). ``systemd-analyze --user`` takes no ``--root``, so a user unit is
    verified by its file, against this machine's user unit library.
    """
    if layout.user:
        return ["systemd-analyze", "--user", "verify", "--man=no", layout.on_disk(layout.unit_path)]
    scope = [f"--root={layout.root}"] if layout.root is not None else []
    return ["systemd-analyze", "verify", *scope, "--man=no", layout.unit_path]


def journal(layout: ServiceLayout, *, lines: int | None = None, follow: bool = False,
            since: str | None = None) -> list[str]:
    """The daemon's journal as JSON objects, one a line: ``journalctl -u taskflowd -o json``."""
    scope = ["--user"] if layout.user else []
    argv = ["journalctl", *scope, "--unit", UNIT_NAME, "-o", "json", "--no-pager"]
    if lines is not None:
        argv += ["-n", str(lines)]
    if since:
        argv += ["--since", since]
    if follow:
        argv.append("-f")
    return argv


def groupadd(name: str) -> list[str]:
    return ["groupadd", "--system", name]


def groupdel(name: str) -> list[str]:
    return ["groupdel", name]
