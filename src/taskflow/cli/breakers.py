"""``breakers``, ``breakers reset SERVICE``, ``breakers trip SERVICE``: circuit breakers.

A tripped breaker holds a service's tasks (``blocked``) until it is reset or its half-open
probe succeeds; resetting is how an operator says "the service is back".
"""

from __future__ import annotations

import argparse

from taskflow.cli import EXIT_OK, EXIT_USAGE, Command, CommandError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", choices=("reset", "trip"),
                        help="reset (close) or trip (open) SERVICE's breaker; omit to list them")
    parser.add_argument("service", nargs="?", metavar="SERVICE", help="service name")


def breakers(args: argparse.Namespace) -> int:
    from taskflow.cli.connection import connect
    from taskflow.cli.output import print_json
    from taskflow.protocol import ListBreakers, ResetBreaker, TripBreaker

    if args.action and not args.service:
        raise CommandError(f"breakers {args.action} needs a SERVICE", EXIT_USAGE)
    if args.service and not args.action:
        raise CommandError("say what to do with the breaker: breakers reset|trip SERVICE", EXIT_USAGE)
    from taskflow.cli.host_choice import several_hosts

    if not args.action and several_hosts(args):
        from taskflow.cli import fleet

        return fleet.breakers(args)
    with connect(args) as client:
        if args.action:
            request = (ResetBreaker if args.action == "reset" else TripBreaker)(service=args.service)
            state = client.call(request)
            if args.json:
                print_json(state)
            else:
                print(f"{state.service}: {state.status}")
            return EXIT_OK
        states = client.call(ListBreakers())
    if args.json:
        print_json(states)
        return EXIT_OK
    from rich.table import Table
    from rich.text import Text

    from taskflow.cli.output import BREAKER_STYLES, age, console, plain

    table = Table(box=None, header_style="bold")
    for column in ("service", "breaker", "failures", "opened", "probe", "tripped by"):
        table.add_column(column)
    for state in states:
        status = str(state.status)
        table.add_row(plain(state.service), Text(status, style=BREAKER_STYLES.get(status, "")),
                      str(state.consecutive_failures), age(state.opened_at),
                      age(state.half_open_at) if state.half_open_at else "-",
                      plain(state.tripped_by or "-"))
    console().print(table if states else "no services")
    return EXIT_OK


COMMANDS = (
    Command("breakers", "circuit breakers; breakers reset|trip SERVICE", add_arguments, breakers),
)
