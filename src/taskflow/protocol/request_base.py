"""The ``Request`` base: every request names its result type as its generic parameter.

``ListRuns`` is a ``Request[list[Run]]``, so ``client.call(ListRuns())`` is typed
``list[Run]`` and both sides encode and decode the ``Ok`` payload as that type. The result
decoder of a request class is built from that parameter on first use, one class at a time,
so a client that sends only ``Status`` never builds the decoders of the others.
"""

from __future__ import annotations

import typing
from functools import cache
from typing import Any, Generic, TypeVar

import msgspec

from taskflow.protocol.base import Body

R = TypeVar("R")


class Request(Body, Generic[R], kw_only=True):
    """A request; ``id`` is set by the client and echoed in its one response."""

    id: int = 0


def response_type(request_type: type[Request[Any]]) -> Any:
    """The result type a request class answers with: its ``Request[...]`` parameter."""
    for base in getattr(request_type, "__orig_bases__", ()):
        if typing.get_origin(base) is Request:
            return typing.get_args(base)[0]
    raise TypeError(f"{request_type.__name__} does not name its result type")


@cache
def result_decoder(request_type: type[Request[Any]]) -> msgspec.msgpack.Decoder[Any]:
    """A strict decoder for ``request_type``'s result (cached: building one is not free)."""
    return msgspec.msgpack.Decoder(response_type(request_type))
