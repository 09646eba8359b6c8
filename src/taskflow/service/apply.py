"""Carrying a plan out, step by step, after checking it can be.

Files are written whole or not at all (``*.partial``, then renamed, as pueue keeps its
state); a folder is removed only if it is empty or is the ``taskflow`` folder of the state
or runtime paths. Commands run through ``systemd_commands``. The first step that fails
stops the plan with one sentence; the steps before it stay done, and a re-run picks up
from there (each step is idempotent).
"""

from __future__ import annotations

import errno
import os
import posixpath
import shlex
import shutil
from collections.abc import Callable

from taskflow.service import ServiceError, systemd_commands
from taskflow.service.group_file import add_group, add_shadow_group, remove_group, system_gid_range
from taskflow.service.layout import ServiceLayout
from taskflow.service.observe import read_text
from taskflow.service.steps import (
    AddGroup,
    AnyStep,
    Keep,
    MakeDir,
    Note,
    Plan,
    RemoveDir,
    RemoveFile,
    RemoveGroup,
    RemoveTree,
    RunCommand,
    WriteFile,
    describe,
)

Echo = Callable[[str], None]


def preflight(layout: ServiceLayout, action: str) -> list[str]:
    """Why ``action`` (install, uninstall) cannot be applied here, one sentence each."""
    if layout.root is not None:
        return []  # writing into a tree needs neither root nor a running systemd
    problems = []
    if layout.scope == "system" and os.geteuid() != 0:
        problems.append(f"a system {action} needs root: run it with sudo, or use --user for a unit of your own, "
                        "or --root DIR to write into a directory tree")
    if layout.scope == "user" and os.geteuid() == 0:
        problems.append("--user is for a non-root user's own unit; as root, leave out --user for the system unit")
    if not systemd_commands.systemd_running():
        problems.append(f"systemd is not running on this machine (PID 1 is {systemd_commands.pid1_name()}, "
                        "not systemd); --root DIR writes the files into a directory tree instead")
    return problems


def apply(plan: Plan, echo: Echo) -> None:
    """Carry out every step of ``plan``, saying what each did."""
    for index, step in enumerate(plan.steps):
        try:
            _apply(step, echo)
        except ServiceError as exc:
            if isinstance(step, RunCommand) and step.argv[0] == "systemd-analyze":
                after = "; the unit is written but not enabled: fix what it names and re-run"
            else:
                after = "" if index == 0 else "; the steps before it are done, and a re-run carries on"
            raise ServiceError(f"{exc}{after}") from None
        except OSError as exc:
            what = describe(step, with_content=False)[0]
            raise ServiceError(f"could not {what}: {exc.strerror or exc}") from None


def _apply(step: AnyStep, echo: Echo) -> None:
    match step:
        case WriteFile():
            write_file(step.path, step.content, int(step.mode, 8))
            echo(f"wrote {step.path}")
        case MakeDir():
            os.makedirs(step.path, mode=int(step.mode, 8), exist_ok=True)
            os.chmod(step.path, int(step.mode, 8))
            echo(f"created {step.path}")
        case AddGroup():
            if step.group_file is None:
                systemd_commands.run(["groupadd", "--system", step.name])
            else:
                _add_group_to_tree(step.group_file, step.name)
            echo(f"created group {step.name}")
        case RemoveGroup():
            if step.group_file is None:
                systemd_commands.run(["groupdel", step.name])
            else:
                _edit(step.group_file, lambda text: remove_group(text, step.name))
                _edit(_gshadow(step.group_file), lambda text: remove_group(text, step.name))
            echo(f"deleted group {step.name}")
        case RunCommand():
            done = systemd_commands.run(step.argv)
            echo(f"ran {shlex.join(step.argv)}")
            for line in (done.stderr + done.stdout).splitlines():
                if line.strip():  # systemd-analyze's warnings, systemctl's "Created symlink ..."
                    echo(f"  {line.strip()}")
        case RemoveFile():
            try:
                os.unlink(step.path)
                echo(f"removed {step.path}")
            except FileNotFoundError:
                echo(f"already gone: {step.path}")
        case RemoveDir():
            try:
                os.rmdir(step.path)
                echo(f"removed {step.path}")
            except FileNotFoundError:
                pass
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
                echo(f"kept {step.path}: it is not empty")
        case RemoveTree():
            if posixpath.basename(step.path.rstrip("/")) != "taskflow":  # a guard against a wrong path
                raise ServiceError(f"refusing to remove {step.path}: not a taskflow folder")
            if os.path.isdir(step.path):
                shutil.rmtree(step.path)
                echo(f"removed {step.path}")
        case Keep():
            echo(f"kept {step.what}: {step.why}")
        case Note():
            echo(f"note: {step.text}")


def write_file(path: str, content: str, mode: int) -> None:
    """Write ``path`` whole: a ``.partial`` beside it, flushed, then renamed over it."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    partial = path + ".partial"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), mode)
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, path)
    except BaseException:
        try:
            os.unlink(partial)
        except FileNotFoundError:
            pass
        raise


def _add_group_to_tree(group_file: str, name: str) -> None:
    etc = os.path.dirname(group_file)
    gid_range = system_gid_range(read_text(os.path.join(etc, "login.defs")))
    try:
        _edit(group_file, lambda text: add_group(text, name, gid_range=gid_range), create=True)
    except ValueError as exc:  # the system gid range is full
        raise ServiceError(f"cannot add group {name} to {group_file}: {exc}") from None
    _edit(_gshadow(group_file), lambda text: add_shadow_group(text, name))


def _gshadow(group_file: str) -> str:
    return os.path.join(os.path.dirname(group_file), "gshadow")


def _edit(path: str, change: Callable[[str], str], *, create: bool = False) -> None:
    """Rewrite ``path`` with ``change`` applied, keeping its mode; a missing file is left
    missing unless ``create``."""
    text = read_text(path)
    if text is None and not create:
        return
    new = change(text or "")
    if new != text:
        mode = os.stat(path).st_mode & 0o7777 if text is not None else 0o644
        write_file(path, new, mode)
