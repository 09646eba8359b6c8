"""The conversation on a connection: handshake, responses, pushed events, and the decoders.

::

    client: Hello{protocol, client}        daemon: Welcome{protocol, version, user, role}
    client: <Request>{id, ...}             daemon: Ok{id, data} | Error{id, code, message}
    client: Subscribe{id, topics}          daemon: Ok{id, ...}, then Push{seq, event} ...
"""

from __future__ import annotations

import enum
from typing import Any, Final

import msgspec

from taskflow.model import Role
from taskflow.protocol.base import Body
from taskflow.protocol.events import Event
from taskflow.protocol.requests import AnyRequest

PROTOCOL_VERSION: Final = 1


class ErrorCode(enum.StrEnum):
    BAD_REQUEST = "bad_request"  # well-formed but wrong: bad topic, bad parameter
    NOT_FOUND = "not_found"  # no such task, run or service
    FORBIDDEN = "forbidden"  # the caller's role may not do this
    CONFLICT = "conflict"  # e.g. the task is disabled, the run already finished
    UNAVAILABLE = "unavailable"  # the daemon is starting or stopping
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


class Push(Body, kw_only=True):
    """An event pushed to a subscriber; ``seq`` rises by one per event on a connection."""

    seq: int
    event: Event


ClientMessage = Hello | AnyRequest
ServerMessage = Welcome | Ok | Error | Push

CLIENT_DECODER: Final = msgspec.msgpack.Decoder(ClientMessage)
SERVER_DECODER: Final = msgspec.msgpack.Decoder(ServerMessage)


def mismatch_message(daemon: int, client: int) -> str:
    """The one sentence both sides show when protocol versions differ."""
    upgrade = "taskflow" if client < daemon else "taskflowd"
    return f"daemon speaks protocol {daemon}, this client {client}; upgrade {upgrade}"


def result_payload(result: Any) -> msgspec.Raw:
    """Encode a handler's result for ``Ok.data``."""
    return msgspec.Raw(msgspec.msgpack.encode(result))
