"""The worker's side: the ``AttemptRegistry`` plugin and the functions the daemon calls.

Each Dask worker gets one ``AttemptRegistry`` (``client.register_plugin``). ``run_attempt``,
the Dask task of an attempt, asks it to start the attempt with a worker-local
``ProcessExecutor`` — the very wrapper, process group, capped output files, limits and
timeout of a local attempt — and awaits its outcome. The registry, not the Dask task, owns
the process: if the task is released (the daemon's client went away) the process runs on and
its outcome is kept until the daemon (``poll_attempts``) has read it and says
``forget_attempts``. ``cancel_attempts`` TERMs, then KILLs, the attempt's process group:
cancelling a Dask future alone would stop nothing. These run on the worker's event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from distributed import WorkerPlugin, get_worker

from taskflow.engine.cluster.messages import (
    ENDED_TOPIC,
    PLUGIN_NAME,
    RESULT_CARRY_LIMIT,
    AttemptCall,
    AttemptReport,
    Placed,
    StreamChunk,
    call_decoder,
    encoder,
    wanted_decoder,
)
from taskflow.engine.executor import TASK_RESULT_NAME, AttemptOutcome
from taskflow.engine.process.cgroups import ATTEMPTS_DIR, AttemptCgroups
from taskflow.engine.process.local import ProcessExecutor
from taskflow.engine.process.output import STATUS_FILE, STREAMS, read_output, stream_extent
from taskflow.engine.process.wrapper import PID_FILE
from taskflow.model import TaskSpec

log = logging.getLogger(__name__)

CHUNK = 1 << 20  # bytes per stream per poll
ENDED_BATCH_DELAY = 0.0  # an end goes out with those of the same loop iteration


@dataclass
class _Entry:
    placed: Placed
    done: asyncio.Future[AttemptOutcome]
    cancel: Any = None  # the handle's cancel
    outcome: AttemptOutcome | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class _WorkerState:
    """A worker's attempts and its executor: kept per worker process, not per plugin
    instance, because a restarted daemon registers the plugin again (Dask then tears the
    old instance down) while the attempts it started run on."""

    def __init__(self) -> None:
        self.entries: dict[str, _Entry] = {}
        self.executor: ProcessExecutor | None = None
        self.ended: list[AttemptReport] = []  # ends not sent yet (``_report_ended``)


_STATES: dict[str, _WorkerState] = {}  # by worker address


class AttemptRegistry(WorkerPlugin):
    """The attempts this worker runs or ran and the daemon has not yet forgotten."""

    name = PLUGIN_NAME

    def __init__(self, worker_dir: str | None = None, python_path: list[str] | None = None,
                 use_cgroups: bool = True) -> None:
        self.worker_dir = worker_dir
        self.python_path = list(python_path or [])
        self.use_cgroups = use_cgroups
        self._state = _WorkerState()
        self._worker: Any = None

    @property
    def entries(self) -> dict[str, _Entry]:
        return self._state.entries

    def setup(self, worker: Any) -> None:
        self._worker = worker
        self._state = _STATES.setdefault(worker.address, _WorkerState())

    def teardown(self, worker: Any) -> None:
        """A closing worker KILLs the attempts it runs: nothing could report them afterwards,
        and the retry of a ``lost`` attempt must not overlap it. A plugin merely replaced (a
        daemon registering it again) leaves them alone."""
        if worker.status.name not in ("closing", "closed", "closing_gracefully", "failed"):
            return
        for entry in self._state.entries.values():
            if entry.outcome is None and entry.placed.pid is not None:
                try:
                    os.killpg(entry.placed.pid, signal.SIGKILL)
                except OSError:
                    pass

    def _executor_for(self, call: AttemptCall) -> ProcessExecutor:
        executor = self._state.executor
        if executor is None:
            root = self.worker_dir or os.path.join(self._worker.local_directory, "taskflow")
            executor = ProcessExecutor(
                Path(root), output_cap=call.output_cap, stop_grace=call.stop_grace,
                python_path=self.python_path, use_cgroups=False,
            )
            if self.use_cgroups:
                executor.cgroups = worker_cgroups(self._worker.name)
            self._state.executor = executor
        executor.output_cap = call.output_cap
        executor.stop_grace = call.stop_grace
        return executor

    async def run(self, call: AttemptCall) -> None:
        """Start the attempt (once per key) and wait for its end; the outcome goes out as an
        event, not as the task's result (which the daemon would have to fetch per task)."""
        entry = self.entries.get(call.key)
        if entry is None:
            entry = self._start(call)
        await asyncio.shield(entry.done)

    def _start(self, call: AttemptCall) -> _Entry:
        executor = self._executor_for(call)
        spec = msgspec.msgpack.decode(call.spec, type=TaskSpec)
        upstream_dir: str | None = None
        if call.upstream:
            upstream_dir, env = _write_upstream(executor.output_root, call)
            spec = msgspec.structs.replace(spec, env={**spec.env, **env})
        handle = executor.start(spec, call.run_id, call.number, call.params)
        worker = self._worker
        placed = Placed(
            key=call.key, worker=worker.address, name=str(worker.name), pid=handle.pid,
            pid_started_at=handle.pid_started_at, started_at=handle.started_at,
            output_dir=handle.output_dir,
        )
        entry = _Entry(placed, asyncio.get_running_loop().create_future(), handle.cancel)
        self.entries[call.key] = entry

        def ended(fut: asyncio.Future[AttemptOutcome | None]) -> None:
            outcome = fut.result()
            if outcome is None:  # detached: cannot be on a worker
                return
            entry.outcome = outcome
            entry.cancel = None
            if upstream_dir is not None:
                shutil.rmtree(upstream_dir, ignore_errors=True)
            chunks = _small_output(placed.output_dir) if outcome.output_bytes else {}
            report = AttemptReport(key=call.key, state="ended", placed=placed, outcome=outcome, chunks=chunks,
                                   complete=not outcome.output_bytes or bool(chunks),
                                   result=_result_file(placed.output_dir))
            self._report_ended(report)
            if not entry.done.done():
                entry.done.set_result(outcome)

        asyncio.ensure_future(handle.wait()).add_done_callback(ended)
        return entry

    def _report_ended(self, report: AttemptReport) -> None:
        """Ends go out together, a few milliseconds' worth per event: one message through the
        scheduler (and one wake-up of the daemon, whose pump then fills the freed slots in
        one submission) instead of one per attempt."""
        state = self._state
        state.ended.append(report)
        if len(state.ended) == 1:
            asyncio.get_running_loop().call_later(ENDED_BATCH_DELAY, self._send_ended)

    def _send_ended(self) -> None:
        reports, self._state.ended = self._state.ended, []
        if reports:
            self._worker.log_event(ENDED_TOPIC, encoder.encode(reports))

    def report(self, key: str, offsets: tuple[int, int] | None) -> AttemptReport:
        entry = self.entries.get(key)
        if entry is None:
            return AttemptReport(key=key, state="unknown")
        chunks: dict[str, StreamChunk] = {}
        if offsets is not None:
            for stream, offset in zip(STREAMS, offsets, strict=True):
                chunks[stream] = _chunk(entry.placed.output_dir, stream, offset)
        ended = entry.outcome is not None
        return AttemptReport(key=key, state="ended" if ended else "running", placed=entry.placed,
                             outcome=entry.outcome, chunks=chunks,
                             result=_result_file(entry.placed.output_dir) if ended and offsets is not None else None)

    def cancel(self, key: str) -> bool:
        entry = self.entries.get(key)
        if entry is None or entry.cancel is None:
            return False
        entry.cancel()
        return True

    def forget(self, key: str) -> None:
        entry = self.entries.get(key)
        if entry is None or entry.outcome is None:
            return
        del self.entries[key]
        _remove_attempt_dir(entry.placed.output_dir)


def worker_cgroups(name: object) -> AttemptCgroups:
    """Attempt cgroups of this worker, in a folder of its own: a daemon or another worker on
    the same host sweeps only its own folder, never an attempt cgroup about to be entered."""
    label = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name))
    return AttemptCgroups.discover(f"{ATTEMPTS_DIR}-worker-{label}")


def _chunk(output_dir: str, stream: str, offset: int) -> StreamChunk:
    data, next_offset, cut = read_output(output_dir, stream, offset, CHUNK)
    size, _ = stream_extent(os.path.join(output_dir, stream))
    return StreamChunk(data, next_offset, cut, size)


def _small_output(output_dir: str, limit: int = 64 * 1024) -> dict[str, StreamChunk]:
    """An ended attempt's whole output, when it is small: it rides back with the result,
    so a short task costs no second round trip."""
    chunks = {stream: _chunk(output_dir, stream, 0) for stream in STREAMS}
    if sum(c.size for c in chunks.values()) > limit:
        return {}
    return chunks


#: What an attempt folder usually holds: removed by name, which costs a fraction of an
#: ``rmtree`` (a scandir and an lstat per entry) on a worker that forgets hundreds a second.
_ATTEMPT_FILES = (*STREAMS, STATUS_FILE, PID_FILE, TASK_RESULT_NAME)


def _remove_attempt_dir(folder: str) -> None:
    for name in _ATTEMPT_FILES:
        try:
            os.unlink(os.path.join(folder, name))
        except OSError:
            pass
    try:
        os.rmdir(folder)
    except OSError:  # more in it (a Python task's files, the task's own): the slow way
        shutil.rmtree(folder, ignore_errors=True)


def _write_upstream(output_root: Path, call: AttemptCall) -> tuple[str, dict[str, str]]:
    """The results of the attempt's dependencies, in a folder of its own beside the attempt
    folders (not in it: that folder is the task's ``TASKFLOW_OUTPUT_DIR``, its artifacts);
    the variables pointing there. A dependency that left no result gets a path with no file,
    as it would locally."""
    folder = output_root / ".upstream" / call.key
    folder.mkdir(parents=True, exist_ok=True)
    env: dict[str, str] = {}
    for variable, data in call.upstream.items():
        path = folder / variable.removeprefix("TASKFLOW_UPSTREAM_").removesuffix("_RESULT").lower()
        if data is not None:
            path.write_bytes(data)
        env[variable] = str(path)
    return str(folder), env


def _result_file(output_dir: str) -> bytes | None:
    """What the attempt left in ``$TASKFLOW_RESULT``, for the daemon's copy (None: no file,
    or one past ``RESULT_CARRY_LIMIT``)."""
    try:
        with open(os.path.join(output_dir, TASK_RESULT_NAME), "rb") as f:
            data = f.read(RESULT_CARRY_LIMIT + 1)
    except OSError:
        return None
    if len(data) > RESULT_CARRY_LIMIT:
        log.warning("the result file in %s is over %d bytes: not copied to the daemon", output_dir,
                    RESULT_CARRY_LIMIT)
        return None
    return data


def _registry() -> AttemptRegistry:
    registry = get_worker().plugins[PLUGIN_NAME]
    assert isinstance(registry, AttemptRegistry)
    return registry


# ---------------------------------------------------------------------- called by the daemon


async def run_attempt(call: bytes) -> None:
    """The Dask task of one attempt: start it (once per key) and wait for its end."""
    await _registry().run(call_decoder.decode(call))


def poll_attempts(wanted: bytes, dask_worker: Any = None) -> bytes:
    """Reports on attempts (``client.run``): state, outcome, and output past the offsets."""
    registry: AttemptRegistry = dask_worker.plugins[PLUGIN_NAME]
    reports = [registry.report(w.key, (w.stdout, w.stderr)) for w in wanted_decoder.decode(wanted)]
    return encoder.encode(reports)


def find_attempts(keys: list[str], dask_worker: Any = None) -> bytes:
    """What this worker knows of ``keys`` (recovery asks every worker)."""
    registry: AttemptRegistry = dask_worker.plugins[PLUGIN_NAME]
    return encoder.encode([r for key in keys if (r := registry.report(key, None)).state != "unknown"])


def cancel_attempts(keys: list[str], dask_worker: Any = None) -> list[str]:
    """TERM (then, after the grace, KILL) the process groups of ``keys``; the keys it had."""
    registry: AttemptRegistry = dask_worker.plugins[PLUGIN_NAME]
    return [key for key in keys if registry.cancel(key)]


def forget_attempts(keys: list[str], dask_worker: Any = None) -> None:
    """The daemon has recorded these ended attempts and their output: drop them here."""
    registry: AttemptRegistry = dask_worker.plugins[PLUGIN_NAME]
    for key in keys:
        registry.forget(key)
