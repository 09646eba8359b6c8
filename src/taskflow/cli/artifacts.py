"""``artifacts RUN [--attempt N] [-o DIR]``: the files a run left in ``TASKFLOW_OUTPUT_DIR``.

Without ``-o`` the files are listed (path, size, time; ``--json`` for scripts). With ``-o DIR``
each is fetched in chunks (``ReadArtifact``) into ``DIR`` under its own relative path, written
to a ``.part`` file first and renamed when complete, so an interrupted fetch leaves no file
that looks whole.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from taskflow.cli import EXIT_OK, Command, CommandError

if TYPE_CHECKING:
    from taskflow.client import Client


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_id", metavar="RUN", help="run id (or a unique start or end of a recent one)")
    parser.add_argument("--attempt", type=int, metavar="N", help="attempt N (default: the latest)")
    parser.add_argument("-o", "--output", metavar="DIR", help="fetch every artifact into DIR")


def artifacts(args: argparse.Namespace) -> int:
    from taskflow.cli.connection import connect
    from taskflow.cli.output import print_json
    from taskflow.protocol import GetRun, ListArtifacts

    with connect(args) as client:
        run_id = _full_id(client, args.run_id)
        listing = client.call(ListArtifacts(run_id=run_id, attempt=args.attempt))
        if listing.attempt == 0:
            run = client.call(GetRun(run_id=run_id))
            what = "a group: its leaf runs have the artifacts (see `taskflow show`)" if run.attempts == 0 \
                and run.state.terminal else "not started yet"
            raise CommandError(f"run {run_id} ({run.task}) has no attempt: it is {what}")
        if args.output:
            written = [_fetch(client, run_id, listing.attempt, f.path, f.size, Path(args.output))
                       for f in listing.files]
            if args.json:
                print_json({"run_id": run_id, "attempt": listing.attempt,
                            "files": [str(p) for p in written]})
            else:
                total = sum(f.size for f in listing.files)
                print(f"{len(written)} artifacts ({total} bytes) of run {run_id} attempt "
                      f"{listing.attempt} written to {args.output}")
        elif args.json:
            print_json(listing)
        else:
            _print_listing(listing)
        if listing.truncated:
            raise CommandError(f"more than {len(listing.files)} artifacts: only the first ones by path were "
                               "listed")
    return EXIT_OK


def _full_id(client: Client, run_id: str) -> str:
    from taskflow.cli.connection import ULID_LENGTH, resolve_prefix
    from taskflow.client import ClientError
    from taskflow.protocol import ErrorCode, GetRun

    try:
        return client.call(GetRun(run_id=run_id)).id
    except ClientError as exc:
        if exc.code != ErrorCode.NOT_FOUND or len(run_id) >= ULID_LENGTH:
            raise
    return resolve_prefix(client, run_id)


def _print_listing(listing: object) -> None:
    from taskflow.cli.output import local_time

    files = listing.files  # type: ignore[attr-defined]
    if not files:
        print(f"run {listing.run_id} attempt {listing.attempt} left no artifacts "  # type: ignore[attr-defined]
              "(files written to $TASKFLOW_OUTPUT_DIR)")
        return
    width = max(len(str(f.size)) for f in files)
    for f in files:
        print(f"{f.size:>{width}}  {local_time(f.modified_at)}  {f.path}")


def _fetch(client: Client, run_id: str, attempt: int, path: str, size: int, into: Path) -> Path:
    from taskflow.protocol import ReadArtifact

    target = into.joinpath(*path.split("/"))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    offset = 0
    try:
        with open(partial, "wb") as out:
            while True:
                chunk = client.call(ReadArtifact(run_id=run_id, attempt=attempt, path=path, offset=offset))
                out.write(chunk.data)
                offset += len(chunk.data)
                if chunk.eof or not chunk.data:
                    break
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise CommandError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target


COMMANDS = (
    Command("artifacts", "list or fetch (-o DIR) the files a run left in $TASKFLOW_OUTPUT_DIR",
            add_arguments, artifacts),
)
