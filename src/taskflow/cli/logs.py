"""``logs RUN [-f] [--attempt N] [--stream stdout|stderr]``: a run's output.

Output lives in files the daemon reads for us in chunks (``ReadLogs``), by byte offset, per
stream. Without ``-f`` each stream is printed whole, stdout then stderr. With ``-f`` both
streams are polled from their offsets five times a second until the run is over, which also
picks up the next attempt of a retried run. A group run shows every leaf below it, each line
prefixed by the leaf's name. When the output cap dropped the head of a stream, a
``[N bytes cut]`` note goes to stderr where the gap is.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

from taskflow.cli import EXIT_OK, Command

if TYPE_CHECKING:
    from taskflow.client import Client
    from taskflow.model import RunTree

FOLLOW_INTERVAL = 0.2  # ~5 polls a second: live enough for people, cheap for the daemon
CHUNK = 256 * 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_id", metavar="RUN", help="run id (or a unique start or end of a recent one)")
    parser.add_argument("-f", "--follow", action="store_true", help="follow until the run ends")
    parser.add_argument("--attempt", type=int, metavar="N", help="attempt N (default: the latest)")
    parser.add_argument("--stream", choices=("stdout", "stderr"),
                        help="only this stream (default: both)")


class StreamCursor:
    """Where we are in one stream of one attempt of one leaf run, and how to print it."""

    def __init__(self, run_id: str, task: str, attempt: int, stream: str, prefix: str) -> None:
        self.run_id = run_id
        self.task = task
        self.attempt = attempt
        self.stream = stream
        self.prefix = prefix.encode()
        self.offset = 0
        self.eof = False
        self.partial = b""  # an unfinished line, held back while prefixing lines

    def read(self, client: Client, printer: Printer) -> bool:
        """Print everything available now; true when something new was read."""
        from taskflow.protocol import ReadLogs

        got = False
        while not self.eof:
            chunk = client.call(ReadLogs(run_id=self.run_id, attempt=self.attempt,
                                         stream=self.stream, offset=self.offset,  # type: ignore[arg-type]
                                         max_bytes=CHUNK))
            if chunk.cut:
                printer.cut(self, chunk.cut)
            self.offset = chunk.next_offset
            self.eof = chunk.eof
            if chunk.data:
                got = True
                printer.data(self, chunk.data)
            if not chunk.data:
                break
        return got

    def split_lines(self, data: bytes) -> bytes:
        """Complete lines of ``data`` (plus what was held back), each with the prefix."""
        data = self.partial + data
        head, sep, self.partial = data.rpartition(b"\n")
        if not sep:
            self.partial = data
            return b""
        return b"".join(self.prefix + line + b"\n" for line in (head + sep).splitlines())

    def flush(self) -> bytes:
        rest, self.partial = self.partial, b""
        return self.prefix + rest + b"\n" if rest else b""


class Printer:
    """Writes chunks: raw bytes (or prefixed lines) to stdout, or JSON lines with ``--json``."""

    def __init__(self, *, json_lines: bool, prefixed: bool) -> None:
        self.json_lines = json_lines
        self.prefixed = prefixed
        self.out = sys.stdout.buffer

    def data(self, cursor: StreamCursor, data: bytes) -> None:
        if self.json_lines:
            from taskflow.cli.output import print_json

            print_json({"run_id": cursor.run_id, "task": cursor.task, "attempt": cursor.attempt,
                        "stream": cursor.stream, "offset": cursor.offset - len(data),
                        "data": data.decode("utf-8", "replace")}, pretty=False)
            return
        self.out.write(cursor.split_lines(data) if self.prefixed else data)
        self.out.flush()

    def finish(self, cursor: StreamCursor) -> None:
        if self.prefixed and not self.json_lines:
            self.out.write(cursor.flush())
            self.out.flush()

    def cut(self, cursor: StreamCursor, size: int) -> None:
        self.out.flush()
        where = f"{cursor.task} " if self.prefixed else ""
        print(f"[{where}{cursor.stream}: {size} bytes cut]", file=sys.stderr, flush=True)


def _leaves(tree: RunTree) -> list[RunTree]:
    return [node for node in tree.walk() if not node.children]


def _streams(args: argparse.Namespace) -> tuple[str, ...]:
    return (args.stream,) if args.stream else ("stdout", "stderr")


def logs(args: argparse.Namespace) -> int:
    from taskflow.cli.connection import connect, show_run

    with connect(args) as client:
        tree = show_run(client, args.run_id)
        prefixed = len(_leaves(tree)) > 1
        if args.follow:
            _follow(client, args, tree, Printer(json_lines=args.json, prefixed=prefixed))
        elif args.json:
            _print_json_document(client, args, tree)
        else:
            _print_all(client, args, tree, Printer(json_lines=False, prefixed=prefixed))
    return EXIT_OK


def _attempt_number(node: RunTree, wanted: int | None) -> int | None:
    """The attempt to show for a leaf: ``wanted`` if it exists, else the latest."""
    numbers = [a.number for a in node.attempts]
    if not numbers:
        return None
    if wanted is not None:
        if wanted not in numbers:
            from taskflow.cli import CommandError

            raise CommandError(f"run {node.run.id} ({node.run.task}) has no attempt {wanted}; "
                               f"it has {len(numbers)}")
        return wanted
    return max(numbers)


def _cursors(node: RunTree, attempt: int, args: argparse.Namespace, prefixed: bool) -> list[StreamCursor]:
    prefix = f"{node.run.task}| " if prefixed else ""
    return [StreamCursor(node.run.id, node.run.task, attempt, stream, prefix)
            for stream in _streams(args)]


def _print_all(client: Client, args: argparse.Namespace, tree: RunTree, printer: Printer) -> None:
    for node in _leaves(tree):
        attempt = _attempt_number(node, args.attempt)
        if attempt is None:
            continue
        for cursor in _cursors(node, attempt, args, printer.prefixed):
            cursor.read(client, printer)
            printer.finish(cursor)


def _print_json_document(client: Client, args: argparse.Namespace, tree: RunTree) -> None:
    """One JSON document: a list of ``{run_id, task, attempt, stream, data, cut}``."""
    from taskflow.cli.output import print_json

    class Collector(Printer):
        def __init__(self) -> None:
            super().__init__(json_lines=False, prefixed=False)
            self.parts: list[bytes] = []
            self.dropped = 0

        def data(self, cursor: StreamCursor, data: bytes) -> None:
            self.parts.append(data)

        def cut(self, cursor: StreamCursor, size: int) -> None:
            self.dropped += size

    records = []
    for node in _leaves(tree):
        attempt = _attempt_number(node, args.attempt)
        if attempt is None:
            continue
        for cursor in _cursors(node, attempt, args, False):
            collector = Collector()
            cursor.read(client, collector)
            records.append({"run_id": cursor.run_id, "task": cursor.task, "attempt": attempt,
                            "stream": cursor.stream,
                            "data": b"".join(collector.parts).decode("utf-8", "replace"),
                            "cut": collector.dropped})
    print_json(records)


def _follow(client: Client, args: argparse.Namespace, tree: RunTree, printer: Printer) -> None:
    """Poll every leaf's streams until the tree is terminal, then drain what is left."""
    from taskflow.cli.connection import show_run

    current: dict[str, list[StreamCursor]] = {}  # leaf run id -> its cursors
    while True:
        final = tree.run.state.terminal
        for node in _leaves(tree):
            attempt = _attempt_number(node, args.attempt)
            if attempt is None:
                continue
            cursors = current.get(node.run.id)
            if cursors and cursors[0].attempt != attempt:
                for cursor in cursors:  # the retried attempt's tail, then the new attempt
                    cursor.read(client, printer)
                    printer.finish(cursor)
                if not args.json:
                    print(f"[{node.run.task}: attempt {attempt}]", file=sys.stderr, flush=True)
                cursors = None
            if not cursors:
                cursors = current[node.run.id] = _cursors(node, attempt, args, printer.prefixed)
            for cursor in cursors:
                cursor.read(client, printer)
        if final:
            for cursors in current.values():
                for cursor in cursors:
                    printer.finish(cursor)
            return
        time.sleep(FOLLOW_INTERVAL)
        tree = show_run(client, tree.run.id)


COMMANDS = (
    Command("logs", "output of a run; -f follows until it ends", add_arguments, logs),
)
