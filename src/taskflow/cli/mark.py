"""``mark RUN succeeded|skipped --reason TEXT``: an operator's verdict on an ended run.

Airflow's "mark success": a run that failed (or was cancelled, interrupted or skipped) is
marked succeeded — the work was done by hand — or skipped — it is not needed; either way it
counts as done. Its dependents that were skipped because of it run now, in the same tree,
and its groups are decided again. The daemon audits the mark and the run keeps who marked
it, why, when and from what state (``show`` prints it; ``runs`` shows ``succeeded (marked)``).
"""

from __future__ import annotations

import argparse

from taskflow.cli import EXIT_OK, EXIT_USAGE, Command, CommandError

MARK_STATES = ("succeeded", "skipped")


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_id", metavar="RUN", help="run id (a node of a tree, or a unique start or end of a recent one)")
    parser.add_argument("state", choices=MARK_STATES, metavar="STATE", help="succeeded or skipped")
    parser.add_argument("--reason", required=True, metavar="TEXT", help="why (kept with the run and in the audit log)")


def mark(args: argparse.Namespace) -> int:
    from taskflow.cli.connection import connect, run_id_of
    from taskflow.cli.output import print_json
    from taskflow.model import RunState
    from taskflow.protocol import Mark

    if not args.reason.strip():
        raise CommandError("--reason must say why the run is marked", EXIT_USAGE)
    with connect(args) as client:
        run = client.call(Mark(run_id=run_id_of(client, args.run_id), state=RunState(args.state),
                               reason=args.reason))
    if args.json:
        print_json(run)
    else:
        print(f"marked {run.id} ({run.task}) {run.state}, was {run.marked_from}; what waited on it runs now")
    return EXIT_OK


COMMANDS = (
    Command("mark", "mark an ended run that did not succeed succeeded or skipped, so its dependents run",
            _arguments, mark),
)
