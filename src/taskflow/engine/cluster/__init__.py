"""The dask executor: attempts on a Dask distributed cluster, behind the ``Executor`` protocol.

``ClusterExecutor`` (``executor``) is what the daemon uses with ``[executor] kind = "dask"``:
leaves with a ``where`` (or all, with ``send_all``) go to the cluster as one Dask task per
attempt (``RemoteAttempt`` in ``attempt``), the rest to the local ``ProcessExecutor``. On each
worker, the ``AttemptRegistry`` worker plugin (``worker_side``) runs the attempt with that
same ``ProcessExecutor``, so the wrapper, process group, output files, limits and timeouts
are exactly the local ones; it outlives the Dask task, so a daemon restart can re-attach.
``mirror`` copies a remote attempt's output into the daemon's state dir while it runs;
``messages`` are the structs that cross between the two sides; ``connection`` starts the
client (and a ``LocalCluster`` for ``local = { workers = N }``).

``distributed`` is imported only here, and only when the dask executor is configured.
"""
