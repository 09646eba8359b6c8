"""Talking to the daemon from a command: connect, translate client errors, find runs.

Every daemon-backed command goes through ``connect`` so that "daemon unreachable",
"refused" and "not found" all become one sentence on stderr and exit 1, the same way
everywhere. Imported only inside handlers (it pulls in the client and the protocol).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from taskflow.cli import EXIT_ERROR, CommandError
from taskflow.cli.host_choice import host_expression
from taskflow.client import Client, ClientError
from taskflow.protocol import ErrorCode

if TYPE_CHECKING:
    from taskflow.model import RunTree

#: A ULID is 26 characters; anything shorter may be a prefix of one.
ULID_LENGTH = 26
#: How many of the newest runs a prefix of a run id is looked for in.
PREFIX_SEARCH = 2000


@contextmanager
def connect(args: argparse.Namespace, timeout: float | None = 10.0) -> Iterator[Client]:
    """A connected client for ``args.socket`` on ``args.host`` (one host: a command that acts
    on several goes through ``cli/fleet.py``); client errors leave as ``CommandError``."""
    try:
        if host_expression(args) is None:  # the local daemon: hosts.toml is not even read
            client = Client.connect(getattr(args, "socket", None), timeout=timeout)
        else:
            from taskflow.cli.host_choice import one_host

            client = Client.connect_host(one_host(args), getattr(args, "socket", None), timeout=timeout)
        with client:
            yield client
    except ClientError as exc:
        raise CommandError(sentence(exc), EXIT_ERROR) from None


def sentence(exc: ClientError) -> str:
    message = exc.message.rstrip()
    if exc.code == ErrorCode.FORBIDDEN and "refused" not in message:
        return f"refused: {message}"
    return message


def show_run(client: Client, run_id: str) -> RunTree:
    """The run tree of ``run_id``, accepting a unique prefix of a recent run's id."""
    from taskflow.protocol import ShowRun  # run requests load the model; not for `status`

    try:
        return client.call(ShowRun(run_id=run_id))
    except ClientError as exc:
        if exc.code != ErrorCode.NOT_FOUND or len(run_id) >= ULID_LENGTH:
            raise
        full = resolve_prefix(client, run_id)
        return client.call(ShowRun(run_id=full))


def resolve_prefix(client: Client, prefix: str) -> str:
    """The one recent run whose id starts — or ends — with ``prefix`` (case-insensitive).

    The end is what the TUI shows of a run id where space is short (a ULID's head is its
    time, so runs started together share it). Only the newest runs are searched: this is a
    typing aid for what was just started, not a query language.
    """
    from taskflow.protocol import ListRuns

    wanted = prefix.upper()
    ids: list[str] = []
    before: str | None = None
    while len(ids) < PREFIX_SEARCH:  # pages of 500: 2,000 runs with long messages exceed a frame
        runs = client.call(ListRuns(limit=500, roots_only=False, before=before))
        ids += [run.id for run in runs]
        if len(runs) < 500:
            break
        before = runs[-1].id
    matches = sorted({run_id for run_id in ids if run_id.startswith(wanted) or run_id.endswith(wanted)})
    if not matches:
        raise CommandError(f"no run {prefix}")
    if len(matches) > 1:
        raise CommandError(f"run id part {prefix} is ambiguous ({len(matches)} runs match); "
                           "give more characters")
    return matches[0]


def run_id_of(client: Client, text: str) -> str:
    """The full run id for ``text`` (a full id is returned as is, without a request)."""
    if len(text) >= ULID_LENGTH:
        return text
    return resolve_prefix(client, text)
