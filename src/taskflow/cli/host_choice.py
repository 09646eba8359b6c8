"""Which daemon(s) a command talks to: ``--host``/``$TASKFLOW_HOST`` against ``hosts.toml``.

Without either (or with ``--host local``) a command talks to the local socket and the hosts
file is never read, so the local path of ``taskflow status`` stays as cheap as before.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from taskflow.cli import EXIT_ERROR, EXIT_USAGE, CommandError

if TYPE_CHECKING:
    from taskflow.client.hosts import Host, Selection


def several_hosts(args: argparse.Namespace) -> bool:
    """Whether ``--host`` may name several hosts (a group, a glob or a list): the command then
    takes its multi-host form in ``cli/fleet.py``. Free for the local daemon."""
    if host_expression(args) is None:
        return False
    return selection(args).several


def host_expression(args: argparse.Namespace) -> str | None:
    """``--host`` or ``$TASKFLOW_HOST``; None for the local daemon (also ``local`` alone)."""
    import os

    expression = getattr(args, "host", None) or os.environ.get("TASKFLOW_HOST") or None
    return None if expression is None or expression.strip() == "local" else expression


def selection(args: argparse.Namespace, *, default_all: bool = False) -> Selection:
    """The hosts ``--host``/``$TASKFLOW_HOST`` names (``local`` when neither; with
    ``default_all``, every host of the file, after ``local`` when its socket exists or the
    file names no host). A bad file or name is exit 1."""
    import os

    from taskflow.client.hosts import LOCAL, Host, HostsError, Selection, load_hosts, select_hosts

    expression = getattr(args, "host", None) or os.environ.get("TASKFLOW_HOST")
    try:
        fleet = load_hosts()
        if not expression:
            if default_all:  # `hosts`: the file's hosts, and local when a daemon may be there
                from taskflow.client.paths import resolve_socket_path

                local = [Host(LOCAL)] if not fleet.hosts or os.path.exists(
                    resolve_socket_path(getattr(args, "socket", None))) else []
                return Selection([*local, *fleet.hosts.values()], True)
            return Selection([Host(LOCAL)], False)
        return select_hosts(expression, fleet)
    except HostsError as exc:
        raise CommandError(str(exc), EXIT_ERROR) from None


def one_host(args: argparse.Namespace) -> Host:
    """The single host a command acts on; naming several is a usage error."""
    chosen = selection(args)
    if len(chosen.hosts) != 1:
        names = ", ".join(h.name for h in chosen.hosts)
        command = getattr(args, "command", None) or "this command"
        raise CommandError(f"{command} acts on one host at a time; --host names {len(chosen.hosts)} ({names})",
                           EXIT_USAGE)
    return chosen.hosts[0]
