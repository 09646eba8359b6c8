"""``web``: serve the dashboard to browsers (extra ``web``, textual-serve).

Safe by default: the served dashboard is read-only whatever role the daemon grants the
user running ``taskflow web`` (``--allow-actions`` turns actions on, with a warning), and it
listens on 127.0.0.1 only; any other address needs ``--public``, because the page has no
login of its own. For remote access, forward the port over SSH (docs/web.md).

textual-serve is imported only when the server starts, so without the extra the command
says which extra to install instead of failing on an import.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from taskflow.cli import EXIT_OK, EXIT_USAGE, Command, CommandError

if TYPE_CHECKING:
    from taskflow.web.address import BindAddress

MISSING_EXTRA = "taskflow web needs the web extra: pip install 'taskflowd[web]'"
#: What the extra brings (textual-serve and the aiohttp stack under it).
EXTRA_MODULES = frozenset({"textual_serve", "aiohttp", "aiohttp_jinja2", "jinja2"})


def add_web_arguments(parser: argparse.ArgumentParser) -> None:
    from taskflow.web.address import DEFAULT_BIND

    parser.add_argument("--bind", metavar="ADDR", default=DEFAULT_BIND,
                        help=f"HOST:PORT to listen on (default {DEFAULT_BIND}; :PORT keeps 127.0.0.1)")
    parser.add_argument("--public", action="store_true",
                        help="allow a non-loopback --bind (the page has no login: put it behind one)")
    parser.add_argument("--allow-actions", action="store_true",
                        help="let browsers rerun, cancel, enable/disable... as the user running taskflow web")
    parser.add_argument("--metrics-port", type=int, metavar="PORT",
                        help="the daemon's metrics_port, relayed at /metrics (default: from the config file)")
    parser.add_argument("--theme", metavar="NAME", help="colour theme of the served dashboard")


def check_bind(text: str, *, public: bool) -> BindAddress:
    """The address to listen on, or a usage error saying why not."""
    from taskflow.web.address import BindError, parse_bind

    try:
        bind = parse_bind(text)
    except BindError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    if not bind.is_loopback and not public:
        raise CommandError(
            f"refusing to serve the dashboard on {bind.host}, which is not a loopback address: the page "
            f"has no login of its own, so anyone who can reach {bind.url} would see every task, run and "
            f"log; keep the default 127.0.0.1 and use SSH port forwarding "
            f"(ssh -L {bind.port}:127.0.0.1:{bind.port} HOST), or pass --public to serve it anyway",
            EXIT_USAGE,
        )
    return bind


def configured_metrics_port() -> int | None:
    """``metrics_port`` from the first config file that exists, as the daemon finds it."""
    from taskflow.taskfile.config import ConfigError, config_search_paths, load_config

    for path in config_search_paths():
        if path.is_file():
            try:
                return load_config(path).metrics_port
            except (ConfigError, OSError):
                return None
    return None


def _warn(message: str) -> None:
    print(f"taskflow web: warning: {message}", file=sys.stderr, flush=True)


def _actions_warning(socket_path: str) -> str:
    """Who browsers will act as: the web process's own user and role, asked of the daemon."""
    from taskflow.client import Client, ClientError

    try:
        with Client.connect(socket_path, client_name="taskflow-web", timeout=5.0) as client:
            welcome = client.welcome
    except ClientError:
        welcome = None
    if welcome is None:
        who = "the user running taskflow web"
    else:
        from taskflow.model import Role

        who = f"{welcome.user} ({welcome.role.value})"
        if welcome.role is Role.VIEWER:
            who += ", which the daemon lets only view, so its actions will be refused"
    return (f"--allow-actions: every browser that opens this page can rerun, cancel, enable and "
            f"disable tasks as {who}; the audit log records that user, not the person at the browser")


def web(args: argparse.Namespace) -> int:
    bind = check_bind(args.bind, public=args.public)
    try:
        from taskflow.web.server import DashboardServer
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in EXTRA_MODULES:
            raise
        raise CommandError(MISSING_EXTRA) from None
    from taskflow.client import resolve_socket_path

    socket_path = resolve_socket_path(getattr(args, "socket", None))
    if not bind.is_loopback:
        _warn(f"serving on {bind.url}: anyone who can reach it sees every task, run and log; "
              "there is no login")
    if args.allow_actions:
        _warn(_actions_warning(socket_path))
    metrics_port = args.metrics_port if args.metrics_port is not None else configured_metrics_port()
    server = DashboardServer(
        socket_path,
        bind,
        read_only=not args.allow_actions,
        theme=args.theme,
        metrics_port=metrics_port,
        title=f"taskflow · {os.uname().nodename}",
    )
    try:
        server.serve()
    except OSError as exc:  # the port is taken, or the address is not this machine's
        raise CommandError(f"cannot serve on {bind.url}: {exc.strerror or exc}") from None
    return EXIT_OK


COMMANDS = (
    Command("web", "serve the dashboard to browsers (read-only by default, on 127.0.0.1)",
            add_web_arguments, web),
)
