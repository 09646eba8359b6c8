"""``tui`` (also what a bare ``taskflow`` opens) and ``demo``: the dashboard.

The TUI package is imported only here, inside the handler, so no other command pays for
Textual. ``demo`` starts a private daemon on the repository's ``examples/`` in a temporary
state dir, opens the TUI on it, and stops the daemon (and, with ``on_stop = "stop"``, its
tasks) on the way out, whatever way that is.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from taskflow.cli import EXIT_OK, EXIT_USAGE, Command, CommandError

if TYPE_CHECKING:  # only ``demo`` starts a process, so only it imports subprocess
    import subprocess

#: How long the demo daemon gets to answer ``health`` (first start compiles bytecode).
DEMO_START_TIMEOUT = 20.0
#: The file the demo's notifier appends each notice to, in its state dir.
NOTICES = "notifications.jsonl"


def add_tui_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--theme", metavar="NAME", help="colour theme (a built-in name or a theme file)")
    parser.add_argument("--read-only", action="store_true",
                        help="refuse every key that changes the daemon, whatever your role")


def _load_run_tui() -> Callable[..., int]:
    """``taskflow.tui.app.run_tui``, or a ``CommandError`` when Textual is not installed."""
    try:
        from taskflow.tui.app import run_tui
    except ImportError as exc:
        raise CommandError(f"the terminal UI is not available in this installation ({exc})") from None
    return run_tui


class UiPreferences(NamedTuple):
    """What the config file says about the TUI (defaults when there is no usable file)."""

    theme: str | None = None
    keys: dict[str, str] = {}
    confirm_run: bool = True  # enter on a task asks "Run NAME?" first


def ui_preferences() -> UiPreferences:
    """``theme``, ``keys`` (binding id -> keys) and ``confirm_run`` from the first config file
    that exists (``/etc/taskflow/taskflow.toml``, then ``~/.config/taskflow/taskflow.toml``).

    A broken config file is the daemon's problem to report; the TUI then uses its defaults.
    """
    from taskflow.taskfile.config import ConfigError, config_search_paths, load_config

    for path in config_search_paths():
        if path.is_file():
            try:
                config = load_config(path)
            except (ConfigError, OSError):
                return UiPreferences()
            return UiPreferences(config.theme, dict(config.keys), config.confirm_run)
    return UiPreferences()


def tui(args: argparse.Namespace) -> int:
    from taskflow.cli.host_choice import host_expression, selection
    from taskflow.client import resolve_socket_path
    from taskflow.client.hosts import HostsError, load_hosts

    host = None
    if host_expression(args) is not None:
        chosen = selection(args)
        if chosen.several:
            raise CommandError("the dashboard drives one host at a time: name one with --host "
                               "(its Hosts view, `:hosts`, shows them all)", EXIT_USAGE)
        host = chosen.hosts[0]
    try:
        fleet = load_hosts()
    except HostsError:
        fleet = None  # the Hosts view says there are none; `taskflow hosts --check` says why
    run_tui = _load_run_tui()
    prefs = ui_preferences()
    result = run_tui(resolve_socket_path(getattr(args, "socket", None)),
                     theme=getattr(args, "theme", None) or prefs.theme, keys=prefs.keys or None,
                     confirm_run=prefs.confirm_run, read_only=getattr(args, "read_only", False),
                     host=host, fleet=fleet)
    return int(result or EXIT_OK)


# ---------------------------------------------------------------------------------- demo

def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    add_tui_arguments(parser)
    parser.add_argument("--tasks", metavar="PATH", help="task folder (default: the repository's examples/)")
    parser.add_argument("--no-tui", action="store_true", help="print events instead of opening the TUI")


def examples_dir() -> Path | None:
    """``examples/`` next to the package source (a source checkout), else in the cwd."""
    import taskflow

    candidates = [Path(taskflow.__file__).resolve().parents[2] / "examples", Path.cwd() / "examples"]
    return next((path for path in candidates if path.is_dir()), None)


def demo(args: argparse.Namespace) -> int:
    import shutil
    import tempfile

    tasks = Path(args.tasks) if args.tasks else examples_dir()
    if tasks is None or not tasks.exists():
        raise CommandError("no examples/ folder found next to the package or in the current "
                           "folder; pass --tasks PATH")
    state_dir = Path(tempfile.mkdtemp(prefix="taskflow-demo-"))
    socket_path = f"/tmp/taskflow-demo-{os.getpid()}.sock"
    daemon = None
    try:
        daemon = _start_daemon(state_dir, socket_path, tasks.resolve())
        print(f"taskflow demo: daemon pid {daemon.pid} on {socket_path}, tasks from {tasks}",
              file=sys.stderr)
        _kick_off(socket_path)
        if not args.no_tui:
            try:
                run_tui = _load_run_tui()
            except CommandError as exc:
                print(f"taskflow demo: {exc}; following events instead (Ctrl-C to stop)",
                      file=sys.stderr)
            else:
                return int(run_tui(socket_path, theme=args.theme, keys=None, read_only=args.read_only)
                           or EXIT_OK)
        from taskflow.cli.events import events

        return events(argparse.Namespace(socket=socket_path, json=True, topics=None, run_id=None))
    finally:
        if daemon is not None:
            _stop_daemon(daemon)
            _report_notifications(state_dir / NOTICES)
        shutil.rmtree(state_dir, ignore_errors=True)
        Path(socket_path).unlink(missing_ok=True)


def _report_notifications(path: Path) -> None:
    """What the demo daemon's notifier was told, one line each, as the demo ends."""
    import json

    try:
        notices = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except (OSError, ValueError):
        return
    if not notices:
        return
    print(f"taskflow demo: {len(notices)} notifications were sent (docs/notifications.md):", file=sys.stderr)
    for notice in notices[-10:]:
        about = notice.get("run", {}).get("task") or notice.get("breaker", {}).get("service")
        print(f"  {notice.get('event')}: {about}", file=sys.stderr)


def _start_daemon(state_dir: Path, socket_path: str, tasks: Path) -> subprocess.Popen[bytes]:
    """Start ``taskflowd`` for the demo and return once it answers ``health``."""
    import shlex
    import subprocess
    import time

    config = state_dir / "taskflow.toml"
    # Stop the demo's tasks with the daemon: nothing may outlive `taskflow demo`.
    # The demo's notification sink: a command notifier appending each notice to a file that
    # the demo sums up when it ends (``_report_notifications``).
    sink = shlex.quote(str(state_dir / NOTICES))
    config.write_text(f'on_stop = "stop"\nstop_grace = 3.0\nadhoc = "operator"\n'
                      f'python_path = [{str(tasks if tasks.is_dir() else tasks.parent)!r}]\n'
                      f'max_workers = 4\n'
                      f'[notifiers.demo]\ncommand = {f"cat >>{sink}; echo >>{sink}"!r}\n')
    with open(state_dir / "taskflowd.log", "wb") as log:  # the child keeps its own copy
        daemon = subprocess.Popen(
            [sys.executable, "-m", "taskflow.daemon.main", "--config", str(config),
             "--state-dir", str(state_dir / "state"), "--socket", socket_path, "--tasks", str(tasks)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        )
    deadline = time.monotonic() + DEMO_START_TIMEOUT
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise CommandError(f"the demo daemon exited at start ({_last_line(state_dir)})")
        if _answers(socket_path):
            return daemon
        time.sleep(0.1)
    _stop_daemon(daemon)
    raise CommandError(f"the demo daemon did not answer within {DEMO_START_TIMEOUT:.0f}s")


#: Trees the demo starts at once so the dashboard has something moving from the first second.
#: ``reindex`` waits in the paused pool ``frozen`` (examples/holds.toml): a held run from the start.
DEMO_KICK_OFF = ("deploy", "checks", "batch", "reindex")
#: The scheduled task the demo backfills over its last ``DEMO_BACKFILL_DAYS`` days
#: (examples/daily-export.toml): one run per missed slot, each with its own day.
DEMO_BACKFILL = "daily-export"
DEMO_BACKFILL_DAYS = 3


def _kick_off(socket_path: str) -> None:
    from datetime import UTC, datetime, timedelta

    from taskflow.client import Client, ClientError
    from taskflow.protocol import Backfill, TriggerTask

    now = datetime.now(UTC)
    try:
        with Client.connect(socket_path, timeout=2.0) as client:
            for task in DEMO_KICK_OFF:
                try:
                    client.call(TriggerTask(task=task))
                except ClientError:
                    pass  # a custom --tasks folder may not have it
            try:
                client.call(Backfill(task=DEMO_BACKFILL, start=now - timedelta(days=DEMO_BACKFILL_DAYS), end=now))
            except ClientError:
                pass
    except ClientError:
        pass


def _answers(socket_path: str) -> bool:
    from taskflow.client import Client, ClientError
    from taskflow.protocol import Health

    try:
        with Client.connect(socket_path, timeout=2.0) as client:
            return client.call(Health()).ok
    except ClientError:
        return False


def _stop_daemon(daemon: subprocess.Popen[bytes]) -> None:
    import signal
    import subprocess

    if daemon.poll() is None:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=15)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


def _last_line(state_dir: Path) -> str:
    try:
        lines = (state_dir / "taskflowd.log").read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return lines[-1] if lines else "no output"


COMMANDS = (
    Command("tui", "open the dashboard (also what taskflow with no command does)",
            add_tui_arguments, tui),
    Command("demo", "start a private daemon on examples/, open the TUI, stop it on exit",
            add_demo_arguments, demo),
)
