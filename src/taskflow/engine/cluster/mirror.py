"""The daemon's copy of a remote attempt's output, kept in its usual folder in the state dir.

Chunks read on the worker are written at their logical offsets (``pwrite``), so the copy's
offsets are the worker's: a follower of ``logs -f`` keeps its place, and a head the worker's
cap cut is a hole here too. The copy is held to the same cap with the same ``StreamCap``;
everything that reads output (``logs``, the TUI, the tail) reads this folder as it reads a
local attempt's.
"""

from __future__ import annotations

import os
from pathlib import Path

from taskflow.engine.cluster.messages import StreamChunk
from taskflow.engine.executor import TASK_RESULT_NAME
from taskflow.engine.process.output import STREAMS, StreamCap, make_attempt_dir

MARKER = "cluster"  # in the copy's folder: this attempt was sent to the cluster


class OutputMirror:
    """The local copy of one remote attempt's two streams."""

    def __init__(self, folder: str, cap: int) -> None:
        self.folder = folder
        self.offsets = dict.fromkeys(STREAMS, 0)
        self.sizes = dict.fromkeys(STREAMS, 0)
        self._caps = {s: StreamCap(os.path.join(folder, s), cap) for s in STREAMS}
        self._written: set[str] = set()  # streams that got data (the others have no file to trim)

    def create(self, key: str) -> None:
        """Make the folder and its marker before the attempt is submitted: recovery then
        knows to ask the cluster, not this host, about it. The stream files come with the
        first output copied (a missing one reads as empty): two fewer files per attempt on
        the daemon's start path."""
        make_attempt_dir(Path(self.folder))
        fd = os.open(os.path.join(self.folder, MARKER), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o640)
        try:
            os.write(fd, key.encode() + b"\n")
        finally:
            os.close(fd)

    def apply(self, chunks: dict[str, StreamChunk]) -> None:
        for stream, chunk in chunks.items():
            if stream not in self.offsets:
                continue
            self.sizes[stream] = max(self.sizes[stream], chunk.size)
            if chunk.data:
                start = chunk.next_offset - len(chunk.data)
                fd = os.open(os.path.join(self.folder, stream), os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o640)
                try:
                    os.pwrite(fd, chunk.data, start)
                finally:
                    os.close(fd)
                self._caps[stream].check()
                self._written.add(stream)
            self.offsets[stream] = max(self.offsets[stream], chunk.next_offset)

    def keep_result(self, data: bytes | None) -> None:
        """The attempt's ``$TASKFLOW_RESULT`` file, where the tasks downstream of it look
        (``engine.results``); written whole, then renamed, so a reader never sees half."""
        if data is None:
            return
        path = os.path.join(self.folder, TASK_RESULT_NAME)
        with open(path + ".partial", "wb") as f:
            f.write(data)
        os.replace(path + ".partial", path)

    @property
    def complete(self) -> bool:
        """Everything the worker had when last asked is here."""
        return all(self.offsets[s] >= self.sizes[s] for s in STREAMS)

    def finish(self) -> None:
        for stream in self._written:
            try:
                self._caps[stream].finish()
            except OSError:
                pass


def is_remote(folder: str) -> bool:
    return os.path.exists(os.path.join(folder, MARKER))
