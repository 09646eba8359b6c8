"""``plan NAME [-p K=V ...] [--all]``: what ``run`` would start, without starting anything.

The daemon checks the task and the parameters as it would for ``run`` (the same refusal,
exit 1) and answers with the tree: per node its kind, wave, pool, timeout, retries, service
and breaker, pauses, placement and the command as it would run; then the order in waves.
No run is created and nothing is recorded, so viewers may plan too.

Text draws the first ``PLAN_SHOWN`` nodes (``--all``: every one) and says how many more
there are; the summary and the waves always cover the whole tree. ``--json`` prints the
whole plan as one ``TaskPlan`` document (every node, fetched a page at a time).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from taskflow.cli import EXIT_OK, Command

if TYPE_CHECKING:
    from taskflow.client import Client
    from taskflow.protocol import TaskPlan

#: Nodes the text output draws unless ``--all``: enough for any tree a person reads.
PLAN_SHOWN = 200


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="task or tree, as for run (e.g. nightly or nightly/verify)")
    parser.add_argument("-p", "--param", dest="params", action="append", default=[],
                        metavar="K=V", help="parameter, as for run (repeatable); V is parsed as JSON when it can be")
    parser.add_argument("--all", action="store_true",
                        help=f"draw every node even of a tree bigger than {PLAN_SHOWN} nodes")


def plan(args: argparse.Namespace) -> int:
    from taskflow.cli.connection import connect
    from taskflow.cli.runs import parse_param

    params = dict(parse_param(p) for p in args.params)
    whole = bool(args.json or args.all)
    with connect(args) as client:
        found = fetch_plan(client, args.name, params, None if whole else PLAN_SHOWN)
    if args.json:
        from taskflow.cli.output import print_json

        print_json(found)
        return EXIT_OK
    from taskflow.cli.output import console
    from taskflow.cli.plan_view import plan_view

    console().print(plan_view(found))
    return EXIT_OK


def fetch_plan(client: Client, name: str, params: dict[str, object], limit: int | None) -> TaskPlan:
    """The plan with its first ``limit`` nodes (None: every node, a page at a time); the
    pages are joined into one ``TaskPlan`` whose ``next_offset`` says if any were left out."""
    import msgspec

    from taskflow.protocol import PLAN_PAGE, PlanTask

    wanted = PLAN_PAGE if limit is None else min(limit, PLAN_PAGE)
    first = client.call(PlanTask(task=name, params=params, limit=wanted))
    nodes = list(first.nodes)
    offset = first.next_offset
    while offset is not None and (limit is None or len(nodes) < limit):
        wanted = PLAN_PAGE if limit is None else min(limit - len(nodes), PLAN_PAGE)
        page = client.call(PlanTask(task=name, params=params, offset=offset, limit=wanted))
        nodes.extend(page.nodes)
        offset = page.next_offset
    return msgspec.structs.replace(first, nodes=nodes, next_offset=offset)


COMMANDS = (
    Command("plan", "what run would start (tree, order, skips), without running anything", _arguments, plan),
)
