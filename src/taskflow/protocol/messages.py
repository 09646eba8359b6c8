"""The conversation on a connection: handshake, responses, pushed events, and the decoders.

::

    client: Hello{protocol, client}        daemon: Welcome{protocol, version, user, role}
    client: <Request>{id, ...}             daemon: Ok{id, data} | Error{id, code, message}
    client: Subscribe{id, topics}          daemon: Ok{id, ...}, then Push{seq, event} ...

The handshake and reply messages live in ``replies`` (re-exported here) so that a one-shot
client can use them without loading events. ``CLIENT_DECODER`` and ``SERVER_DECODER`` are
built on first access: each covers every request or event Struct, which takes a while.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from taskflow.protocol.base import Body
from taskflow.protocol.events import Event
from taskflow.protocol.replies import (
    PROTOCOL_VERSION,
    Error,
    ErrorCode,
    Hello,
    Ok,
    Welcome,
    mismatch_message,
    result_payload,
)
from taskflow.protocol.task_requests import AnyRequest

if TYPE_CHECKING:
    CLIENT_DECODER: msgspec.msgpack.Decoder[ClientMessage]
    SERVER_DECODER: msgspec.msgpack.Decoder[ServerMessage]

__all__ = [
    "CLIENT_DECODER",
    "PROTOCOL_VERSION",
    "SERVER_DECODER",
    "ClientMessage",
    "Error",
    "ErrorCode",
    "Hello",
    "Ok",
    "Push",
    "ServerMessage",
    "Welcome",
    "mismatch_message",
    "result_payload",
]


class Push(Body, kw_only=True):
    """An event pushed to a subscriber; ``seq`` rises by one per event on a connection."""

    seq: int
    event: Event


ClientMessage = Hello | AnyRequest
ServerMessage = Welcome | Ok | Error | Push

_DECODED_TYPES = {"CLIENT_DECODER": ClientMessage, "SERVER_DECODER": ServerMessage}


def __getattr__(name: str) -> Any:
    # The two decoders are module constants built on first access (PEP 562), then cached.
    decoded = _DECODED_TYPES.get(name)
    if decoded is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    decoder = msgspec.msgpack.Decoder(decoded)
    globals()[name] = decoder
    return decoder
