"""``ClusterExecutor``: the ``Executor`` of ``[executor] kind = "dask"``.

Leaves with a ``where`` (every leaf with ``send_all``) become one Dask task each, keyed
``taskflow-<run>-<n>`` and restricted to the named workers and resources; the rest run on the
local ``ProcessExecutor`` it wraps. A remote attempt's outcome comes back as the task's
result; while it runs, one poll loop asks each busy worker (``client.run``) for new output,
mirrored into the attempt's folder in the state dir, and notices workers that left (``lost``).
Cancel and timeout act on the worker's process group (``worker_side``); Dask itself only
places and runs. After a restart ``adopt``/``trace`` ask every worker what it knows of a key:
still running → re-attached and polled; ended → read back; unknown → the caller interrupts it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from distributed import Client, LocalCluster
from distributed.scheduler import KilledWorker

from taskflow.engine.cluster import worker_side
from taskflow.engine.cluster.attempt import RemoteAttempt, cancelled_before_start, failed_to_start, lost_outcome
from taskflow.engine.cluster.messages import (
    ENDED_TOPIC,
    RESULT_CARRY_LIMIT,
    AttemptCall,
    AttemptReport,
    OutputWanted,
    attempt_key,
    encoder,
    reports_decoder,
)
from taskflow.engine.cluster.mirror import OutputMirror, is_remote
from taskflow.engine.executor import AttemptHandle, Found, OutputChunk, ProgressCallback
from taskflow.engine.process.local import ProcessExecutor
from taskflow.model import Attempt, ExecutorConfig, TaskSpec

log = logging.getLogger(__name__)

# (run id, attempt number, worker name, pid on the worker, its start time)
PlacementCallback = Callable[[str, int, str, int | None, float | None], None]


class ClusterExecutor:
    """Remote attempts on a Dask cluster, local ones on the wrapped ``ProcessExecutor``."""

    def __init__(self, local: ProcessExecutor, client: Client, config: ExecutorConfig,
                 cluster: LocalCluster | None = None) -> None:
        self.local = local
        self.client = client
        self.config = config
        self.cluster = cluster
        self.on_placed: PlacementCallback | None = None
        self._remote: dict[str, RemoteAttempt] = {}  # running, by key
        self._forget: dict[str, list[str]] = defaultdict(list)  # worker -> ended keys to drop
        self._poller: asyncio.Task[None] | None = None
        self._workers: dict[str, Any] = dict(client.scheduler_info().get("workers", {}))
        self.address: str = cluster.scheduler_address if cluster is not None else str(config.address)
        self.registry: Any = None  # the worker plugin, registered again after a reconnect
        self._next_reconnect = 0.0
        self._to_submit: list[RemoteAttempt] = []
        self._background: set[asyncio.Future[Any]] = set()
        self._was_running = True
        client.subscribe_topic(ENDED_TOPIC, self._on_ended)
        self._ensure_poller()

    # ------------------------------------------------------------------ Executor protocol

    @property
    def on_progress(self) -> ProgressCallback | None:
        return self.local.on_progress

    @on_progress.setter
    def on_progress(self, callback: ProgressCallback | None) -> None:
        self.local.on_progress = callback

    @property
    def stop_grace(self) -> float:
        return self.local.stop_grace

    @property
    def running(self) -> int:
        return self.local.running + len(self._remote)

    def goes_remote(self, spec: TaskSpec) -> bool:
        return spec.where is not None or self.config.send_all

    def refusal(self, spec: TaskSpec) -> str | None:
        if self.goes_remote(spec) and spec.user:
            return "user is not supported for tasks run on the cluster"
        return self.local.refusal(spec)

    def start(self, spec: TaskSpec, run_id: str, attempt: int, params: Mapping[str, Any]) -> AttemptHandle:
        if not self.goes_remote(spec):
            return self.local.start(spec, run_id, attempt, params)
        key = attempt_key(run_id, attempt)
        handle = RemoteAttempt(self, key=key, run_id=run_id, number=attempt,
                               mirror=OutputMirror(self.locate_output(run_id, attempt), self.local.output_cap),
                               started_at=datetime.now(UTC))
        try:
            handle.mirror.create(key)
            call = AttemptCall(key=key, spec=msgspec.msgpack.encode(spec), run_id=run_id, number=attempt,
                               params=dict(params), output_cap=self.local.output_cap,
                               stop_grace=self.local.stop_grace, upstream=self._upstream(spec))
        except (OSError, TypeError, ValueError) as exc:
            handle.settle(failed_to_start(str(exc) or type(exc).__name__))
            return handle
        handle.call = encoder.encode(call)
        handle.where = spec.where
        self._remote[key] = handle
        self._ensure_poller()
        if self.client.status == "running":
            self._submit(handle)
        # else held: submitted once the scheduler is back (``_reconnect``)
        return handle

    def _upstream(self, spec: TaskSpec) -> dict[str, bytes | None]:
        """The dependencies' results the attempt is pointed at (``engine.results``): paths in
        this daemon's state dir, which a worker on another host cannot open, so their
        contents go with the attempt."""
        root = str(self.local.output_root) + os.sep
        carried: dict[str, bytes | None] = {}
        for variable, path in spec.env.items():
            if not (variable.startswith("TASKFLOW_UPSTREAM_") and variable.endswith("_RESULT")
                    and path.startswith(root)):
                continue
            try:
                size = os.stat(path).st_size
            except FileNotFoundError:
                carried[variable] = None  # the dependency left no result
                continue
            if size > RESULT_CARRY_LIMIT:
                raise ValueError(f"{variable} names a result of {size} bytes, over the "
                                 f"{RESULT_CARRY_LIMIT >> 20} MiB an attempt carries to a cluster worker")
            with open(path, "rb") as f:
                carried[variable] = f.read()
        return carried

    def _submit(self, handle: RemoteAttempt) -> None:
        """Queue the attempt's task for the scheduler; the starts of one pump step go in one
        ``client.map`` per placement (one graph update, not one per attempt)."""
        if not self._to_submit:
            asyncio.get_running_loop().call_soon(self._submit_queued)
        self._to_submit.append(handle)

    def _submit_queued(self) -> None:
        """The same key again (after a lost connection) starts nothing twice: a worker that
        has the key returns that attempt."""
        groups: dict[tuple[Any, ...], list[RemoteAttempt]] = defaultdict(list)
        for handle in self._to_submit:
            if not handle.done:
                where = handle.where
                workers = tuple(where.workers) if where is not None else ()
                resources = tuple(sorted(where.resources.items())) if where is not None else ()
                groups[(workers, resources)].append(handle)
        self._to_submit.clear()
        for (workers, resources), handles in groups.items():
            try:
                futures = self.client.map(
                    worker_side.run_attempt, [h.call for h in handles], key=[h.key for h in handles], pure=False,
                    workers=list(workers) or None, resources=dict(resources) or None, allow_other_workers=False,
                )
            except Exception as exc:  # noqa: BLE001 - any refusal to submit is these attempts' failure to start
                for handle in handles:
                    self._settle(handle, failed_to_start(str(exc) or type(exc).__name__))
                continue
            for handle, future in zip(handles, futures, strict=True):
                handle.dask_future = future  # its state is checked by the poll (``_check_futures``)

    async def adopt(self, attempt: Attempt, spec: TaskSpec | None = None) -> Found:
        out = attempt.output_dir or self.locate_output(attempt.run_id, attempt.number)
        if attempt.worker is None and not is_remote(out):
            return await self.local.adopt(attempt, spec)
        key = attempt_key(attempt.run_id, attempt.number)
        report = await self._find(key)
        if report is None or report.placed is None:
            return None
        handle = RemoteAttempt(self, key=key, run_id=attempt.run_id, number=attempt.number,
                               mirror=OutputMirror(out, self.local.output_cap),
                               started_at=attempt.started_at or report.placed.started_at)
        handle.place(report.placed)
        # What was copied before the restart stays; the rest is asked for from its end.
        handle.mirror.offsets = {s: _mirrored(out, s) for s in handle.mirror.offsets}
        self._remote[key] = handle
        if report.state == "ended" and report.outcome is not None:
            await self._catch_up(handle)
            del self._remote[key]
            self._forget[report.placed.worker].append(key)
            self._ensure_poller()
            handle.mirror.finish()
            return report.outcome
        log.info("re-attached to %s on worker %s", key, report.placed.name)
        self._ensure_poller()
        return handle

    async def trace(self, run_id: str, number: int, spec: TaskSpec | None = None) -> tuple[Attempt, Found] | None:
        out = self.locate_output(run_id, number)
        if not is_remote(out):
            return await self.local.trace(run_id, number, spec)
        report = await self._find(attempt_key(run_id, number))
        placed = report.placed if report is not None else None
        attempt = Attempt(
            run_id=run_id, number=number, output_dir=out,
            pid=placed.pid if placed else None, pid_started_at=placed.pid_started_at if placed else None,
            started_at=placed.started_at if placed else datetime.now(UTC), worker=placed.name if placed else None,
        )
        # Submitted but known to no worker: it may have started on one that is gone since.
        return attempt, await self.adopt(attempt, spec)

    def locate_output(self, run_id: str, number: int) -> str:
        return self.local.locate_output(run_id, number)

    def read_output(self, output_dir: str, stream: str, offset: int, limit: int) -> OutputChunk:
        return self.local.read_output(output_dir, stream, offset, limit)

    async def stop_all(self) -> None:
        handles = list(self._remote.values())
        for handle in handles:
            handle.cancel()
        await asyncio.gather(self.local.stop_all(), *(h.wait() for h in handles))

    def detach_all(self) -> None:
        self.local.detach_all()
        for handle in list(self._remote.values()):
            handle.settle(None)
        self._remote.clear()

    def close(self) -> None:
        self.local.close()
        if self._poller is not None:
            self._poller.cancel()

    async def shutdown(self) -> None:
        """Close the client (and the local cluster): after ``close``."""
        try:
            await _closed(self.client.close())
        finally:
            if self.cluster is not None:
                await _closed(self.cluster.close())

    # ------------------------------------------------------------------ what status shows

    def cluster_view(self) -> dict[str, Any]:
        """The scheduler, its workers and what taskflow runs on each (``status``)."""
        info = {"workers": self._workers} if self.client.status == "running" else {}
        busy: dict[str, int] = defaultdict(int)
        for handle in self._remote.values():
            if handle.worker is not None:
                busy[handle.worker] += 1
        workers = [
            {"address": address, "name": str(w.get("name", address)), "threads": w.get("nthreads"),
             "resources": w.get("resources", {}), "busy": busy.get(address, 0)}
            for address, w in sorted(info.get("workers", {}).items())
        ]
        return {
            "kind": "dask",
            "scheduler": self.address,
            "connected": self.client.status == "running",
            "problem": self.problem,
            "workers": workers,
            "remote_running": len(self._remote),
        }

    @property
    def problem(self) -> str | None:
        """One sentence when the scheduler is out of reach, else None."""
        if self.client.status != "running":
            return f"the Dask scheduler is unreachable (client {self.client.status})"
        return None

    # ------------------------------------------------------------------ the remote side

    def cancel(self, handle: RemoteAttempt) -> None:
        if handle.placed is not None:
            self._send(worker_side.cancel_attempts, [handle.key], handle.placed.worker)
            return
        # Where it runs is not known yet: wherever it may have begun, it ends.
        self._send(worker_side.cancel_attempts, [handle.key], None)
        if handle.dask_future is not None:
            self._spawn(handle.dask_future.cancel())

    def _send(self, function: Callable[..., Any], argument: Any, worker: str | None) -> None:
        async def send() -> None:
            try:
                await self.client.run(function, argument, workers=[worker] if worker else None, on_error="return")
            except Exception as exc:  # noqa: BLE001 - a worker gone or the scheduler down: the poll sees it
                log.warning("%s on %s failed: %s", function.__name__, worker, exc)

        self._spawn(send())

    def _place(self, handle: RemoteAttempt, placed: Any) -> None:
        if not handle.place(placed):
            return
        if self.on_placed is not None:
            self.on_placed(handle.run_id, handle.number, placed.name, placed.pid, placed.pid_started_at)
        if handle.cancel_requested or handle.done:
            self._send(worker_side.cancel_attempts, [handle.key], placed.worker)

    def _spawn(self, awaitable: Any) -> None:
        """Run ``awaitable`` in the background, holding it until it is done."""
        task = asyncio.ensure_future(awaitable)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _check_futures(self) -> None:
        """Follow the Dask tasks' states (not their results: an outcome comes as an event).
        Read off the futures at each poll rather than by ``add_done_callback``, which costs a
        coroutine per future and a thread hop per end; what needs the state (a worker that
        died, a task cancelled before it began) can wait a poll interval."""
        for handle in list(self._remote.values()):
            future = handle.dask_future
            if future is not None and future.status != "pending":
                self._task_ended(handle, future)

    def _task_ended(self, handle: RemoteAttempt, future: Any) -> None:
        if handle.dask_future is not future:
            return  # submitted again since
        handle.dask_future = None
        if handle.done:
            return
        if future.status == "error":
            self._spawn(self._task_failed(handle, future))
        elif future.cancelled() and handle.placed is None:
            if handle.cancel_requested:
                self._settle(handle, cancelled_before_start())
            elif self.client.status == "running":
                self._settle(handle, lost_outcome("lost: the cluster dropped the attempt before a worker began it"))
            # else held: submitted again under the same key once the scheduler is back
        # Otherwise its ended event is on the way, or the poll reads the outcome off its worker.

    async def _task_failed(self, handle: RemoteAttempt, future: Any) -> None:
        try:
            exc = await future.exception()
        except Exception as error:  # noqa: BLE001 - the scheduler forgot it: say what is known
            exc = error
        if isinstance(exc, KilledWorker):
            self._settle(handle, lost_outcome(f"lost: the worker running it went away ({exc})"))
        elif handle.placed is None:
            self._settle(handle, failed_to_start(f"{type(exc).__name__}: {exc}"))

    def _on_ended(self, event: Any) -> None:
        """Attempts of a worker ended: their reports, each with its output when that is small
        (a worker sends the ends of a few milliseconds in one event)."""
        _, message = event
        try:
            reports = reports_decoder.decode(message)
        except (msgspec.DecodeError, TypeError):
            return
        for report in reports:
            self._ended(report)

    def _ended(self, report: AttemptReport) -> None:
        handle = self._remote.get(report.key)
        if handle is None or handle.done or report.outcome is None:
            return
        if report.placed is not None:
            self._place(handle, report.placed)
        self._take(handle, report)
        if report.complete:
            self._settle(handle, report.outcome)
        else:
            self._spawn(self._finish_copy(handle, report.outcome))

    @staticmethod
    def _take(handle: RemoteAttempt, report: AttemptReport) -> None:
        """A report's new output, and an ended attempt's result file, into the local copy."""
        handle.mirror.apply(report.chunks)
        handle.mirror.keep_result(report.result)

    async def _finish_copy(self, handle: RemoteAttempt, outcome: Any) -> None:
        await self._catch_up(handle)
        self._settle(handle, outcome)

    def _settle(self, handle: RemoteAttempt, outcome: Any) -> None:
        self._remote.pop(handle.key, None)
        handle.dask_future = None  # released: the scheduler forgets the ended task
        if handle.placed is not None and outcome.error_type != "lost":
            self._forget[handle.placed.worker].append(handle.key)
        handle.settle(outcome)

    async def _catch_up(self, handle: RemoteAttempt) -> None:
        """Copy the rest of an ended attempt's output."""
        assert handle.placed is not None
        for _ in range(10_000):
            reports = await self._poll(handle.placed.worker, [handle])
            report = reports.get(handle.key) if reports is not None else None
            if report is None:
                return
            self._take(handle, report)
            if handle.mirror.complete or not any(c.data for c in report.chunks.values()):
                return

    async def _poll(self, worker: str, handles: list[RemoteAttempt]) -> dict[str, AttemptReport] | None:
        wanted = [OutputWanted(h.key, h.mirror.offsets["stdout"], h.mirror.offsets["stderr"]) for h in handles]
        try:
            answers = await self.client.run(worker_side.poll_attempts, encoder.encode(wanted), workers=[worker],
                                            on_error="return")
        except Exception as exc:  # noqa: BLE001 - the worker or the scheduler is gone; the caller decides
            log.debug("poll of %s failed: %s", worker, exc)
            return None
        answer = answers.get(worker)
        if not isinstance(answer, bytes):
            return None
        return {r.key: r for r in reports_decoder.decode(answer)}

    async def _reconnect(self) -> None:
        """The scheduler went away: once the client's own retries have given up, a new client
        every few seconds; then the plugin again and the held attempts submitted again."""
        if self.client.status == "connecting":
            return  # distributed is retrying by itself
        loop = asyncio.get_running_loop()
        if loop.time() < self._next_reconnect:
            return
        self._next_reconnect = loop.time() + 2.0
        from taskflow.engine.cluster.connection import reconnect

        try:
            client = await reconnect(self.address, self.config, self.registry)
        except Exception as exc:  # noqa: BLE001 - still away; status keeps saying so
            log.debug("scheduler %s still unreachable: %s", self.address, exc)
            return
        log.info("reconnected to the Dask scheduler at %s", self.address)
        old, self.client = self.client, client
        self._was_running = True
        client.subscribe_topic(ENDED_TOPIC, self._on_ended)
        self._spawn(old.close())
        self._resubmit()

    def _resubmit(self) -> None:
        for handle in list(self._remote.values()):
            if handle.placed is None and handle.dask_future is None and not handle.done:
                self._submit(handle)

    async def _processing(self) -> dict[str, str]:
        """Key → worker address of the tasks the scheduler has handed to workers."""
        try:
            processing = await self.client.scheduler.processing()
        except Exception as exc:  # noqa: BLE001 - the scheduler is out of reach; status says so
            log.debug("scheduler processing failed: %s", exc)
            return {}
        return {key: worker for worker, keys in processing.items() for key in keys
                if isinstance(key, str) and key in self._remote}

    async def _refresh_workers(self) -> dict[str, Any]:
        """The scheduler's workers now (the client's own copy lags by seconds)."""
        try:
            identity = await self.client.scheduler.identity()
        except Exception as exc:  # noqa: BLE001 - the scheduler is out of reach; status says so
            log.debug("scheduler identity failed: %s", exc)
            return self._workers
        self._workers = dict(identity.get("workers", {}))
        return self._workers

    async def _find(self, key: str) -> AttemptReport | None:
        try:
            answers = await self.client.run(worker_side.find_attempts, [key], on_error="return")
        except Exception as exc:  # noqa: BLE001 - no cluster: nothing can be found
            log.warning("asking the workers about %s failed: %s", key, exc)
            return None
        for answer in answers.values():
            if isinstance(answer, bytes):
                for report in reports_decoder.decode(answer):
                    if report.key == key:
                        return report
        return None

    def _ensure_poller(self) -> None:
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll_loop())

    async def _poll_loop(self) -> None:
        """Runs while the executor does: the worker list feeds ``status`` too."""
        while True:
            try:
                await self._poll_once()
            except Exception:
                log.exception("polling the cluster failed; trying again")
            await asyncio.sleep(self.config.poll_interval)

    async def _poll_once(self) -> None:
        self._check_futures()
        for worker, keys in list(self._forget.items()):
            del self._forget[worker]
            self._send(worker_side.forget_attempts, keys, worker)
        if self.client.status != "running":
            self._was_running = False
            await self._reconnect()
            return
        if not self._was_running:  # distributed reconnected by itself: the scheduler may be new
            self._was_running = True
            from taskflow.engine.cluster.connection import prepare

            await prepare(self.client, self.registry)
            log.info("the Dask scheduler at %s is back", self.address)
        self._resubmit()
        alive = set(await self._refresh_workers())
        by_worker: dict[str, list[RemoteAttempt]] = defaultdict(list)
        hints = await self._processing() if any(h.placed is None for h in self._remote.values()) else {}
        for handle in list(self._remote.values()):
            if handle.placed is not None:
                by_worker[handle.placed.worker].append(handle)
            elif handle.key in hints:  # the scheduler gave it to a worker: ask that worker
                by_worker[hints[handle.key]].append(handle)
        for worker, handles in by_worker.items():
            if worker not in alive:
                for handle in handles:
                    # (one with a Dask future ends with KilledWorker by itself)
                    if handle.dask_future is None and handle.placed is not None:
                        self._settle(handle, lost_outcome(f"lost: worker {handle.placed.name} went away"))
                continue
            reports = await self._poll(worker, handles)
            if reports is None:
                continue
            for handle in handles:
                report = reports.get(handle.key)
                if report is None or handle.done:
                    continue
                if report.placed is not None:
                    self._place(handle, report.placed)
                elif handle.placed is None:
                    continue  # given to the worker, not begun there yet
                self._take(handle, report)
                if handle.dask_future is not None:
                    continue  # its task's end brings the outcome (the ended event)
                if report.state == "unknown":
                    name = handle.placed.name if handle.placed is not None else worker
                    self._settle(handle, lost_outcome(f"lost: worker {name} no longer knows it"))
                elif report.state == "ended" and report.outcome is not None:
                    await self._catch_up(handle)
                    self._settle(handle, report.outcome)


async def _closed(closing: Any) -> None:
    """Await a ``close()`` of distributed's, which returns an awaitable in asynchronous mode."""
    if closing is not None:
        await closing


def _mirrored(folder: str, stream: str) -> int:
    try:
        return (Path(folder) / stream).stat().st_size
    except OSError:
        return 0


async def open_cluster_executor(local: ProcessExecutor, config: ExecutorConfig, *, python_path: list[str],
                                use_cgroups: bool) -> ClusterExecutor:
    """Connect to (or start) the cluster of ``config``; raises ``ClusterUnreachable``."""
    from taskflow.engine.cluster.connection import connect

    client, cluster, registry = await connect(config, worker_dir=config.worker_dir, python_path=python_path,
                                              use_cgroups=use_cgroups)
    executor = ClusterExecutor(local, client, config, cluster)
    executor.registry = registry
    return executor
