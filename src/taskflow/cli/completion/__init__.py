"""``taskflow completion bash|zsh``: print a shell completion script.

The scripts are files in this package (``taskflow.bash``, ``_taskflow``) so packagers can
install them directly; task names are completed by asking the daemon (``taskflow ls
--json``), quietly doing nothing when it is not running.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from taskflow.cli import EXIT_OK, Command

SCRIPTS = {"bash": "taskflow.bash", "zsh": "_taskflow"}


def script_path(shell: str) -> Path:
    """Where the completion script for ``shell`` is shipped."""
    return Path(__file__).with_name(SCRIPTS[shell])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shell", choices=sorted(SCRIPTS), help="the shell to complete for")


def completion(args: argparse.Namespace) -> int:
    sys.stdout.write(script_path(args.shell).read_text())
    sys.stdout.flush()
    return EXIT_OK


COMMANDS = (
    Command("completion", "print a shell completion script: completion bash|zsh",
            add_arguments, completion),
)
