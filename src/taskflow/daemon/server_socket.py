"""Creating the daemon's listening socket safely.

The socket file is born with mode 0660 (the umask is set around ``bind``, so there is no
moment where a chmod has not happened yet), handed to the socket group when that group
exists, and an old file is replaced only once nobody answers on it — a second daemon must
not steal a live one's socket.
"""

from __future__ import annotations

import errno
import grp
import logging
import os
import socket
import stat

log = logging.getLogger(__name__)

SOCKET_MODE = 0o660


class SocketInUse(Exception):
    """Another process is listening on the socket path, or the path is not a socket."""


def _remove_stale(path: str) -> None:
    """Remove ``path`` if it is a socket nobody listens on; refuse otherwise."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise SocketInUse(f"{path} exists and is not a socket; remove it or choose another --socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        log.info("removing stale socket %s", path)
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        return
    except OSError as exc:
        if exc.errno in (errno.ECONNREFUSED, errno.ENOENT):
            os.unlink(path)
            return
        raise SocketInUse(f"cannot check whether {path} is in use: {exc.strerror}") from None
    finally:
        probe.close()
    raise SocketInUse(f"another taskflowd is already listening on {path}")


def _give_to_group(path: str, group: str | None) -> None:
    """chgrp the socket to ``group``; a missing group or no permission is logged, not fatal."""
    gid = _gid(group)
    if gid is None:
        if group:
            log.info("socket group %r does not exist; %s keeps the daemon's group", group, path)
        return
    try:
        os.chown(path, -1, gid)
    except PermissionError:
        log.warning("not permitted to give %s to group %r", path, group)


def _gid(group: str | None) -> int | None:
    """The id of ``group``, or None when none is configured or it does not exist."""
    if not group:
        return None
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        return None


def _open_directory_to_group(parent: str, group: str | None) -> None:
    """Let the socket's group traverse the directory holding the socket.

    systemd makes ``RuntimeDirectory=taskflow`` as root:root with ``RuntimeDirectoryMode``
    (0750), which would lock the group out however the socket's own mode reads. Only a
    directory that is the daemon's alone is changed: owned by us with our own group, not
    world-writable or sticky (never ``/tmp``), and not traversable by everyone already.
    """
    gid = _gid(group)
    if gid is None:
        return
    try:
        info = os.stat(parent)
    except OSError:
        return
    mode = stat.S_IMODE(info.st_mode)
    if info.st_uid != os.geteuid() or mode & (stat.S_ISVTX | stat.S_IWOTH | stat.S_IXOTH):
        return
    if info.st_gid == gid and mode & stat.S_IXGRP:
        return
    if info.st_gid not in (gid, os.getegid()):
        return  # someone gave it a group on purpose
    try:
        os.chown(parent, -1, gid)
        os.chmod(parent, mode | stat.S_IXGRP)
    except OSError as exc:
        log.warning("could not let group %r into %s: %s", group, parent, exc.strerror)
        return
    log.info("gave %s to group %r (mode %o) so its members reach the socket", parent, group, mode | stat.S_IXGRP)


def bind_unix_socket(path: str, group: str | None, backlog: int = 128) -> socket.socket:
    """A listening, non-blocking Unix socket at ``path`` with mode 0660."""
    parent = os.path.dirname(path) or "."
    os.makedirs(parent, mode=0o755, exist_ok=True)
    _open_directory_to_group(parent, group)
    _remove_stale(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        # The umask is process-wide; it is held only for the bind syscall, at startup.
        old_umask = os.umask(0o777 & ~SOCKET_MODE)
        try:
            sock.bind(path)
        finally:
            os.umask(old_umask)
        _give_to_group(path, group)
        sock.listen(backlog)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock
