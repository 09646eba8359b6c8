"""Where attempts run: the daemon's ``[executor]`` table and a task's ``where``.

``local`` (the default) runs every attempt on the daemon's host. ``dask`` runs the leaves
that say ``where`` (or every leaf, with ``send_all``) on a Dask distributed cluster: an
existing scheduler at ``address``, or a ``LocalCluster`` of ``local.workers`` processes that
the daemon starts and stops itself. Only placement lives here; pools, priorities, breakers
and retries stay in the daemon's scheduler.
"""

from __future__ import annotations

from typing import Literal

import msgspec

ExecutorKind = Literal["local", "dask"]


class Placement(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A leaf's ``where``: the workers it may run on (names or addresses; empty: any) and
    the abstract resources one attempt holds while it runs (``cpu = 4``, ``gpu = 1``), as
    the workers declare them with ``dask worker --resources``."""

    workers: tuple[str, ...] = ()
    resources: dict[str, float] = {}


class LocalClusterSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[executor] local = { workers = N }``: a cluster of ``workers`` processes on this
    host of ``threads`` slots each, with ``resources`` (so ``where.resources`` can be tried without a real one)."""

    workers: int = 2
    threads: int = 1  # attempts each worker runs at once
    resources: dict[str, float] = {}


class ExecutorConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The ``[executor]`` table of ``taskflow.toml``."""

    kind: ExecutorKind = "local"
    address: str | None = None  # "tcp://scheduler:8786" for kind = "dask"
    local: LocalClusterSettings | None = None
    # Every leaf to the cluster, not only those with a ``where``.
    send_all: bool = False
    # Where each worker keeps attempt folders; None: under the worker's local directory.
    worker_dir: str | None = None
    connect_timeout: float = 10.0  # seconds to reach the scheduler at start
    poll_interval: float = 0.5  # seconds between live-output and liveness polls of running attempts
