"""The ``taskflow`` console script: ``bridge`` straight to the relay, the rest to the CLI.

``taskflow bridge`` runs on the far side of every SSH connection to a host, so it must
start about as fast as ``python -c pass``; importing ``taskflow.cli.main`` first (argparse,
typing, msgspec) would triple that. Any other command, and ``bridge`` after global options,
goes through the full parser in ``taskflow.cli.main``.
"""

from __future__ import annotations

import sys


def main() -> int:
    argv = sys.argv[1:]
    if argv[:1] == ["bridge"]:
        from taskflow.bridge import main as bridge

        return bridge(argv[1:])
    from taskflow.cli.main import main as cli

    return cli(argv)


if __name__ == "__main__":
    sys.exit(main())
