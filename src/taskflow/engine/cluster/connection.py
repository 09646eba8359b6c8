"""Reaching the cluster: a client of an existing scheduler, or of a ``LocalCluster`` the
daemon starts (``local = { workers = N }``) and stops with itself.

The scheduler is told ``allowed_failures = 0``: by default Dask runs a task again on another
worker when its worker dies, which would start an attempt twice; taskflow wants the task to
fail (``KilledWorker`` → ``lost``) and lets the task's retry policy decide.
"""

from __future__ import annotations

import logging
from typing import Any

import dask
from distributed import Client, LocalCluster

from taskflow.engine.cluster.worker_side import AttemptRegistry
from taskflow.model import ExecutorConfig

log = logging.getLogger(__name__)


async def _closed(closing: Any) -> None:
    """Await a ``close()`` of distributed's, which returns an awaitable in asynchronous mode."""
    if closing is not None:
        await closing


class ClusterUnreachable(Exception):
    """The scheduler could not be reached (one sentence)."""


def _no_rerun_on_worker_death(dask_scheduler: Any = None) -> None:
    dask_scheduler.allowed_failures = 0


async def prepare(client: Client, registry: AttemptRegistry) -> None:
    """Settings and the worker plugin, on a new connection."""
    await client.run_on_scheduler(_no_rerun_on_worker_death)
    # Registering again is harmless: a worker's attempts outlive its plugin instance.
    await client.register_plugin(registry, name=AttemptRegistry.name)


async def reconnect(address: str, config: ExecutorConfig, registry: AttemptRegistry) -> Client:
    """A new client of ``address`` once the old one gave up (the scheduler was away)."""
    client = await Client(address, asynchronous=True, timeout=config.connect_timeout, name="taskflowd",
                          set_as_default=False)
    await prepare(client, registry)
    return client


async def connect(config: ExecutorConfig, *, worker_dir: str | None, python_path: list[str],
                  use_cgroups: bool) -> tuple[Client, LocalCluster | None, AttemptRegistry]:
    """A connected asynchronous client, its registry plugin installed on every worker."""
    cluster: LocalCluster | None = None
    address = config.address
    try:
        if address is None:
            local = config.local
            assert local is not None
            with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
                cluster = await LocalCluster(
                    n_workers=local.workers, threads_per_worker=local.threads, processes=True,
                    resources=dict(local.resources) or None, dashboard_address=None,
                    asynchronous=True, host="127.0.0.1", silence_logs=logging.WARNING,
                )
            address = cluster.scheduler_address
        client = await Client(address, asynchronous=True, timeout=config.connect_timeout,
                              name="taskflowd", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            await _closed(cluster.close())
        raise ClusterUnreachable(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    registry = AttemptRegistry(worker_dir, python_path, use_cgroups)
    await prepare(client, registry)
    log.info("dask executor: scheduler %s", address)
    return client, cluster, registry
