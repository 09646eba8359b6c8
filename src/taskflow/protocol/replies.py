"""The handshake and the answer to one request: all a one-shot client ever decodes.

::

    client: Hello{protocol, client}        daemon: Welcome{protocol, version, user, role}
    client: <Request>{id, ...}             daemon: Ok{id, data} | Error{id, code, message}

Kept apart from ``messages`` (which adds pushed events and the full decoders) because events
carry runs, attempts and breakers: ``taskflow status --json`` must not build those Structs
just to read one ``Ok``.
"""

from __future__ import annotations

import enum
from functools import cache
from typing import Any, Final

import msgspec

from taskflow.model import Role
from taskflow.protocol.base import Body

PROTOCOL_VERSION: Final = 1


class ErrorCode(enum.StrEnum):
    BAD_REQUEST = "bad_request"  # well-formed but wrong: bad topic, bad parameter
    NOT_FOUND = "not_found"  # no such task, run or service
    FORBIDDEN = "forbidden"  # the caller's role may not do this
    CONFLICT = "conflict"  # e.g. the task is disabled, the run already finished
    UNAVAILABLE = "unavailable"  # the daemon is stopping, or its state database refuses writes
    INTERNAL = "internal"  # a daemon bug; logged there
    PROTOCOL = "protocol"  # broken framing, bad message, version mismatch: connection closes


class Hello(Body, kw_only=True):
    """First message of every connection. Its shape never changes between versions."""

    protocol: int
    client: str


class Welcome(Body, kw_only=True):
    """The daemon accepts the connection and says who it takes the caller for."""

    protocol: int
    version: str
    user: str
    role: Role


class Ok(Body, kw_only=True):
    """Success of request ``id``; ``data`` is the msgpack of the request's result type."""

    id: int
    data: msgspec.Raw = msgspec.Raw(b"\xc0")  # msgpack nil


class Error(Body, kw_only=True):
    """Failure of request ``id`` (0 when it concerns the connection, not one request)."""

    id: int = 0
    code: ErrorCode
    message: str


Reply = Welcome | Ok | Error


@cache
def reply_decoder() -> msgspec.msgpack.Decoder[Reply]:
    """Decoder for what the daemon sends a connection that has not subscribed to events.

    Built on first use and kept: a ``Push`` decoded with it is a protocol error, which is
    right, since the daemon pushes only to subscribers.
    """
    return msgspec.msgpack.Decoder(Reply)


def mismatch_message(daemon: int, client: int) -> str:
    """The one sentence both sides show when protocol versions differ."""
    upgrade = "taskflow" if client < daemon else "taskflowd"
    return f"daemon speaks protocol {daemon}, this client {client}; upgrade {upgrade}"


def result_payload(result: Any) -> msgspec.Raw:
    """Encode a handler's result for ``Ok.data``."""
    return msgspec.Raw(msgspec.msgpack.encode(result))
