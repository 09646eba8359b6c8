"""Install and uninstall as plans: from what is wanted and what is there, the steps to take.

Pure: the files are rendered (``unit_file``) and the machine observed (``observe``) before
this runs, so a plan can be printed (``--dry-run``), checked by a test, or applied. Re-running
install on an installed machine plans only ``Keep`` steps and the systemctl calls, which
are idempotent; a changed unit is a ``WriteFile`` with its ``previous`` text, which the
CLI shows as a diff and asks about.
"""

from __future__ import annotations

import msgspec

from taskflow.service import ServiceError, command_lines
from taskflow.service.layout import UNIT_NAME, ServiceLayout
from taskflow.service.steps import (
    AddGroup,
    AnyStep,
    InstallRecord,
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
)
from taskflow.service.unit_file import is_ours


class Observed(msgspec.Struct, kw_only=True):
    """What is on the machine now, for the paths of one layout (read by ``observe``)."""

    unit: str | None = None  # the unit file's text, if there is one
    drop_in: str | None = None  # the hardening drop-in's text
    example: str | None = None  # the example task's text
    record: InstallRecord | None = None
    groups: list[str] = []  # which of the layout's groups exist
    dirs: list[str] = []  # which of the layout's folders exist (target paths)
    tasks_dir_empty: bool = True
    unit_library: bool = True  # the tree has systemd's own units, so verify can run in it
    lingering: bool = False  # loginctl enable-linger is on for this user
    user_name: str = "USER"  # who runs install (the owner of a user unit)
    cli_on_path: str | None = None  # the `taskflow` everyone's PATH finds, if any
    cli: str = "taskflow"  # this taskflow, as the unit's ExecStart neighbour


def plan_install(layout: ServiceLayout, observed: Observed, *, unit: str, drop_in: str | None,
                 example: str) -> Plan:
    """The steps that make ``layout`` hold ``unit`` (and ``drop_in``), groups and folders.

    Raises ``ServiceError`` when a unit or drop-in is there that install did not write.
    """
    steps: list[AnyStep] = []
    record = observed.record or InstallRecord(scope=layout.scope)
    files, dirs, groups = list(record.files), list(record.dirs), list(record.groups)
    group_file = layout.on_disk("/etc/group") if layout.root is not None else None

    for group in layout.groups:
        if group in observed.groups:
            steps.append(Keep(what=f"group {group}", why="it exists"))
        else:
            steps.append(AddGroup(name=group, group_file=group_file))
            _add(groups, group)

    wanted_dirs = [layout.unit_dir, layout.config_dir, layout.tasks_dir]
    if drop_in is not None:
        wanted_dirs.append(layout.drop_in_dir)
    for folder in wanted_dirs:
        if folder not in observed.dirs:
            steps.append(MakeDir(path=layout.on_disk(folder)))
            _add(dirs, folder)

    if observed.example is not None:
        steps.append(Keep(what=layout.on_disk(layout.example_path), why="it exists"))
    elif layout.tasks_dir not in observed.dirs or observed.tasks_dir_empty:
        steps.append(WriteFile(path=layout.on_disk(layout.example_path), content=example))
        _add(files, layout.example_path)
    else:
        steps.append(Keep(what=layout.on_disk(layout.tasks_dir), why="it has task files; no example added"))

    unit_step = _marked_file(layout, layout.unit_path, unit, observed.unit, "unit")
    steps.append(unit_step)
    _add(files, layout.unit_path)
    # A running daemon is restarted only when what it runs under changed.
    changed = isinstance(unit_step, WriteFile) and unit_step.replaces
    if drop_in is not None:
        drop_in_step = _marked_file(layout, layout.drop_in_path, drop_in, observed.drop_in, "drop-in")
        steps.append(drop_in_step)
        _add(files, layout.drop_in_path)
        changed = changed or isinstance(drop_in_step, WriteFile)
    elif observed.drop_in is not None:
        steps.append(Keep(what=layout.on_disk(layout.drop_in_path),
                          why="installed earlier (--hardening); delete it and re-run to drop the hardening"))

    new_record = InstallRecord(scope=layout.scope, files=files, dirs=dirs, groups=groups)
    if new_record != observed.record:  # rewritten without asking: it is install's own bookkeeping
        encoded = msgspec.json.format(msgspec.json.encode(new_record), indent=2).decode() + "\n"
        steps.append(WriteFile(path=layout.on_disk(layout.record_path), content=encoded))

    if layout.root is not None and not layout.user and not observed.unit_library:
        steps.append(Note(text=f"systemd-analyze verify skipped: {layout.root} has no systemd unit library "
                               "(usr/lib/systemd/system); verify the unit where it will run"))
    else:
        steps.append(RunCommand(argv=command_lines.verify(layout), why="check the unit before enabling it"))
    steps.extend(_activation(layout, observed, changed=changed and observed.unit is not None))
    return Plan(action="install", layout=layout, steps=steps)


def _activation(layout: ServiceLayout, observed: Observed, *, changed: bool) -> list[AnyStep]:
    """Load, enable and start the unit, or (below ``--root``) only enable it in that tree."""
    steps: list[AnyStep] = []
    if layout.root is not None and layout.user:
        steps.append(Note(text=f"enable it once {layout.root} is in place: systemctl --user enable --now "
                               f"{UNIT_NAME} (systemctl takes no --root for user units)"))
    elif layout.root is not None:
        steps.append(RunCommand(argv=command_lines.systemctl(layout, "enable", UNIT_NAME),
                                why="start it at boot of that tree"))
    else:
        steps.append(RunCommand(argv=command_lines.systemctl(layout, "daemon-reload"), why="load the unit"))
        steps.append(RunCommand(argv=command_lines.systemctl(layout, "enable", "--now", UNIT_NAME),
                                why="start it now and at boot"))
        if changed:
            steps.append(RunCommand(argv=command_lines.systemctl(layout, "try-restart", UNIT_NAME),
                                    why="if it was running: it detaches from running tasks, the new one adopts them"))
    if layout.user and not observed.lingering:
        steps.append(Note(text="a user's units stop at logout and start at login; to keep taskflowd running "
                               f"and start it at boot, an admin runs: loginctl enable-linger {observed.user_name}"))
    if not layout.user:
        steps.append(Note(text="let people in: usermod -aG taskflow NAME (viewer); "
                               "usermod -aG taskflow,taskflow-ops NAME (operator); they log in again after"))
        if layout.root is None and observed.cli_on_path is None:
            steps.append(Note(text=f"put the CLI on everyone's PATH: ln -s {observed.cli} /usr/local/bin/taskflow"))
    if layout.root is None:
        steps.append(Note(text="check it: taskflow service status" + (" --user" if layout.user else "")))
    return steps


def _marked_file(layout: ServiceLayout, path: str, content: str, current: str | None, kind: str) -> AnyStep:
    on_disk = layout.on_disk(path)
    if current is None:
        return WriteFile(path=on_disk, content=content)
    if not is_ours(current):
        raise ServiceError(f"{on_disk} is already there and was not written by taskflow service install; "
                           f"move that {kind} aside (or remove it) and run install again")
    if current == content:
        return Keep(what=on_disk, why="unchanged")
    return WriteFile(path=on_disk, content=content, previous=current)


def plan_uninstall(layout: ServiceLayout, observed: Observed, *, keep_state: bool, example: str) -> Plan:
    """The steps that take away what install wrote (the state too, unless ``keep_state``).

    Raises ``ServiceError`` when the unit there is not one install wrote.
    """
    if observed.unit is None and observed.record is None:
        note = Note(text=f"taskflowd is not installed here (no unit at {layout.on_disk(layout.unit_path)}); nothing to do")
        return Plan(action="uninstall", layout=layout, steps=[note])
    if observed.unit is not None and not is_ours(observed.unit):
        raise ServiceError(f"{layout.on_disk(layout.unit_path)} was not written by taskflow service install; "
                           "disable and remove it by hand (docs/operations.md, \"Uninstall\")")
    record = observed.record or InstallRecord(scope=layout.scope)
    steps: list[AnyStep] = []
    if observed.unit is not None:
        if layout.root is not None and layout.user:
            steps.append(Note(text=f"disable it where it runs: systemctl --user disable --now {UNIT_NAME}"))
        else:
            if layout.root is not None:
                argv, why = command_lines.systemctl(layout, "disable", UNIT_NAME), "no start at boot of that tree"
            else:
                argv = command_lines.systemctl(layout, "disable", "--now", UNIT_NAME)
                why = 'stop it; its running tasks are left detached unless its config says on_stop = "stop"'
            steps.append(RunCommand(argv=argv, why=why))
    if observed.drop_in is not None and is_ours(observed.drop_in):
        steps.append(RemoveFile(path=layout.on_disk(layout.drop_in_path)))
    elif observed.drop_in is not None:
        steps.append(Keep(what=layout.on_disk(layout.drop_in_path), why="not written by taskflow service install"))
    if observed.unit is not None:
        steps.append(RemoveFile(path=layout.on_disk(layout.unit_path)))
        if layout.root is None:
            steps.append(RunCommand(argv=command_lines.systemctl(layout, "daemon-reload"), why="forget the unit"))
    if observed.example is not None and layout.example_path in record.files:
        if observed.example == example:
            steps.append(RemoveFile(path=layout.on_disk(layout.example_path)))
        else:
            steps.append(Keep(what=layout.on_disk(layout.example_path), why="changed since install"))
    if observed.record is None:
        steps.append(Note(text=f"no install record ({layout.on_disk(layout.record_path)}): "
                               "groups and folders are left as they are"))
    else:
        steps.append(RemoveFile(path=layout.on_disk(layout.record_path)))
    # Deepest first, so a folder is empty when its turn comes; folders with files stay.
    for folder in sorted(record.dirs, key=lambda d: d.count("/"), reverse=True):
        steps.append(RemoveDir(path=layout.on_disk(folder)))
    if keep_state:
        steps.append(Keep(what=layout.on_disk(layout.state_dir), why="--keep-state (a new install adopts it)"))
        for group in record.groups:
            steps.append(Keep(what=f"group {group}", why="--keep-state (the state's files belong to it)"))
    else:
        for folder in (layout.state_dir, layout.runtime_dir):
            if folder in observed.dirs:
                steps.append(RemoveTree(path=layout.on_disk(folder)))
        group_file = layout.on_disk("/etc/group") if layout.root is not None else None
        for group in reversed(record.groups):
            steps.append(RemoveGroup(name=group, group_file=group_file))
    return Plan(action="uninstall", layout=layout, steps=steps)


def _add(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)
