"""Pushed events: fan-out by topic, ordering without gaps, slow consumers, hostile neighbours."""

from __future__ import annotations

import socket
import struct
import threading
import time

from taskflow.client import Client
from taskflow.model import BreakerState
from taskflow.protocol import (
    SERVER_DECODER,
    BreakerChanged,
    Error,
    FrameReader,
    Hello,
    LogLines,
    Ok,
    Push,
    Resync,
    RunChanged,
    Status,
    Subscribe,
    decode_body,
    encode_frame,
)


class Follower:
    """A subscriber on a raw socket that records every push it reads, in a thread."""

    def __init__(self, path: str, topics: list[str], run_id: str | None = None, read: bool = True):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(path)
        self.pushes: list[Push] = []
        self.reader = FrameReader()
        self.sock.sendall(
            encode_frame(Hello(protocol=1, client="follower"))
            + encode_frame(Subscribe(id=1, topics=topics, run_id=run_id))
        )
        replies = self._read(2)
        assert type(replies[1]) is Ok, replies
        self._thread: threading.Thread | None = None
        if read:
            self.start()

    def _read(self, count: int) -> list[object]:
        out: list[object] = []
        while len(out) < count:
            data = self.sock.recv(1 << 16)
            if not data:
                break
            out.extend(decode_body(SERVER_DECODER, b) for b in self.reader.feed(data))
        return out

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        try:
            while True:
                data = self.sock.recv(1 << 18)
                if not data:
                    return
                for body in self.reader.feed(data):
                    message = decode_body(SERVER_DECODER, body)
                    assert isinstance(message, Push)
                    self.pushes.append(message)
        except OSError:
            return

    def close(self) -> None:
        self.sock.close()


def assert_no_gaps(pushes: list[Push]) -> None:
    assert [p.seq for p in pushes] == list(range(1, len(pushes) + 1))


def test_events_fan_out_by_topic_in_order_with_consecutive_seq(served, kit):
    runs_a = Follower(served.path, ["runs"])
    runs_b = Follower(served.path, ["runs", "breakers"])
    breakers = Follower(served.path, ["breakers"])
    kit.wait_for(lambda: served.call(lambda: served.server.subscribers) == 3, what="3 subscribers")
    for i in range(200):
        served.publish("runs", RunChanged(run=kit.sample_run(i)))
        if i % 50 == 0:
            served.publish("breakers", BreakerChanged(state=BreakerState(service=f"s{i}")))
    kit.wait_for(lambda: len(runs_b.pushes) == 204, what="all events")
    kit.wait_for(lambda: len(runs_a.pushes) == 200 and len(breakers.pushes) == 4, what="all events")
    for follower in (runs_a, runs_b, breakers):
        assert_no_gaps(follower.pushes)
    assert [p.event.run.id for p in runs_a.pushes] == [f"R{i:06d}" for i in range(200)]
    assert [p.event.state.service for p in breakers.pushes] == ["s0", "s50", "s100", "s150"]
    for follower in (runs_a, runs_b, breakers):
        follower.close()


def test_run_id_limits_run_and_log_events_to_that_tree(served, kit):
    follower = Follower(served.path, ["runs", "logs"], run_id="R000000")
    kit.wait_for(lambda: served.call(lambda: served.server.subscribers) == 1, what="subscriber")
    other = kit.sample_run(1)
    other.root_id = "ELSEWHERE"
    served.publish("runs", RunChanged(run=other))
    served.publish("logs", LogLines(run_id="X", attempt=1, stream="stdout", lines=["no"]))
    served.publish("logs", LogLines(run_id="R000005", root_id="R000000", attempt=1, stream="stdout", lines=["yes"]))
    served.publish("runs", RunChanged(run=kit.sample_run(2)))  # child of R000000
    kit.wait_for(lambda: len(follower.pushes) == 2, what="tree events")
    time.sleep(0.1)
    assert [type(p.event).__name__ for p in follower.pushes] == ["LogLines", "RunChanged"]
    follower.close()


def test_a_slow_subscriber_gets_resync_while_a_fast_one_sees_everything(server_factory, kit):
    served = server_factory(queue_size=50)
    fast = Follower(served.path, ["logs"])
    slow = Follower(served.path, ["logs"], read=False)  # reads nothing for now
    kit.wait_for(lambda: served.call(lambda: served.server.subscribers) == 2, what="subscribers")
    line = "x" * 1000
    total = 3000  # ~3 MB: more than the socket buffers and the 50-event queue hold
    for i in range(total):
        served.publish("logs", LogLines(run_id="r", attempt=1, stream="stdout", lines=[line, str(i)]))
        if i % 20 == 19:  # the engine publishes over time; pace it to the fast reader
            kit.wait_for(lambda i=i: len(fast.pushes) > i - 20, what="fast subscriber to keep up")
    kit.wait_for(lambda: len(fast.pushes) == total, timeout=30, what="fast subscriber to see all")
    assert_no_gaps(fast.pushes)
    assert [p.event.lines[1] for p in fast.pushes] == [str(i) for i in range(total)]

    slow.start()
    kit.wait_for(
        lambda: any(isinstance(p.event, Resync) for p in slow.pushes)
        and slow.pushes[-1].seq >= total,
        timeout=30,
        what="slow subscriber to drain",
    )
    seqs = [p.seq for p in slow.pushes]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))  # ordered, gaps allowed
    resyncs = [p for p in slow.pushes if isinstance(p.event, Resync)]
    assert resyncs[0].event.reason == "slow consumer"
    assert len(slow.pushes) < total  # events were dropped, not buffered without bound
    assert len(resyncs) < 10  # one Resync per slow episode, not one per dropped batch
    fast.close()
    slow.close()


BAD_INPUTS = [
    b"\x00\x00\x00\x05garbage",  # a frame whose body is not msgpack
    struct.pack(">I", (1 << 20) + 1),  # oversized announcement
    b"\x00\x00\x10\x00trunc",  # truncated: announces 4096 bytes, sends 5, then idles
    b"\x00\x00",  # half a header, then idles
    encode_frame(Status(id=1)),  # a request before Hello
    encode_frame({"type": "Hello", "protocol": 1, "client": "x", "extra": 1}),  # unknown field
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    encode_frame(Hello(protocol=1, client="x")) + b"\xff\xff\xff\xff",
]


def test_bad_connections_close_alone_while_a_good_subscriber_sees_every_event(served, kit):
    good = Follower(served.path, ["runs"])
    closed: list[bool] = []
    started = threading.Barrier(21)

    def bad(payload: bytes) -> None:
        sock = kit.raw_connect(served.path, timeout=20)
        started.wait()
        sock.sendall(payload)
        try:
            while sock.recv(65536):  # possibly an Error first; then EOF
                pass
            closed.append(True)
        except OSError:
            closed.append(False)
        finally:
            sock.close()

    threads = [threading.Thread(target=bad, args=(BAD_INPUTS[i % len(BAD_INPUTS)],)) for i in range(20)]
    for thread in threads:
        thread.start()
    started.wait()
    for i in range(500):
        served.publish("runs", RunChanged(run=kit.sample_run(i)))
    for thread in threads:
        thread.join(30)
    assert closed == [True] * 20  # every bad connection was closed by the server (timeouts too)
    kit.wait_for(lambda: len(good.pushes) == 500, what="good subscriber to see all")
    assert_no_gaps(good.pushes)
    with Client.connect(served.path) as client:
        client.call(Status())
    kit.wait_for(lambda: served.call(lambda: served.server.connections) == 1, what="bad connections gone")
    good.close()


def test_truncated_frame_gets_a_protocol_error_after_the_read_timeout(server_factory, kit):
    served = server_factory(frame_timeout=0.3)
    sock = kit.raw_connect(served.path)
    sock.sendall(encode_frame(Hello(protocol=1, client="x")) + b"\x00\x00\x00\x10abc")
    reader = FrameReader()
    messages = []
    started = time.monotonic()
    while data := sock.recv(65536):
        messages.extend(decode_body(SERVER_DECODER, b) for b in reader.feed(data))
    assert time.monotonic() - started < 10
    assert [type(m).__name__ for m in messages] == ["Welcome", "Error"]
    assert isinstance(messages[1], Error) and "no complete message within 0.3 seconds" in messages[1].message


def test_an_idle_subscriber_is_not_timed_out(server_factory, kit):
    served = server_factory(frame_timeout=0.2)
    follower = Follower(served.path, ["runs"])
    time.sleep(0.6)  # longer than the frame timeout, with no partial frame pending
    served.publish("runs", RunChanged(run=kit.sample_run(1)))
    kit.wait_for(lambda: len(follower.pushes) == 1, what="event after idling")
    follower.close()


def test_unknown_topic_is_a_bad_request(served):
    with Client.connect(served.path) as client:
        try:
            list(client.subscribe(["runs", "gossip"]))
        except Exception as exc:
            assert getattr(exc, "code", None) == "bad_request"
            assert "unknown topic 'gossip'" in str(exc)
        else:  # pragma: no cover
            raise AssertionError("subscribing to an unknown topic succeeded")
