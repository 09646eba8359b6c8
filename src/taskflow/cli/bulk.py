"""Many submissions in one call: ``run --from-file`` and ``exec --from-file``.

A script that starts a thousand jobs should not pay a thousand interpreter start-ups and a
thousand durable commits one after the other: the lines are read first, sent pipelined on
one connection (``Client.call_many``), and the daemon commits their intents in groups. Each
line is its own run; a line the daemon refuses is reported with its line number and the
others still start. Waiting on many runs polls them together.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from taskflow.cli import EXIT_ERROR, EXIT_OK, EXIT_RUN_FAILED, EXIT_USAGE, CommandError

if TYPE_CHECKING:
    from taskflow.client import Client
    from taskflow.model import Run
    from taskflow.protocol import Request, RunRef

#: How often waiting on many runs re-reads those not yet ended.
POLL_SECONDS = 0.25


def read_lines(source: str) -> list[tuple[int, str]]:
    """``(line number, text)`` of every line of ``source`` (a path, or ``-`` for stdin) that
    is neither blank nor a ``#`` comment."""
    try:
        if source == "-":
            text = sys.stdin.read()
        else:
            with open(source, encoding="utf-8") as file:
                text = file.read()
    except OSError as exc:
        raise CommandError(f"cannot read {source}: {exc.strerror or exc}", EXIT_USAGE) from None
    except UnicodeDecodeError:
        raise CommandError(f"{source} is not UTF-8 text", EXIT_USAGE) from None
    lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), 1)]
    kept = [(number, line) for number, line in lines if line and not line.startswith("#")]
    if not kept:
        raise CommandError(f"{'stdin' if source == '-' else source} holds no lines to submit", EXIT_USAGE)
    return kept


def submit_all(
    args: argparse.Namespace, client: Client, requests: Sequence[Request[RunRef]], lines: list[int]
) -> int:
    """Send ``requests`` (one per input line), print a run id per started run (``--json``: a
    list with the run or the error of each line), then with ``--wait`` wait for them all."""
    from taskflow.cli.output import print_json
    from taskflow.client import ClientError
    from taskflow.model import RunState

    results = client.call_many(requests)
    refs = [r for r in results if not isinstance(r, ClientError)]
    refused = [(line, r) for line, r in zip(lines, results, strict=True) if isinstance(r, ClientError)]
    for line, error in refused:
        print(f"taskflow: line {line}: {error.message}", file=sys.stderr)
    if args.json and not args.wait:
        print_json([
            {"line": line, "error": r.message} if isinstance(r, ClientError) else {"line": line, "id": r.id, "task": r.task}
            for line, r in zip(lines, results, strict=True)
        ])
    elif not args.json:
        for ref in refs:
            print(ref.id)
        sys.stdout.flush()
    code = EXIT_ERROR if refused else EXIT_OK
    if not args.wait:
        return code
    finals = wait_for_runs(client, [ref.id for ref in refs])
    if args.json:
        print_json(finals)
    else:
        _print_ends(finals)
    if code == EXIT_OK and any(run.state is not RunState.SUCCEEDED for run in finals):
        code = EXIT_RUN_FAILED
    return code


def wait_for_runs(client: Client, run_ids: list[str]) -> list[Run]:
    """The runs ``run_ids``, in that order, once every one of them is terminal."""
    from taskflow.client import ClientError
    from taskflow.protocol import GetRun

    final: dict[str, Run] = {}
    while len(final) < len(run_ids):
        waiting = [run_id for run_id in run_ids if run_id not in final]
        answers = client.call_many([GetRun(run_id=run_id) for run_id in waiting])
        for run_id, result in zip(waiting, answers, strict=True):
            if isinstance(result, ClientError):
                raise CommandError(f"run {run_id}: {result.message}", EXIT_ERROR)
            if result.state.terminal:
                final[run_id] = result
        if len(final) < len(run_ids):
            time.sleep(POLL_SECONDS)
    return [final[run_id] for run_id in run_ids]


def _print_ends(finals: list[Run]) -> None:
    from taskflow.cli.output import console, ended_line

    out = console(stderr=True)
    for run in finals:
        out.print(ended_line(run, with_id=True))
