"""The daemon's side of the output keeper (see ``taskflow.engine.process.keeper``).

``OutputKeeper.attach(folder, cap)`` makes an attempt's two pipes, hands their read ends to
the keeper process and returns the write ends for the spawn; ``drained(folder)`` resolves
once the keeper has written the last byte. The keeper is started on first use and again
whenever it is found gone; where it cannot run, ``attach`` returns None and the wrapper writes
the files itself (the sampler's periodic cap then applies).
"""

from __future__ import annotations

import array
import asyncio
import json
import logging
import os
import socket
import subprocess
import sys

log = logging.getLogger(__name__)


class OutputKeeper:
    def __init__(self, python: str = sys.executable) -> None:
        self.python = python
        self._sock: socket.socket | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drained: dict[str, asyncio.Future[None]] = {}
        self._failed = False  # said once that it cannot start

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._sock is not None else None

    def attach(self, folder: str, cap: int) -> tuple[int, int] | None:
        """Pipes for one attempt's stdout and stderr, read by the keeper; None without one."""
        if not self._ensure():
            return None
        assert self._sock is not None and self._loop is not None
        out_r, out_w = os.pipe2(os.O_CLOEXEC)
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        try:
            message = json.dumps({"dir": folder, "cap": cap}).encode()
            self._sock.sendmsg([message], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", (out_r, err_r)))])
        except OSError as exc:  # EAGAIN (a keeper far behind) or gone: write the files directly
            for fd in (out_w, err_w):
                os.close(fd)
            if not isinstance(exc, BlockingIOError):
                self._gone(f"the output keeper stopped answering: {exc}")
            return None
        finally:
            os.close(out_r)
            os.close(err_r)
        self._drained[folder] = self._loop.create_future()
        return out_w, err_w

    def drained(self, folder: str) -> asyncio.Future[None] | None:
        """Resolves once the keeper has written all of ``folder``'s output (or is gone)."""
        return self._drained.get(folder)

    def close(self) -> None:
        """Let the keeper go: it exits once the pipes it still serves have ended."""
        self._let_go()

    # ------------------------------------------------------------------ internals

    def _ensure(self) -> bool:
        if self._sock is not None:
            return True
        if self._proc is not None:
            self._proc.poll()  # reap the one that went away
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._proc = subprocess.Popen(
                [self.python, "-m", "taskflow.engine.process.keeper", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                start_new_session=True,  # outlives the daemon, like the tasks it serves
                close_fds=True,
            )
        except OSError as exc:
            ours.close()
            if not self._failed:
                log.warning("cannot start the output keeper (%s); tasks write their output files "
                            "directly and the output cap is checked periodically", exc)
                self._failed = True
            return False
        finally:
            theirs.close()
        ours.setblocking(False)
        self._sock, self._loop = ours, loop
        loop.add_reader(ours.fileno(), self._on_message)
        log.info("output keeper started (pid %d)", self._proc.pid)
        return True

    def _on_message(self) -> None:
        assert self._sock is not None
        while True:
            try:
                message = self._sock.recv(65536)
            except BlockingIOError:
                return
            except OSError as exc:
                self._gone(f"the output keeper went away: {exc}")
                return
            if not message:
                self._gone("the output keeper exited")
                return
            fut = self._drained.pop(message.decode(errors="replace"), None)
            if fut is not None and not fut.done():
                fut.set_result(None)

    def _gone(self, why: str) -> None:
        log.error("%s; output of running tasks may be cut short, the next attempt starts a new one", why)
        self._let_go()

    def _let_go(self) -> None:
        """Drop our end of the keeper and stop waiting on it (it may go on serving pipes)."""
        if self._sock is not None:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None
        waiters, self._drained = self._drained, {}
        for fut in waiters.values():
            if not fut.done():
                fut.set_result(None)
        if self._proc is not None:
            self._proc.poll()  # reap it if it has exited
