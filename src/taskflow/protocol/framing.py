"""Frames on the taskflow socket: a 4-byte big-endian length, then a msgpack body.

Both the daemon and the clients cut the byte stream into bodies here, so the size limit and
the error wording are the same on both sides. A peer that breaks the framing gets its
connection closed; it never gets to make the other side buffer more than ``MAX_FRAME``.
"""

from __future__ import annotations

import struct
from typing import Any

import msgspec

MAX_FRAME = 1 << 20  # bytes of body; larger frames close the connection
HEADER = struct.Struct(">I")


class ProtocolError(Exception):
    """The peer sent something that is not a valid taskflow message; one sentence."""


class FrameError(ProtocolError):
    """The byte stream cannot be cut into frames (oversized or truncated)."""


_encoder = msgspec.msgpack.Encoder()


def encode_body(message: Any) -> bytes:
    """Encode one message (a Struct, or any msgspec-encodable value) to a msgpack body."""
    return _encoder.encode(message)


def frame_body(body: bytes) -> bytes:
    """Prefix an already encoded body with its length; refuses bodies over ``MAX_FRAME``."""
    if len(body) > MAX_FRAME:
        raise FrameError(f"message of {len(body)} bytes exceeds the {MAX_FRAME}-byte frame limit")
    return HEADER.pack(len(body)) + body


def encode_frame(message: Any) -> bytes:
    """One complete frame (header + body) ready to write to the socket."""
    return frame_body(encode_body(message))


class FrameReader:
    """Incremental frame splitter: feed it whatever ``recv`` returned, get complete bodies.

    Chunks may split or merge frames arbitrarily. A header announcing more than
    ``max_frame`` bytes raises ``FrameError`` at once, before any of the body is buffered.
    """

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self._max_frame = max_frame
        self._buffer = bytearray()

    @property
    def buffered(self) -> int:
        """Bytes of an incomplete frame held; non-zero means the peer is mid-frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return every body now complete, in order."""
        self._buffer += data
        bodies: list[bytes] = []
        view = self._buffer
        start = 0
        while len(view) - start >= HEADER.size:
            (size,) = HEADER.unpack_from(view, start)
            if size > self._max_frame:
                self._buffer.clear()
                raise FrameError(
                    f"peer announced a {size}-byte frame, over the {self._max_frame}-byte limit"
                )
            end = start + HEADER.size + size
            if len(view) < end:
                break
            bodies.append(bytes(view[start + HEADER.size : end]))
            start = end
        if start:
            del self._buffer[:start]
        return bodies


def decode_body(decoder: msgspec.msgpack.Decoder[Any], body: bytes) -> Any:
    """Decode a body with ``decoder``, turning any msgspec complaint into ``ProtocolError``."""
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise ProtocolError(f"invalid message: {exc}") from None
    except msgspec.DecodeError as exc:
        raise ProtocolError(f"undecodable message: {exc}") from None
