"""The files install writes: the unit, the hardening drop-in, the example task. Pure text.

The unit is the shipped ``taskflowd.service`` with three changes: a marker comment (so a
later install or uninstall can tell a unit it wrote from one somebody else put there),
``ExecStart`` at the ``taskflowd`` chosen, and, for a user unit, what a user's manager does
differently: no ``network-online.target`` (the user manager has no such unit), no
``StateDirectory=``/``ConfigurationDirectory=`` (their user-unit mapping changed between
systemd versions; the daemon makes its own folders), ``WantedBy=default.target``, and the
socket, state and task folders passed as ``TASKFLOW_*`` variables.
"""

from __future__ import annotations

from taskflow.service.layout import ServiceLayout

#: The first line of every file install writes (unit and drop-in). Its presence is what
#: "written by taskflow service install" means.
MARKER = "# Managed by `taskflow service install`: re-run it to update this file, `taskflow service uninstall` to remove it."

#: Settings a user unit leaves out (see the module docstring).
_USER_DROPPED = frozenset({"StateDirectory", "StateDirectoryMode", "ConfigurationDirectory"})
_SYSTEM_ONLY_TARGETS = frozenset({"network-online.target"})

EXAMPLE_TASK = """\
# An example task, written by `taskflow service install` into an empty tasks folder.
# Every *.toml and *.yaml file here is loaded and watched: edit this one, add your own,
# or delete it (docs/taskfiles.md has every key). Try it: taskflow run hello --wait
[tasks.hello]
description = "Say hello (an example; safe to delete)"
command = "echo hello from taskflow"
timeout = 30
"""


def is_ours(text: str) -> bool:
    """Whether ``text`` is a file install wrote (it carries the marker)."""
    return any(line.strip() == MARKER for line in text.splitlines())


def render_unit(template: str, *, layout: ServiceLayout, taskflowd: str) -> str:
    """The unit install writes for ``layout``, running ``taskflowd``."""
    out = [MARKER]
    if layout.user:
        out.append(f"# A user unit (systemctl --user): socket {layout.socket},")
        out.append(f"# state {layout.state_dir}, tasks {layout.tasks_dir}.")
    for line in template.splitlines():
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or line.lstrip().startswith(("#", ";", "[")):
            out.append(line)
            continue
        if key == "ExecStart":
            _, _, arguments = value.strip().partition(" ")
            if layout.user:
                out.extend(_environment(layout))
            out.append(f"ExecStart={_exec_word(taskflowd)}" + (f" {arguments}" if arguments else ""))
            continue
        if layout.user:
            if key in _USER_DROPPED:
                continue
            if key in ("After", "Wants"):
                kept = [unit for unit in value.split() if unit not in _SYSTEM_ONLY_TARGETS]
                if not kept:
                    continue
                value = " ".join(kept)
            if key == "WantedBy":
                value = "default.target"
        out.append(f"{key}={value}")
    return "\n".join(out) + "\n"


def render_drop_in(template: str) -> str:
    """The hardening drop-in as install writes it: the shipped one, marked."""
    return MARKER + "\n" + template.rstrip("\n") + "\n"


def _environment(layout: ServiceLayout) -> list[str]:
    """``Environment=`` lines giving a user daemon its socket, state and task folders.

    The socket is under ``%t`` (the manager's runtime folder: ``$XDG_RUNTIME_DIR``), which
    is where ``RuntimeDirectory=taskflow`` makes its folder.
    """
    return [
        "Environment=TASKFLOW_SOCKET=%t/taskflow/taskflowd.sock",
        _assignment("TASKFLOW_STATE_DIR", layout.state_dir),
        _assignment("TASKFLOW_TASKS", layout.tasks_dir),
    ]


def _assignment(name: str, value: str) -> str:
    """One ``Environment=`` line; quoted when the value has blanks (systemd.exec)."""
    text = f"{name}={_escape_specifiers(value)}"
    if any(c.isspace() or c in "\"\\'" for c in text):
        text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"Environment={text}"


def _exec_word(path: str) -> str:
    """``path`` as the first word of ``ExecStart=``: ``%`` and ``$`` escaped, quoted if needed."""
    word = _escape_specifiers(path).replace("$", "$$")
    if any(c.isspace() or c in "\"\\'" for c in word):
        word = '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return word


def _escape_specifiers(text: str) -> str:
    return text.replace("%", "%%")
