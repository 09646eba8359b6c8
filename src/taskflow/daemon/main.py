"""``taskflowd``: command line, logging, and the asyncio entry point.

Exit status: 0 after a clean stop; 1 when it cannot start (bad config, state dir owned by
another daemon, socket in use, unreadable or read-only store or state dir) with one sentence on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import TYPE_CHECKING

from taskflow import __version__

if TYPE_CHECKING:
    from taskflow.model import DaemonConfig


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="taskflowd", description="The taskflow daemon.")
    parser.add_argument("--config", metavar="FILE", help="config file (default: /etc/taskflow/taskflow.toml, then ~/.config/taskflow/taskflow.toml)")
    parser.add_argument("--state-dir", metavar="DIR", help="SQLite store and task output (env TASKFLOW_STATE_DIR)")
    parser.add_argument("--socket", metavar="PATH", help="Unix socket to serve (env TASKFLOW_SOCKET)")
    parser.add_argument("--tasks", metavar="PATH", nargs="+", action="extend", help="task files or folders (env TASKFLOW_TASKS, ':'-separated)")
    parser.add_argument("--max-workers", metavar="N", type=int, help="global concurrency limit (env TASKFLOW_MAX_WORKERS)")
    parser.add_argument("--log-format", choices=("json", "text"), help="stderr log format")
    parser.add_argument("--version", action="version", version=f"taskflowd {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from taskflow.daemon.lock import AlreadyRunning
    from taskflow.daemon.log_format import setup_logging
    from taskflow.daemon.server_socket import SocketInUse
    from taskflow.daemon.settings import resolve_settings
    from taskflow.store import StoreError
    from taskflow.taskfile.config import ConfigError

    try:
        config, _path = resolve_settings(args)
    except ConfigError as exc:
        for line in str(exc).splitlines():
            print(f"taskflowd: {line}", file=sys.stderr)
        return 1
    setup_logging(config.log_format)
    from taskflow.daemon.app import Daemon, StartupError

    def reload_config() -> DaemonConfig:
        return resolve_settings(args)[0]

    try:
        daemon = Daemon(config, reload_config=reload_config)
        return asyncio.run(daemon.run())
    except (AlreadyRunning, SocketInUse, StoreError, StartupError, OSError) as exc:
        logging.getLogger("taskflowd").debug("start-up failed", exc_info=True)
        print(f"taskflowd: {_sentence(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _sentence(exc: BaseException) -> str:
    """An OSError as "cannot start: <reason> (<path>)" rather than "[Errno 30] ..."."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"cannot start: {exc.strerror.lower()}{where}"
    return str(exc)


if __name__ == "__main__":
    sys.exit(main())
