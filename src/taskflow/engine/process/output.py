"""Per-attempt output files and the output cap.

A task writes straight into ``<output_root>/<run_id>.<attempt>/stdout`` and ``stderr``
(``O_APPEND``), never into a pipe to the daemon, so it neither blocks on a slow daemon nor
dies of SIGPIPE when the daemon is gone, and anyone may tail the files live.

The cap keeps the *tail*: when a stream grows past ``cap`` bytes the head is turned into a
hole with ``fallocate(PUNCH_HOLE | KEEP_SIZE)``. That is safe with a concurrent ``O_APPEND``
writer (offsets never move), frees the disk blocks, and leaves logical offsets stable, so a
follower's offset stays valid. Readers start at ``lseek(SEEK_DATA)``. Where a filesystem
cannot punch holes, the head is dropped once the attempt ends by rewriting the tail, and the
number of bytes dropped is kept in ``<stream>.cut`` so logical offsets still add up.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
from pathlib import Path

from taskflow.engine.executor import TASK_RESULT_NAME
from taskflow.engine.process.wrapper import PID_FILE

STREAMS = ("stdout", "stderr")
STATUS_FILE = "status"
CALL_FILE = "call.json"
RESULT_FILE = "result.json"  # the Python runner's record: {"ok": ..., "result" | "exception"}
TASK_RESULT_FILE = TASK_RESULT_NAME  # $TASKFLOW_RESULT: the task's result as its downstream reads it
CONTROL_FILE = "control.jsonl"
#: The attempt folder's own files; anything else in it the task left there (its artifacts).
OWN_FILES = frozenset({*STREAMS, *(f"{s}.cut" for s in STREAMS), STATUS_FILE, CALL_FILE, RESULT_FILE,
                       TASK_RESULT_FILE, CONTROL_FILE, PID_FILE})

_FALLOC_FL_KEEP_SIZE = 0x01
_FALLOC_FL_PUNCH_HOLE = 0x02
BLOCK = 4096  # holes are punched in whole blocks

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_fallocate = _libc.fallocate
_fallocate.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64)
_fallocate.restype = ctypes.c_int


def attempt_dir(output_root: Path, run_id: str, attempt: int) -> Path:
    """One flat folder per attempt: a single ``mkdir`` on the spawn path (directory
    creation is a measurable part of a short task's cost on a journaling filesystem)."""
    return output_root / f"{run_id}.{attempt}"


def make_attempt_dir(path: Path) -> None:
    try:
        os.mkdir(path, 0o750)
    except FileExistsError:
        pass
    except FileNotFoundError:  # the output root itself went away
        os.makedirs(path, 0o750, exist_ok=True)


def punch_head(path: str, length: int) -> bool:
    """Turn the first ``length`` bytes (block-aligned) of ``path`` into a hole.

    Returns False where the filesystem cannot punch holes.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        return punch_fd(fd, length, path)
    finally:
        os.close(fd)


def punch_fd(fd: int, length: int, path: str = "") -> bool:
    """``punch_head`` on an open file; False where the filesystem cannot punch holes."""
    if _fallocate(fd, _FALLOC_FL_PUNCH_HOLE | _FALLOC_FL_KEEP_SIZE, 0, length) != 0:
        err = ctypes.get_errno()
        if err in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
            return False
        raise OSError(err, os.strerror(err), path)
    return True


class StreamCap:
    """Keeps one stream of one attempt under its cap; remembers how much was cut."""

    __slots__ = ("cap", "cut", "path", "punchable", "size")

    def __init__(self, path: str, cap: int) -> None:
        self.path = path
        self.cap = cap
        self.cut = 0  # bytes of the head that are gone
        self.size = 0  # logical size last seen
        self.punchable = True

    def check(self) -> None:
        """Called by the sampler: punch the head if the stream is over its cap."""
        try:
            self.size = os.stat(self.path).st_size
        except FileNotFoundError:
            return
        excess = self.size - self.cap
        if excess <= 0 or not self.punchable:
            return
        aligned = excess - excess % BLOCK
        if aligned > self.cut:
            if punch_head(self.path, aligned):
                self.cut = aligned
            else:
                self.punchable = False

    def finish(self) -> None:
        """Final trim when the attempt ends: exact for punching, a rewrite otherwise."""
        self.check()
        if self.punchable or self.size <= self.cap:
            return
        drop = self.size - self.cap
        with open(self.path, "rb") as f:
            f.seek(drop)
            tail = f.read()
        tmp = self.path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(tail)
        os.replace(tmp, self.path)
        Path(self.path + ".cut").write_text(str(drop))
        self.cut = drop


def stream_extent(path: str) -> tuple[int, int]:
    """(logical size, bytes cut from the head) of a stream file; (0, 0) when missing."""
    _, size, first = _open_extent(path, close=True)
    return size, first


def _open_extent(path: str, *, close: bool) -> tuple[int | None, int, int]:
    """Open ``path`` and find (fd, logical size, logical offset of the first kept byte)."""
    try:
        rewritten_cut = int(Path(path + ".cut").read_text())
    except (OSError, ValueError):
        rewritten_cut = 0
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None, 0, 0
    try:
        size = os.fstat(fd).st_size + rewritten_cut
        try:
            first = os.lseek(fd, 0, os.SEEK_DATA) + rewritten_cut
        except OSError as exc:  # ENXIO: no data at all (empty, or entirely a hole)
            if exc.errno != errno.ENXIO:
                raise
            first = size
    except BaseException:
        os.close(fd)
        raise
    if close:
        os.close(fd)
        return None, size, first
    return fd, size, first


def read_output(
    output_dir: str | Path, stream: str, offset: int = 0, max_bytes: int = 1 << 20
) -> tuple[bytes, int, int]:
    """Read a stream from logical ``offset``: ``(data, next_offset, cut_bytes)``.

    ``cut_bytes`` is how many bytes between ``offset`` and the first available byte were
    dropped by the cap (0 when nothing was skipped), so ``logs`` can say "[12.0MiB cut]".
    A missing file reads as empty.
    """
    if stream not in STREAMS:
        raise ValueError(f"unknown stream {stream!r}; expected stdout or stderr")
    path = os.path.join(output_dir, stream)
    fd, size, first = _open_extent(path, close=False)
    if fd is None:
        return b"", offset, 0
    try:
        start = max(offset, first)
        cut = max(0, first - offset)
        rewritten_cut = size - os.fstat(fd).st_size
        data = os.pread(fd, max_bytes, start - rewritten_cut) if start < size else b""
        return data, start + len(data), cut
    finally:
        os.close(fd)
