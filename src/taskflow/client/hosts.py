"""``hosts.toml``: the daemons one seat drives, and how ``--host`` picks among them.

::

    [defaults]                      # optional; applies to every host
    ssh_options = ["-o", "ConnectTimeout=5"]

    [hosts.web-1]
    ssh = "ops@web-1"               # any ssh destination; the system ssh runs it, so
                                    # ~/.ssh/config, the agent and ProxyJump apply
    socket = "/run/taskflow/taskflowd.sock"   # optional: the remote daemon's socket
    ssh_options = ["-p", "2222"]    # optional: more ssh arguments, before the destination

    [hosts]
    db-1 = "ops@db-1"               # short form: only the destination

    [groups]
    web = ["web-1", "web-2"]

``local`` is always there: the local daemon's socket. ``--host`` takes a host, a group, a
glob over host names (``web-*``) or a comma list of those. The file is checked offline and
every problem is reported as ``file: key: reason``, the way task files are. Standard
library only (``tomllib``), and only imported when a host is named: the local path of every
command never reads the file.
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

LOCAL = "local"
GLOB_CHARACTERS = "*?["


class Host(NamedTuple):
    """One daemon: ``ssh`` is None for the local one."""

    name: str
    ssh: str | None = None
    socket: str | None = None
    ssh_options: tuple[str, ...] = ()


class HostsFile(NamedTuple):
    path: str
    hosts: dict[str, Host]  # in file order, without ``local``
    groups: dict[str, tuple[str, ...]]


class HostsError(Exception):
    """The hosts file is missing or wrong; ``problems`` are ``file: key: reason`` lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems[0] if len(problems) == 1 else f"{problems[0]} (and {len(problems) - 1} more)")
        self.problems = problems


class Selection(NamedTuple):
    """What ``--host`` chose: the hosts, and whether it may name several (a group, a glob
    or a list), so output keeps its multi-host shape even when only one host matched."""

    hosts: list[Host]
    several: bool


def hosts_path(env: dict[str, str] | None = None) -> str:
    """``$TASKFLOW_HOSTS``, else ``$XDG_CONFIG_HOME/taskflow/hosts.toml`` (``~/.config``)."""
    env = dict(os.environ) if env is None else env
    if env.get("TASKFLOW_HOSTS"):
        return env["TASKFLOW_HOSTS"]
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "taskflow", "hosts.toml")


def load_hosts(path: str | None = None, *, missing_ok: bool = True) -> HostsFile:
    """Read and check the hosts file; ``HostsError`` lists every problem. A missing file is
    an empty fleet (only ``local``) when ``missing_ok``."""
    import tomllib

    path = path or hosts_path()
    shown = _shown(path)
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except FileNotFoundError:
        if missing_ok:
            return HostsFile(path, {}, {})
        raise HostsError([f"{shown}: no such file"]) from None
    except OSError as exc:
        raise HostsError([f"{shown}: cannot read it: {exc.strerror or exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise HostsError([f"{shown}: not valid TOML: {exc}"]) from None
    except UnicodeDecodeError:
        raise HostsError([f"{shown}: not UTF-8 text"]) from None
    problems: list[str] = []
    hosts, groups = _check(data, lambda key, why: problems.append(f"{shown}: {key}: {why}"))
    if problems:
        raise HostsError(problems)
    return HostsFile(path, hosts, groups)


def _shown(path: str) -> str:
    """The path as errors name it: relative to the current folder when under it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative


def _check(data: dict[str, Any], problem: Any) -> tuple[dict[str, Host], dict[str, tuple[str, ...]]]:
    for key in data:
        if key not in ("defaults", "hosts", "groups"):
            problem(key, "unknown key (expected defaults, hosts, groups)")
    defaults = _table(data.get("defaults", {}), "defaults", problem)
    for key in defaults:
        if key not in ("socket", "ssh_options"):
            problem(f"defaults.{key}", "unknown key (expected socket, ssh_options)")
    default_socket = _string(defaults.get("socket"), "defaults.socket", problem)
    default_options = _strings(defaults.get("ssh_options", []), "defaults.ssh_options", problem)
    hosts: dict[str, Host] = {}
    for name, entry in _table(data.get("hosts", {}), "hosts", problem).items():
        where = f"hosts.{name}"
        if not _good_name(name, where, problem):
            continue
        if isinstance(entry, str):
            entry = {"ssh": entry}
        entry = _table(entry, where, problem, what='a table or an ssh destination ("user@host")')
        for key in entry:
            if key not in ("ssh", "socket", "ssh_options"):
                problem(f"{where}.{key}", "unknown key (expected ssh, socket, ssh_options)")
        ssh = _string(entry.get("ssh"), f"{where}.ssh", problem)
        if ssh is None and "ssh" not in entry:
            problem(f"{where}.ssh", 'missing: the ssh destination, e.g. ssh = "ops@web-1"')
            continue
        if ssh is not None and (not ssh or ssh.startswith("-") or any(c.isspace() for c in ssh)):
            problem(f"{where}.ssh", f"{ssh!r} is not an ssh destination (user@host, host or an ssh_config Host)")
            continue
        socket = _string(entry.get("socket"), f"{where}.socket", problem) or default_socket
        options = default_options + _strings(entry.get("ssh_options", []), f"{where}.ssh_options", problem)
        if ssh is not None:
            hosts[name] = Host(name, ssh, socket, options)
    groups: dict[str, tuple[str, ...]] = {}
    for name, members in _table(data.get("groups", {}), "groups", problem).items():
        where = f"groups.{name}"
        if not _good_name(name, where, problem):
            continue
        if name in hosts:
            problem(where, f'"{name}" is already a host; a group needs a name of its own')
            continue
        if not isinstance(members, list) or not members:
            problem(where, 'must be a non-empty list of host names, e.g. ["web-1", "web-2"]')
            continue
        kept: list[str] = []
        for index, member in enumerate(members):
            if not isinstance(member, str):
                problem(f"{where}[{index}]", "must be a host name (a string)")
            elif member != LOCAL and member not in hosts:
                problem(f"{where}[{index}]", f'unknown host "{member}"')
            else:
                kept.append(member)
        groups[name] = tuple(kept)
    return hosts, groups


def _good_name(name: str, where: str, problem: Any) -> bool:
    if name == LOCAL:
        problem(where, '"local" is always the local daemon; give this one another name')
        return False
    if not name or any(c in name for c in GLOB_CHARACTERS + ", \t"):
        problem(where, f"{name!r} cannot be a name: no spaces, commas or glob characters ({GLOB_CHARACTERS})")
        return False
    return True


def _table(value: Any, where: str, problem: Any, what: str = "a table") -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    problem(where, f"must be {what}")
    return {}


def _string(value: Any, where: str, problem: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    problem(where, "must be a string")
    return None


def _strings(value: Any, where: str, problem: Any) -> tuple[str, ...]:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    problem(where, 'must be a list of strings, e.g. ["-o", "ConnectTimeout=5"]')
    return ()


def select_hosts(expression: str, fleet: HostsFile) -> Selection:
    """The hosts ``expression`` names: ``local``, a host, a group, a glob, or a comma list.
    A name that matches nothing raises ``HostsError``."""
    from fnmatch import fnmatchcase

    every = {LOCAL: Host(LOCAL), **fleet.hosts}
    chosen: dict[str, Host] = {}
    words = [w.strip() for w in expression.split(",") if w.strip()]
    several = len(words) != 1
    for word in words:
        if word in every:
            chosen.setdefault(word, every[word])
        elif word in fleet.groups:
            several = True
            for member in fleet.groups[word]:
                chosen.setdefault(member, every[member])
        elif any(c in word for c in GLOB_CHARACTERS):
            several = True
            matched = [h for name, h in every.items() if fnmatchcase(name, word)]
            if not matched:
                raise HostsError([f"--host {word}: matches no host in {_shown(fleet.path)}"])
            for host in matched:
                chosen.setdefault(host.name, host)
        else:
            raise HostsError([f"no host or group named {word!r} in {_shown(fleet.path)}"])
    if not chosen:
        raise HostsError(["--host names no host"])
    return Selection(list(chosen.values()), several)


def ssh_argv(host: Host, socket: str | None = None) -> list[str]:
    """The command that reaches ``host``'s daemon: the system ``ssh`` running ``taskflow
    bridge`` there (no tty: ``-T``, the frames are binary). ``socket`` overrides the host's."""
    import shlex

    assert host.ssh is not None
    remote = ["taskflow", "bridge"]
    if socket or host.socket:
        remote += ["--socket", socket or host.socket or ""]
    # ssh joins the remote words with spaces for the remote shell: quote them ourselves.
    return ["ssh", "-T", *host.ssh_options, "--", host.ssh, " ".join(shlex.quote(w) for w in remote)]
