"""``backfill TASK --from T --to T [--max N] [--wait]``: run a schedule's slots in a range.

One run per slot of the task's schedule in ``[from, to]`` (both included), oldest first,
each with its slot in ``TASKFLOW_SCHEDULED_AT`` (``Context.scheduled_at`` for Python tasks).
They go through the scheduler like any run, one after another unless the schedule has
``allow_overlap``; each can be cancelled on its own.

Times: RFC 3339 (``2026-01-01T02:00:00Z``, ``2026-01-01T03:00+01:00``) as given, or
``YYYY-MM-DD[ HH:MM[:SS]]`` in the schedule's timezone (UTC if it names none). A ``--to``
given as a date alone includes that whole day. Prints the run ids, one a line (``--json``:
a list of ``{id, task, scheduled_at}``; with ``--wait``, of the finished runs).

Exit codes: 2 for a bad time or a range that ends before it starts; 1 when the daemon
refuses (no such task, no schedule, no slot in the range, more slots than ``--max``,
default 1000); with ``--wait``, 3 when a run did not succeed.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from taskflow.cli import EXIT_OK, EXIT_RUN_FAILED, EXIT_USAGE, Command, CommandError

#: The limit the daemon applies unless ``--max`` says otherwise (``protocol.BACKFILL_LIMIT``).
DEFAULT_MAX = 1000


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("task", metavar="TASK", help="a task with a schedule")
    parser.add_argument("--from", dest="start", metavar="T", required=True,
                        help="first slot time: RFC 3339, or YYYY-MM-DD[ HH:MM] in the schedule's timezone")
    parser.add_argument("--to", dest="end", metavar="T", required=True,
                        help="last slot time, included (a date alone: that whole day)")
    parser.add_argument("--max", dest="limit", type=int, default=DEFAULT_MAX, metavar="N",
                        help=f"refuse a range of more than N slots (default {DEFAULT_MAX})")
    parser.add_argument("--wait", action="store_true",
                        help="wait for every run to end; exit 3 if one did not succeed")


def parse_slot_time(text: str, *, end: bool = False) -> datetime:
    """A ``--from``/``--to`` value: aware when it names a zone (``Z``, ``+01:00``), else naive
    (the daemon reads it in the schedule's timezone). A date alone is midnight, or with
    ``end`` the last second of that day."""
    value = text.strip()
    try:
        when = datetime.fromisoformat(value[:-1] + "+00:00" if value[-1:] in ("Z", "z") else value)
    except ValueError:
        raise CommandError(
            f"invalid time {text!r}: use RFC 3339 (2026-01-01T02:00:00Z) or YYYY-MM-DD[ HH:MM]", EXIT_USAGE
        ) from None
    if end and len(value) == 10:  # YYYY-MM-DD: the whole day
        when = when.replace(hour=23, minute=59, second=59)
    return when


def backfill(args: argparse.Namespace) -> int:
    from taskflow.cli.connection import connect
    from taskflow.protocol import Backfill

    start = parse_slot_time(args.start)
    end = parse_slot_time(args.end, end=True)
    if (start.tzinfo is None) == (end.tzinfo is None) and end < start:
        raise CommandError(f"--to {args.end} is before --from {args.start}", EXIT_USAGE)
    if args.limit < 1:
        raise CommandError("--max must be at least 1", EXIT_USAGE)
    with connect(args) as client:
        info = client.call(Backfill(task=args.task, start=start, end=end, limit=args.limit))
        made = [{"id": run.id, "task": info.task, "scheduled_at": run.scheduled_at} for run in info.runs]
        if not args.wait:
            _report(args, made)
            return EXIT_OK
        if not args.json:
            _report(args, made)
        from taskflow.cli.waiting import wait_for_run

        finals = [wait_for_run(client, run.id) for run in info.runs]
    if args.json:
        from taskflow.cli.output import print_json

        print_json(finals)
    else:
        from taskflow.cli.output import console, ended_line

        for final in finals:
            console(stderr=True).print(ended_line(final, with_id=True))
    return EXIT_OK if all(final.state == "succeeded" for final in finals) else EXIT_RUN_FAILED


def _report(args: argparse.Namespace, made: list[dict[str, Any]]) -> None:
    """The runs made: their ids (stdout keeps only ids, for scripts), or a JSON list."""
    if args.json:
        from taskflow.cli.output import print_json

        print_json(made)
        return
    for run in made:
        print(run["id"], flush=True)


COMMANDS = (
    Command("backfill", "run a schedule's slots in a range, one run per slot: backfill TASK --from T --to T",
            _arguments, backfill),
)
