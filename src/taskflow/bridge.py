"""``taskflow bridge``: relay stdin/stdout to the local daemon's socket, byte for byte.

It is the far end of ``ssh HOST taskflow bridge`` (as ``docker system dial-stdio`` is for
``docker -H ssh://``): the client speaks its usual frames into ssh, and here they go to the
daemon's Unix socket untouched, so the daemon sees this process's peer credentials (the SSH
user) and grants that user's role, exactly as for a local client. Nothing is decoded.

It runs on every SSH connection, so it imports the standard library's C modules and
``taskflow.client.paths``/``reasons`` only: no argparse, typing, msgspec or protocol (the
``taskflow`` console script, ``taskflow.console``, sends ``bridge`` here before loading the
CLI). It exits when either side closes: the client's EOF (ssh ended) or the daemon's.
"""

from __future__ import annotations

import _socket
import os
import select
import sys

USAGE = "usage: taskflow bridge [--socket PATH]"
CHUNK = 256 * 1024


def main(argv: list[str]) -> int:
    """Parse ``[--socket PATH]`` by hand (argparse costs more than the whole relay) and relay."""
    path: str | None = None
    words = list(argv)
    while words:
        word = words.pop(0)
        if word in ("-h", "--help"):
            print(USAGE + "\nRelay stdin/stdout to the local taskflowd socket (what `ssh HOST taskflow bridge` runs).")
            return 0
        if word == "--socket" and words:
            path = words.pop(0)
        elif word.startswith("--socket="):
            path = word.partition("=")[2]
        else:
            print(f"taskflow: bridge does not take {word!r}; {USAGE}", file=sys.stderr)
            return 2
    from taskflow.client.paths import resolve_socket_path

    return relay(resolve_socket_path(path))


def relay(path: str, stdin: int = 0, stdout: int = 1) -> int:
    """Connect to ``path`` and copy both ways until one side closes; 1 when no daemon answers."""
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as exc:
        sock.close()
        from taskflow.client.reasons import unreachable_reason

        print(f"taskflow: {unreachable_reason(path, exc)}", file=sys.stderr)
        return 1
    daemon = sock.fileno()
    poller = select.poll()
    poller.register(stdin, select.POLLIN)
    poller.register(daemon, select.POLLIN)
    try:
        while True:
            for fd, _ in poller.poll():
                if fd == stdin:
                    data = os.read(stdin, CHUNK)
                    if not data:
                        return 0  # the client (ssh) closed: nothing more will be asked
                    sock.sendall(data)
                else:
                    data = sock.recv(CHUNK)
                    if not data:
                        return 0  # the daemon closed the connection (or died)
                    _write_all(stdout, data)
    except OSError:
        return 0  # either side went away mid-write; the other sees the connection close
    finally:
        sock.close()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
