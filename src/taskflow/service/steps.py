"""The steps of an install or uninstall plan, and how each reads to a person.

A plan is data: ``--dry-run`` prints it (``describe``), ``--json`` encodes it, ``apply``
carries it out. Paths in steps are the ones this process touches (below ``--root`` when
one was given). Pure.
"""

from __future__ import annotations

import difflib
import shlex
from typing import Literal

import msgspec

from taskflow.service.layout import ServiceLayout


class Step(msgspec.Struct, tag=True, tag_field="action", kw_only=True):
    """One thing a plan does."""


class WriteFile(Step, tag="write"):
    """Write ``content`` to ``path`` (atomically); ``previous`` is what it replaces."""

    path: str
    content: str
    mode: str = "0644"
    previous: str | None = None

    @property
    def replaces(self) -> bool:
        """Whether this overwrites a file with other content (what install asks about)."""
        return self.previous is not None and self.previous != self.content


class MakeDir(Step, tag="mkdir"):
    path: str
    mode: str = "0755"


class AddGroup(Step, tag="add-group"):
    """A system group: ``groupadd --system`` or, below ``--root``, a line in ``group_file``."""

    name: str
    group_file: str | None = None


class RemoveGroup(Step, tag="remove-group"):
    name: str
    group_file: str | None = None


class RunCommand(Step, tag="run"):
    argv: list[str]
    why: str = ""


class RemoveFile(Step, tag="remove"):
    path: str


class RemoveDir(Step, tag="rmdir"):
    """Remove a folder install made, only if it is empty by then."""

    path: str


class RemoveTree(Step, tag="remove-tree"):
    """Remove a folder and everything in it (the state and runtime folders)."""

    path: str


class Keep(Step, tag="keep"):
    """Nothing to do for ``what``: already as wanted, or deliberately left alone."""

    what: str
    why: str


class Note(Step, tag="note"):
    """Something the reader must know or do; not an action."""

    text: str


AnyStep = WriteFile | MakeDir | AddGroup | RemoveGroup | RunCommand | RemoveFile | RemoveDir | RemoveTree | Keep | Note


class InstallRecord(msgspec.Struct, kw_only=True):
    """What install created, kept beside the config, so uninstall removes just that.

    Paths are the target machine's (without ``--root``); a re-run adds to the record.
    """

    scope: Literal["system", "user"]
    files: list[str] = []
    dirs: list[str] = []  # removed by uninstall only when empty
    groups: list[str] = []


class Plan(msgspec.Struct, kw_only=True):
    action: Literal["install", "uninstall"]
    layout: ServiceLayout
    steps: list[AnyStep] = []

    @property
    def replacements(self) -> list[WriteFile]:
        return [s for s in self.steps if isinstance(s, WriteFile) and s.replaces]

    @property
    def changes_anything(self) -> bool:
        return any(not isinstance(s, (Keep, Note)) for s in self.steps)


def describe(step: AnyStep, *, with_content: bool = True) -> list[str]:
    """``step`` as lines for a person: a headline, then the file's content or diff, indented."""
    match step:
        case WriteFile():
            if step.previous is None:
                head = f"write {step.path} (mode {step.mode})"
                body = step.content.splitlines() if with_content else []
                return [head, *(f"    | {line}" for line in body)]
            if not step.replaces:
                return [f"rewrite {step.path} (mode {step.mode}; content unchanged)"]
            return [f"replace {step.path} (mode {step.mode}), changing:", *(f"    {line}" for line in diff(step))]
        case MakeDir():
            return [f"create folder {step.path} (mode {step.mode})"]
        case AddGroup():
            if step.group_file is None:
                return [f"create group {step.name}: {shlex.join(['groupadd', '--system', step.name])}"]
            return [f"create group {step.name}: add a line to {step.group_file} (a free system gid)"]
        case RemoveGroup():
            if step.group_file is None:
                return [f"delete group {step.name}: {shlex.join(['groupdel', step.name])}"]
            return [f"delete group {step.name}: remove its line from {step.group_file}"]
        case RunCommand():
            return [f"run {shlex.join(step.argv)}" + (f"  # {step.why}" if step.why else "")]
        case RemoveFile():
            return [f"remove {step.path}"]
        case RemoveDir():
            return [f"remove folder {step.path} if it is empty"]
        case RemoveTree():
            return [f"remove {step.path} and everything in it"]
        case Keep():
            return [f"keep {step.what}: {step.why}"]
        case Note():
            return [f"note: {step.text}"]
    raise AssertionError(f"unknown step {step!r}")


def diff(step: WriteFile) -> list[str]:
    """A unified diff from what ``step.path`` holds to what it would hold."""
    return [
        line.rstrip("\n")
        for line in difflib.unified_diff(
            (step.previous or "").splitlines(keepends=True), step.content.splitlines(keepends=True),
            fromfile=f"{step.path} (now)", tofile=f"{step.path} (install)",
        )
    ]
