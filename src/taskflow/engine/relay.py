"""The per-attempt output relay: bounds each stream's disk use as it is written.

Run by the wrapper as ``python -I -S relay.py OUTPUT_DIR CAP`` (a script, standard library
only, so it starts in ~15 ms without the daemon's imports). The task's stdout and stderr are
FIFOs in the attempt folder that only this relay reads; it appends what it reads to the
``stdout``/``stderr`` files and, *before* a stream holds more than ``CAP + SLACK`` bytes,
punches the head out (``fallocate(PUNCH_HOLE | KEEP_SIZE)``) — so the bound holds whatever
the task's write rate, unlike a periodic size check. The relay lives in the wrapper's session,
not in the daemon, so a dead daemon neither stops it nor sends the task SIGPIPE; it ignores
HUP/INT/TERM (the wrapper sets that) and ends on EOF, draining what the pipes still hold.

A third FIFO, ``.ctl``, is held open only by the wrapper shell: its EOF means the wrapper is
exiting. The relay then drains what is buffered and exits, so the wrapper (which waits for it)
exits only once the output files are complete; if a daemonized child still holds a pipe, a
forked copy of the relay goes on serving it under the same cap.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import select
import sys

SLACK = 256 * 1024  # punch once a stream holds this much beyond its cap
CHUNK = 64 * 1024
_BLOCK = 4096
FIFOS = (".ctl", ".out", ".err")


def _fallocate():  # noqa: ANN202
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    fn = libc.fallocate
    fn.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64)
    fn.restype = ctypes.c_int
    return fn


class Sink:
    __slots__ = ("fd", "cap", "size", "cut", "punchable")

    def __init__(self, path: str, cap: int) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        self.cap = cap
        self.size = os.fstat(self.fd).st_size
        self.cut = 0
        self.punchable = True

    def write(self, data: bytes, fallocate) -> None:  # noqa: ANN001
        if self.punchable and self.size + len(data) - self.cut > self.cap + SLACK:
            # Punch first, so the file never holds more than cap + SLACK + one chunk.
            target = self.size + len(data) - self.cap
            target -= target % _BLOCK
            if target > self.cut:
                if fallocate(self.fd, 0x03, 0, target) == 0:  # PUNCH_HOLE | KEEP_SIZE
                    self.cut = target
                elif ctypes.get_errno() in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                    self.punchable = False  # the daemon rewrites the tail when the attempt ends
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.fd, view)
            except OSError:
                return  # disk full or I/O error: drop this chunk, never block the task
            self.size += n
            view = view[n:]


def relay(folder: str, cap: int) -> None:
    fallocate = _fallocate()
    # Same order as the wrapper's opens, so the blocking FIFO opens pair up.
    ctl, out, err = (os.open(os.path.join(folder, name), os.O_RDONLY | os.O_CLOEXEC) for name in FIFOS)
    for name in FIFOS:
        try:
            os.unlink(os.path.join(folder, name))
        except OSError:
            pass
    sinks = {out: Sink(os.path.join(folder, "stdout"), cap), err: Sink(os.path.join(folder, "stderr"), cap)}
    while sinks:
        readable, _, _ = select.select([ctl, *sinks] if ctl >= 0 else list(sinks), [], [])
        for fd in readable:
            if fd == ctl:
                os.read(ctl, 1)  # only ever EOF: the wrapper is exiting
                os.close(ctl)
                ctl = -1
                _drain(sinks, fallocate)
                if sinks and os.fork() != 0:
                    return  # the wrapper waits for us; a child serves the remaining writers
                continue
            if fd in sinks:  # not closed by the drain above
                _pump(fd, sinks, fallocate)


def _pump(fd: int, sinks: dict, fallocate) -> bool:  # noqa: ANN001
    """One read from ``fd``; False at EOF (the stream is then closed and dropped)."""
    data = os.read(fd, CHUNK)
    if not data:
        os.close(fd)
        os.close(sinks.pop(fd).fd)
        return False
    sinks[fd].write(data, fallocate)
    return True


def _drain(sinks: dict, fallocate) -> None:  # noqa: ANN001
    for fd in list(sinks):
        os.set_blocking(fd, False)
        try:
            while _pump(fd, sinks, fallocate):
                pass
        except BlockingIOError:
            os.set_blocking(fd, True)


if __name__ == "__main__":
    relay(sys.argv[1], int(sys.argv[2]))
