"""What is on the machine now, for one layout: the files, folders and groups a plan looks at.

Reads only. Below ``--root`` the groups are those of the tree's ``etc/group``; otherwise
the system's (``grp``), which also sees groups from LDAP or sssd as ``groupadd`` would.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil

import msgspec

from taskflow.service.group_file import group_names
from taskflow.service.layout import ServiceLayout
from taskflow.service.plan import Observed
from taskflow.service.shipped import this_cli
from taskflow.service.steps import InstallRecord

#: Where systemd keeps the units it ships; one of them in a tree means verify can run there.
UNIT_LIBRARIES = ("usr/lib/systemd/system", "lib/systemd/system")


def observe(layout: ServiceLayout) -> Observed:
    """Everything ``plan_install`` and ``plan_uninstall`` need to know about ``layout``'s paths."""
    tasks_dir = layout.on_disk(layout.tasks_dir)
    folders = [layout.unit_dir, layout.drop_in_dir, layout.config_dir, layout.tasks_dir,
               layout.state_dir, layout.runtime_dir]
    return Observed(
        unit=read_text(layout.on_disk(layout.unit_path)),
        drop_in=read_text(layout.on_disk(layout.drop_in_path)),
        example=read_text(layout.on_disk(layout.example_path)),
        record=_record(layout.on_disk(layout.record_path)),
        groups=[g for g in layout.groups if g in _groups(layout)],
        dirs=[d for d in folders if os.path.isdir(layout.on_disk(d))],
        tasks_dir_empty=not os.path.isdir(tasks_dir) or not os.listdir(tasks_dir),
        unit_library=layout.root is None or any(
            os.path.isfile(os.path.join(layout.root, library, "sysinit.target")) for library in UNIT_LIBRARIES
        ),
        lingering=layout.user and os.path.exists(os.path.join("/var/lib/systemd/linger", _user_name())),
        user_name=_user_name(),
        cli_on_path=shutil.which("taskflow"),
        cli=this_cli(),
    )


def read_text(path: str) -> str | None:
    """The file's text, or None when there is none (a folder or an unreadable file is an error)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return None


def _record(path: str) -> InstallRecord | None:
    text = read_text(path)
    if text is None:
        return None
    try:
        return msgspec.json.decode(text, type=InstallRecord)
    except msgspec.DecodeError:
        return None  # damaged: treated as absent, so uninstall removes only marked files


def _groups(layout: ServiceLayout) -> set[str]:
    if layout.root is not None:
        return set(group_names(read_text(layout.on_disk("/etc/group")) or ""))
    present = set()
    for name in layout.groups:
        try:
            grp.getgrnam(name)
            present.add(name)
        except KeyError:
            pass
    return present


def _user_name() -> str:
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())
