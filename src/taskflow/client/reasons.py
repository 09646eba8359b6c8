"""Why a daemon's socket could not be reached, in one sentence with what to check next.

Standard library only: ``taskflow bridge`` (the far end of every SSH connection) says the
same sentences as a local client without importing msgspec or the protocol.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: on the bridge's path
if TYPE_CHECKING:
    from collections.abc import Callable


def unreachable_reason(path: str, exc: OSError) -> str:
    """Why connecting to ``path`` failed, with what to check next, as one sentence."""
    if isinstance(exc, FileNotFoundError):
        why = "no such socket"
    elif isinstance(exc, ConnectionRefusedError):
        why = "connection refused"
    elif isinstance(exc, PermissionError):
        return f"cannot reach taskflowd at {path}: permission denied; {_permission_hint(path)}"
    elif isinstance(exc, TimeoutError):
        return f"taskflowd at {path} did not answer in time; is it overloaded or stuck?"
    else:
        why = (exc.strerror or str(exc)).lower()
    return f"cannot reach taskflowd at {path}: {why}; is it running? (systemctl status taskflowd)"


def _permission_hint(path: str) -> str:
    """What blocks us: a directory on the way we cannot enter, or the socket's own mode."""
    directory = os.path.dirname(os.path.abspath(path))
    while directory != "/":
        if not os.access(directory, os.X_OK):
            blocked = f"the directory {directory} ({_owner_and_mode(directory)}) does not let you in"
            group = _group_of(directory)
            if group not in (None, "root"):
                return f"{blocked}; {_join_hint(group)}"
            return (f"{blocked}; the daemon opens it to its socket group at start, so restart it "
                    "or check socket_group")
        directory = os.path.dirname(directory)
    try:
        gid = os.stat(path).st_gid
        group = grp.getgrgid(gid).gr_name
    except (KeyError, OSError):
        return "is your user in the socket's group?"
    if gid in os.getgroups() or gid == os.getegid():
        return f"the socket ({_owner_and_mode(path)}) does not let its own group in; check the daemon's umask"
    return _join_hint(group, "the socket's group")


def _join_hint(group: str, what: str = "its group") -> str:
    if group in _my_groups():
        return f"you joined {what} ({group}) after this login; log in again or run `newgrp {group}`"
    return f"is your user in {what} ({group})? (`usermod -aG {group} USER`, then log in again)"


def _group_of(path: str) -> str | None:
    try:
        return _name(grp.getgrgid, os.stat(path).st_gid)
    except OSError:
        return None


def _owner_and_mode(path: str) -> str:
    try:
        info = os.stat(path)
    except OSError:
        return "unreadable"
    return f"{_name(pwd.getpwuid, info.st_uid)}:{_name(grp.getgrgid, info.st_gid)} {stat.S_IMODE(info.st_mode):04o}"


def _name(lookup: Callable[[int], tuple[object, ...]], ident: int) -> str:
    """The name (first field) ``pwd.getpwuid`` or ``grp.getgrgid`` gives ``ident``, or the
    number itself."""
    try:
        return str(lookup(ident)[0])
    except KeyError:
        return str(ident)


def _my_groups() -> set[str]:
    """Groups the user belongs to in the group database (not just this session's)."""
    try:
        user = pwd.getpwuid(os.getuid())
    except KeyError:
        return set()
    return {g.gr_name for g in grp.getgrall() if user.pw_name in g.gr_mem or g.gr_gid == user.pw_gid}
