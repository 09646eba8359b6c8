"""Property: no byte string a client sends can crash the server or leave a connection hanging."""

from __future__ import annotations

import socket
import struct
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from taskflow.client import Client
from taskflow.protocol import REQUEST_TYPES, Hello, Status, StatusInfo, encode_body, encode_frame

HELLO = encode_frame(Hello(protocol=1, client="fuzz"))
FIELD_NAMES = ["id", "name", "task", "topics", "limit", "params", "run_id", "protocol", "client", "zz"]
TYPE_NAMES = [t.__name__ for t in REQUEST_TYPES] + ["Hello", "Welcome", "Push", ""]

# Values chosen to hit type confusion cheaply (drawing rich recursive values is slow).
ODD_VALUES = [None, True, 0, -1, 2**63, 2**64 - 1, 1.5, float("nan"), "", "runs", "x" * 300,
              b"\x00\xff", [], ["runs", "logs"], [1, [2]], {}, {"a": 1}, {"type": "Resync"}]


@st.composite
def message_like(draw: st.DrawFn) -> bytes:
    """A msgpack map that looks like a message: a known or odd type tag, random fields."""
    keys = draw(st.lists(st.sampled_from(FIELD_NAMES), max_size=4, unique=True))
    body: dict[str, object] = {key: draw(st.sampled_from(ODD_VALUES)) for key in keys}
    body["type"] = draw(st.sampled_from(TYPE_NAMES))
    return encode_body(body)


def framed(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


streams = st.one_of(
    st.binary(max_size=200),  # noise
    st.binary(max_size=200).map(framed),  # a well-framed random body
    message_like().map(framed),  # a plausible message, maybe before Hello
    st.lists(message_like().map(framed), max_size=4).map(lambda fs: HELLO + b"".join(fs)),
    st.tuples(st.lists(message_like().map(framed), max_size=3), st.binary(max_size=50)).map(
        lambda t: HELLO + b"".join(t[0]) + t[1]  # valid start, garbage tail
    ),
    st.binary(min_size=1, max_size=100).map(lambda b: HELLO + framed(b)[: len(b) // 2 + 2]),  # truncated
)


def test_random_bytes_never_crash_the_server_nor_hang_a_connection(server_factory):
    served = server_factory(frame_timeout=2.0)

    @settings(max_examples=2000, deadline=None, database=None)
    @given(payload=streams)
    def check(payload: bytes) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(10)  # the server must answer or close well before this
        sock.connect(served.path)
        try:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            started = time.monotonic()
            while sock.recv(1 << 16):
                pass  # answers, maybe an Error; then the server closes
            assert time.monotonic() - started < 10
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed while we were still sending: also a valid outcome
        finally:
            sock.close()

    check()
    with Client.connect(served.path) as client:
        assert isinstance(client.call(Status()), StatusInfo)
    deadline = time.monotonic() + 10
    while served.call(lambda: served.server.connections) > 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert served.call(lambda: served.server.connections) <= 1  # no leaked connections
