"""``events``: the daemon's event stream, one JSON object a line, until Ctrl-C.

Each line is the event Struct as JSON with its ``type`` tag (``RunChanged``,
``AttemptChanged``, ``LogLines``...) and the envelope's ``seq``, so ``jq`` filters can pick
events by type and notice gaps. Output is JSON lines with or without ``--json``.
"""

from __future__ import annotations

import argparse

from taskflow.cli import EXIT_ERROR, Command

TOPIC_NAMES = ("runs", "attempts", "tasks", "breakers", "logs", "stats")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--topic", dest="topics", action="append", choices=TOPIC_NAMES,
                        metavar="TOPIC", help="only this topic (repeatable; default: all but "
                        "stats): " + ", ".join(TOPIC_NAMES))
    parser.add_argument("--run", dest="run_id", metavar="RUN",
                        help="only events of this run's tree")


def events(args: argparse.Namespace) -> int:
    import msgspec

    from taskflow.cli.connection import connect
    from taskflow.cli.output import print_json

    topics = args.topics or [t for t in TOPIC_NAMES if t != "stats"]
    with connect(args, timeout=None) as client:
        for push in client.subscribe(topics, run_id=args.run_id):
            record = msgspec.to_builtins(push.event)
            record["seq"] = push.seq
            print_json(record, pretty=False)
    return EXIT_ERROR  # the stream only ends when the daemon goes away


COMMANDS = (
    Command("events", "stream events, one JSON object a line, until Ctrl-C", add_arguments, events),
)
