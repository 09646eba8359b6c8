"""Who is on the other end of a Unix socket, and what they may do.

The kernel vouches for the peer's uid/gid (``SO_PEERCRED``); roles follow DESIGN.md
"Security": root is admin, a member of the operator group is operator, anyone else who
could open the socket is a viewer.
"""

from __future__ import annotations

import grp
import os
import pwd
import socket
import struct
from dataclasses import dataclass

from taskflow.model import Role

_UCRED = struct.Struct("3i")  # pid, uid, gid


@dataclass(frozen=True, slots=True)
class Peer:
    """A connected client as the daemon knows it."""

    pid: int
    uid: int
    gid: int
    user: str
    role: Role


def peer_credentials(sock: socket.socket) -> tuple[int, int, int]:
    """``(pid, uid, gid)`` of the process that connected ``sock``."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    pid, uid, gid = _UCRED.unpack(raw)
    return pid, uid, gid


def user_name(uid: int) -> str:
    """The login name of ``uid``, or the number when it has no passwd entry (containers)."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def in_group(uid: int, gid: int, group: str) -> bool:
    """Whether ``uid`` (primary group ``gid``) belongs to ``group``, primary or supplementary."""
    try:
        group_gid = grp.getgrnam(group).gr_gid
    except KeyError:
        return False
    if gid == group_gid:
        return True
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        return False
    return group_gid in os.getgrouplist(name, gid)


def role_for(uid: int, gid: int, operator_group: str) -> Role:
    """The role a peer gets: root → admin, operator group member → operator, else viewer."""
    if uid == 0:
        return Role.ADMIN
    if in_group(uid, gid, operator_group):
        return Role.OPERATOR
    return Role.VIEWER


def identify_peer(sock: socket.socket, operator_group: str) -> Peer:
    """Build the ``Peer`` of a freshly accepted connection."""
    pid, uid, gid = peer_credentials(sock)
    return Peer(pid=pid, uid=uid, gid=gid, user=user_name(uid), role=role_for(uid, gid, operator_group))
