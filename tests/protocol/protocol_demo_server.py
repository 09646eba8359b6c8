"""A tiny real taskflow socket server for tests that need it in another process.

Usage: ``python protocol_demo_server.py SOCKET [--frame-timeout S]``. It answers a few
requests with fixed-shape results built from its own state and publishes one ``RunChanged``
per ``TriggerTask`` so clients can follow events. Prints ``ready`` once listening.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from datetime import UTC, datetime

from taskflow.daemon.server import Peer, RequestError, Server
from taskflow.model import Role, Run, RunState
from taskflow.protocol import (
    ErrorCode,
    Health,
    HealthInfo,
    Request,
    RunChanged,
    RunRef,
    Status,
    StatusInfo,
    TriggerTask,
)

STARTED = datetime.now(UTC)


def make_handler(server_ref: list[Server]):
    counter = {"runs": 0}

    async def handle(request: Request, peer: Peer):
        if isinstance(request, Status):
            return StatusInfo(
                version="test",
                pid=os.getpid(),
                started_at=STARTED,
                uptime=time.monotonic(),
                workers_max=2,
                counts={"succeeded": counter["runs"]},
            )
        if isinstance(request, Health):
            return HealthInfo(ok=True, loop_lag_ms=0.1)
        if isinstance(request, TriggerTask):
            if peer.role == Role.VIEWER and request.task == "needs-operator":
                raise RequestError(ErrorCode.FORBIDDEN, "triggering needs the operator role")
            counter["runs"] += 1
            run = Run(
                id=f"run-{counter['runs']}",
                task=request.task,
                root_id=f"run-{counter['runs']}",
                state=RunState.SUCCEEDED,
                created_at=datetime.now(UTC),
            )
            server_ref[0].publish("runs", RunChanged(run=run))
            return RunRef(id=run.id, task=run.task)
        raise RequestError(ErrorCode.BAD_REQUEST, f"{type(request).__name__} is not served here")

    return handle


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("socket")
    parser.add_argument("--frame-timeout", type=float, default=5.0)
    args = parser.parse_args()
    ref: list[Server] = []
    server = Server(
        args.socket, make_handler(ref), version="test", socket_group=None, frame_timeout=args.frame_timeout
    )
    ref.append(server)
    await server.start()
    print("ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await server.close()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
