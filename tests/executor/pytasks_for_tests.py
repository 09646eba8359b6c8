"""Python tasks the executor tests run in child processes."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import taskflow


@taskflow.task
def add(a: int, b: int = 1, ctx: taskflow.Context | None = None) -> dict:
    return {"sum": a + b}


@taskflow.task
def with_progress(count: int, ctx: taskflow.Context) -> str:
    for i in range(count):
        ctx.progress((i + 1) / count, f"step {i + 1}")
    ctx.log(f"run {ctx.run_id} attempt {ctx.attempt}")
    return f"{ctx.task}:{count}"


@taskflow.task
async def async_greet(name: str, ctx: taskflow.Context) -> str:
    await asyncio.sleep(0.01)
    ctx.progress(0.5, "halfway")
    return f"hello {name}"


@taskflow.task
def explode(row: int) -> None:
    raise ValueError(f"bad row {row}")


@taskflow.task
def hard_exit() -> None:
    os._exit(3)


@taskflow.task
def hang(ctx: taskflow.Context) -> None:
    # Ignores cancellation on purpose: only the runner's grace and the KILL stop it.
    time.sleep(60)


@taskflow.task
def cooperative(ctx: taskflow.Context) -> str:
    ctx.wait_cancelled(60)
    return "stopped cleanly"


@taskflow.task
async def async_hang() -> None:
    await asyncio.sleep(60)


@taskflow.task
def odd_result() -> dict:
    return {"lock": threading.Lock(), "fine": [1, 2]}


def not_registered() -> None:
    pass
