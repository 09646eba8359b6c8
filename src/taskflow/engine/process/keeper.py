"""The output keeper: one process per daemon that writes every attempt's stdout and stderr.

Run by ``taskflow.engine.process.output_keeper`` as ``python -m taskflow.engine.process.keeper FD`` (it
imports only ``taskflow.engine.process.output``), once per daemon, in its own session. FD is one end
of a ``SOCK_SEQPACKET`` socket pair; the daemon sends one message per attempt — ``{"dir": …,
"cap": …}`` with the read ends of the attempt's two pipes attached (``SCM_RIGHTS``) — and the
task writes into the write ends. The keeper appends what it reads to ``DIR/stdout`` and
``DIR/stderr`` and, *before* a stream holds more than ``cap + SLACK`` bytes, punches the head
out (``fallocate(PUNCH_HOLE | KEEP_SIZE)``), so the bound holds whatever the task's write
rate — unlike a periodic size check — at no per-attempt process cost. When both pipes of an
attempt reach EOF (the task and everything it started have closed them) the files are
complete and the keeper answers with the folder's name, so the daemon settles the attempt
only once its output is all there.

The keeper outlives the daemon: a crashed or restarted daemon leaves it serving the pipes of
the tasks it started (they are adopted later), and it exits once the daemon's end of the
socket is closed and its last pipe has ended. A full disk drops chunks, it never blocks a task.
"""

from __future__ import annotations

import array
import json
import os
import selectors
import signal
import socket
import sys

from taskflow.engine.process.output import BLOCK, STREAMS, punch_fd

SLACK = 256 * 1024  # punch once a stream holds this much beyond its cap
CHUNK = 64 * 1024
MESSAGE = 8192  # an attach message: a folder path and a number


class Sink:
    """One output file, kept within ``cap + SLACK`` bytes of disk as it is appended to.

    Opened on the first byte: the wrapper creates both files itself (in parallel across
    attempts, where a new inode can be slow), so a silent stream costs the keeper nothing.
    """

    __slots__ = ("cap", "cut", "fd", "path", "punchable", "size")

    def __init__(self, path: str, cap: int) -> None:
        self.path = path
        self.fd = -1
        self.cap = cap
        self.size = 0
        self.cut = 0
        self.punchable = True

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def write(self, data: bytes) -> None:
        if self.fd < 0:
            try:
                self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
                self.size = os.fstat(self.fd).st_size
            except OSError:
                return  # disk full (no inode) or the folder is gone: drop it, never block
        if self.punchable and self.size + len(data) - self.cut > self.cap + SLACK:
            # Punch first, so the file never holds more than cap + SLACK + one chunk.
            target = self.size + len(data) - self.cap
            target -= target % BLOCK
            if target > self.cut:
                try:
                    if punch_fd(self.fd, target, self.path):
                        self.cut = target
                    else:
                        self.punchable = False  # the daemon rewrites the tail when the attempt ends
                except OSError:
                    pass  # an I/O error: try again with the next chunk
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.fd, view)
            except OSError:
                return  # disk full or I/O error: drop this chunk, never block the task
            self.size += n
            view = view[n:]


class Attempt:
    """The two streams of one attempt; done when both pipes have ended."""

    __slots__ = ("folder", "open")

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.open = 2


class Keeper:
    def __init__(self, control: socket.socket) -> None:
        self.control: socket.socket | None = control
        self.selector = selectors.DefaultSelector()
        self.selector.register(control, selectors.EVENT_READ, None)
        self.streams = 0

    def run(self) -> None:
        while self.control is not None or self.streams:
            for key, _ in self.selector.select():
                if key.data is None:
                    self._receive()
                else:
                    self._pump(key.fd, *key.data)

    def _receive(self) -> None:
        assert self.control is not None
        fds = array.array("i")
        try:
            message, ancillary, _flags, _addr = self.control.recvmsg(MESSAGE, socket.CMSG_SPACE(2 * fds.itemsize))
        except InterruptedError:
            return
        except OSError:
            message, ancillary = b"", []
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
        if not message:  # the daemon is gone (or closed us): serve what is left, then exit
            self.selector.unregister(self.control)
            self.control.close()
            self.control = None
            for fd in fds:
                os.close(fd)
            return
        try:
            request = json.loads(message)
            folder, cap = str(request["dir"]), int(request["cap"])
            if len(fds) != 2:
                raise ValueError(f"expected 2 pipes, got {len(fds)}")
            sinks = [Sink(os.path.join(folder, name), cap) for name in STREAMS]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # The task keeps its pipes but nobody reads them: better to say so and drop them
            # (the task then sees EPIPE) than to hold a task blocked for ever.
            print(f"taskflow output keeper: cannot keep output for {message[:200]!r}: {exc}", file=sys.stderr)
            for fd in fds:
                os.close(fd)
            return
        attempt = Attempt(folder)
        for fd, sink in zip(fds, sinks, strict=True):
            self.selector.register(fd, selectors.EVENT_READ, (sink, attempt))
            self.streams += 1

    def _pump(self, fd: int, sink: Sink, attempt: Attempt) -> None:
        try:
            data = os.read(fd, CHUNK)
        except OSError:
            data = b""
        if data:
            sink.write(data)
            return
        self.selector.unregister(fd)
        os.close(fd)
        sink.close()
        self.streams -= 1
        attempt.open -= 1
        if attempt.open == 0 and self.control is not None:
            try:
                self.control.send(attempt.folder.encode())
            except OSError:
                pass  # the daemon went away; it reads the files when it adopts the attempt


def main(argv: list[str]) -> int:
    # Terminal and reload signals are the daemon's business, not ours; TERM still ends us.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    control = socket.socket(fileno=int(argv[1]))
    Keeper(control).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
