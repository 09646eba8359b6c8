"""What crosses between the daemon and the workers: msgpack-encoded structs, nothing pickled
but the worker-side functions themselves.

An attempt's Dask key is ``taskflow-<run id>-<attempt>``: stable, so a restarted daemon finds
the same attempt on the worker that runs it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

from taskflow.engine.executor import AttemptOutcome

#: The pub/sub topic a worker reports ended attempts on (a list of ``AttemptReport``).
ENDED_TOPIC = "taskflow-attempt-ended"
#: The worker plugin's name.
PLUGIN_NAME = "taskflow-attempts"


#: The most of one result file an attempt carries to or from a worker (the run's ``result``
#: value itself is kept to 64 KiB; the file goes whole to the tasks downstream).
RESULT_CARRY_LIMIT = 16 << 20


def attempt_key(run_id: str, number: int) -> str:
    return f"taskflow-{run_id}-{number}"


class AttemptCall(msgspec.Struct, kw_only=True):
    """One attempt to start on a worker."""

    key: str
    spec: bytes  # msgpack TaskSpec
    run_id: str
    number: int
    params: dict[str, Any]
    output_cap: int
    stop_grace: float
    # Results that flow: each ``TASKFLOW_UPSTREAM_<NAME>_RESULT`` variable with the contents of
    # the daemon's copy of that result (None: the dependency left none). The worker writes
    # them into a folder of the attempt's and points the variables there.
    upstream: dict[str, bytes | None] = {}


class Placed(msgspec.Struct, kw_only=True):
    """Where an attempt runs, as its worker reports it."""

    key: str
    worker: str  # the worker's address
    name: str  # the worker's name (``dask worker --name``), or its address
    pid: int | None
    pid_started_at: float | None
    started_at: datetime
    output_dir: str  # on the worker


class StreamChunk(msgspec.Struct, array_like=True):
    data: bytes
    next_offset: int
    cut: int
    size: int  # the stream's logical size when read


class AttemptReport(msgspec.Struct, kw_only=True):
    """What a worker knows of one attempt: running, ended (with its outcome), or unknown."""

    key: str
    state: Literal["running", "ended", "unknown"]
    placed: Placed | None = None
    outcome: AttemptOutcome | None = None
    chunks: dict[str, StreamChunk] = {}  # new output per stream, when asked for
    complete: bool = False  # ``chunks`` hold all the output there is (an ended report's own)
    result: bytes | None = None  # an ended attempt's ``$TASKFLOW_RESULT`` file, when it left one


class OutputWanted(msgspec.Struct, array_like=True):
    """Offsets the daemon has mirrored so far of one attempt (stdout, stderr)."""

    key: str
    stdout: int
    stderr: int


encoder = msgspec.msgpack.Encoder()
reports_decoder = msgspec.msgpack.Decoder(list[AttemptReport])
call_decoder = msgspec.msgpack.Decoder(AttemptCall)
wanted_decoder = msgspec.msgpack.Decoder(list[OutputWanted])
