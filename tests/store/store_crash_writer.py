"""Writer process for the crash test: saves runs and attempts until it is killed.

Each line on stdout (``run ID``, ``attempt ID``, ``done ID``) is printed only after the
future of that write resolved, i.e. after its batch committed durably; the test SIGKILLs
this process at random moments and then checks every printed write is in the database.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

from taskflow.model import Attempt, Run, RunState, new_ulid
from taskflow.store import Store


def acknowledge(kind: str, run_id: str) -> None:
    sys.stdout.write(f"{kind} {run_id}\n")
    sys.stdout.flush()


async def producer(store: Store) -> None:
    while True:
        now = datetime.now(UTC)
        run_id = new_ulid()
        run = Run(id=run_id, task="crash/leaf", root_id=run_id, state=RunState.RUNNING,
                  created_at=now, started_at=now, params={"payload": "x" * 200})  # fmt: skip
        await store.save_runs([run])
        acknowledge("run", run_id)
        await store.save_attempt(Attempt(run_id=run_id, number=1, state=RunState.SUCCEEDED, pid=1,
                                         started_at=now, finished_at=datetime.now(UTC)))  # fmt: skip
        acknowledge("attempt", run_id)
        run.state = RunState.SUCCEEDED
        run.finished_at = datetime.now(UTC)
        await store.save_runs([run])
        acknowledge("done", run_id)


async def main(path: str) -> None:
    store = await Store.open(path)
    acknowledge("ready", "-")
    await asyncio.gather(*(producer(store) for _ in range(8)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
