"""The daemon's socket server: socket file, handshake, requests, errors and roles."""

from __future__ import annotations

import grp
import os
import socket
import stat
import subprocess
import sys
import threading

import pytest

from taskflow.client import Client, ClientError
from taskflow.daemon.peercred import in_group, role_for
from taskflow.daemon.server import SocketInUse
from taskflow.model import BreakerState, Role
from taskflow.protocol import (
    SERVER_DECODER,
    Error,
    ErrorCode,
    FrameReader,
    GetTask,
    Hello,
    ListBreakers,
    ListRuns,
    Status,
    StatusInfo,
    Welcome,
    encode_frame,
)
from taskflow.protocol import decode_body as _decode

ROOT = os.geteuid() == 0


def read_messages(sock: socket.socket, count: int) -> list[object]:
    reader = FrameReader()
    out: list[object] = []
    while len(out) < count:
        data = sock.recv(65536)
        if not data:
            break
        out.extend(_decode(SERVER_DECODER, body) for body in reader.feed(data))
    return out


def test_socket_is_created_with_mode_0660(served):
    mode = os.stat(served.path).st_mode
    assert stat.S_ISSOCK(mode)
    assert stat.S_IMODE(mode) == 0o660


@pytest.mark.skipif(not ROOT, reason="chgrp to another group needs root")
def test_socket_is_given_to_the_socket_group(server_factory):
    served = server_factory(socket_group="nogroup")
    assert os.stat(served.path).st_gid == grp.getgrnam("nogroup").gr_gid


def test_missing_socket_group_is_not_fatal(server_factory):
    served = server_factory(socket_group="no-such-group-tf")
    with Client.connect(served.path) as client:
        assert isinstance(client.call(Status()), StatusInfo)


def test_handshake_names_user_and_role_then_requests_are_answered(served):
    with Client.connect(served.path) as client:
        assert client.welcome is not None
        assert client.welcome.version == "test"
        assert client.welcome.role == (Role.ADMIN if ROOT else Role.VIEWER)
        runs = client.call(ListRuns(limit=3))
        assert [r.id for r in runs] == ["R000000", "R000001", "R000002"]
        breakers = client.call(ListBreakers())
        assert breakers == [BreakerState(service=client.welcome.user)]


def test_request_error_maps_to_error_response_and_connection_stays_up(served):
    with Client.connect(served.path) as client:
        with pytest.raises(ClientError) as caught:
            client.call(GetTask(name="bakup"))
        assert caught.value.code == ErrorCode.NOT_FOUND
        assert str(caught.value) == "no task named 'bakup'"
        with pytest.raises(ClientError) as crashed:
            client.call(GetTask(name="boom"))
        assert crashed.value.code == ErrorCode.INTERNAL
        assert "handler exploded" in str(crashed.value)
        assert isinstance(client.call(Status()), StatusInfo)  # still connected


def test_pipelined_requests_each_get_exactly_one_response_by_id(served, kit):
    sock = kit.raw_connect(served.path)
    sock.sendall(encode_frame(Hello(protocol=1, client="raw")))
    requests = [GetTask(id=1, name="slow"), Status(id=2), ListRuns(id=3, limit=1), GetTask(id=4, name="x")]
    sock.sendall(b"".join(encode_frame(r) for r in requests))
    messages = read_messages(sock, 5)
    assert isinstance(messages[0], Welcome)
    by_id = {m.id: type(m).__name__ for m in messages[1:]}
    assert by_id == {1: "Error", 2: "Ok", 3: "Ok", 4: "Error"}
    sock.close()


def test_answers_still_arrive_after_the_client_shuts_down_its_sending_side(served, kit):
    sock = kit.raw_connect(served.path)
    sock.sendall(encode_frame(Hello(protocol=1, client="raw")) + encode_frame(GetTask(id=5, name="slow")))
    sock.shutdown(socket.SHUT_WR)
    messages = read_messages(sock, 3)
    assert [type(m).__name__ for m in messages] == ["Welcome", "Error"]
    assert messages[1].id == 5


def test_protocol_mismatch_is_a_clear_error_from_the_daemon(served, kit):
    sock = kit.raw_connect(served.path)
    sock.sendall(encode_frame(Hello(protocol=2, client="future")))
    messages = read_messages(sock, 2)
    assert len(messages) == 1  # Error, then the daemon closes
    error = messages[0]
    assert isinstance(error, Error) and error.code == ErrorCode.PROTOCOL
    assert error.message == "daemon speaks protocol 1, this client 2; upgrade taskflowd"
    sock.close()


def test_a_future_hello_with_new_fields_still_gets_the_mismatch_sentence(served, kit):
    sock = kit.raw_connect(served.path)
    sock.sendall(encode_frame({"type": "Hello", "protocol": 3, "client": "x", "features": ["zstd"]}))
    messages = read_messages(sock, 2)
    assert len(messages) == 1 and isinstance(messages[0], Error)
    assert messages[0].message == "daemon speaks protocol 1, this client 3; upgrade taskflowd"


def test_protocol_mismatch_is_a_clear_error_in_the_client(sock_dir):
    """A peer that answers like a future daemon (protocol 2): the client refuses it."""
    path = os.path.join(sock_dir, "future.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)

    def future_daemon() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(encode_frame(Welcome(protocol=2, version="9.0", user="x", role=Role.VIEWER)))
        conn.recv(65536)
        conn.close()

    thread = threading.Thread(target=future_daemon, daemon=True)
    thread.start()
    with pytest.raises(ClientError) as caught:
        Client.connect(path)
    assert caught.value.code == ErrorCode.PROTOCOL
    assert str(caught.value) == "daemon speaks protocol 2, this client 1; upgrade taskflow"
    thread.join(10)
    listener.close()


def test_a_request_before_hello_closes_the_connection_with_a_protocol_error(served, kit):
    sock = kit.raw_connect(served.path)
    sock.sendall(encode_frame(Status(id=1)))
    messages = read_messages(sock, 2)
    assert len(messages) == 1 and isinstance(messages[0], Error)
    assert "expected Hello" in messages[0].message


def test_stale_socket_file_is_replaced_but_a_live_one_is_not_stolen(server_factory, sock_dir):
    path = os.path.join(sock_dir, "stale.sock")
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(path)
    dead.close()  # the file stays, nobody listens
    live = server_factory(name="stale.sock")
    with Client.connect(live.path) as client:
        client.call(Status())
    with pytest.raises(SocketInUse, match="already listening"):
        server_factory(name="stale.sock")
    with Client.connect(live.path) as client:  # the first daemon still serves
        client.call(Status())


def test_a_regular_file_at_the_socket_path_is_never_removed(server_factory, sock_dir):
    path = os.path.join(sock_dir, "file.sock")
    with open(path, "w") as handle:
        handle.write("precious")
    with pytest.raises(SocketInUse, match="is not a socket"):
        server_factory(name="file.sock")
    with open(path) as handle:
        assert handle.read() == "precious"


def test_close_removes_the_socket_file(server_factory):
    served = server_factory()
    path = served.path
    served.run(served.server.close())
    assert not os.path.exists(path)


# -- roles from SO_PEERCRED -------------------------------------------------------------

def test_role_rules():
    gid = os.getgid()
    primary = grp.getgrgid(gid).gr_name
    assert role_for(0, 0, "taskflow-ops") == Role.ADMIN
    assert role_for(65534, 65534, "nogroup") == Role.OPERATOR
    assert role_for(65534, 65534, "no-such-group-tf") == Role.VIEWER
    assert in_group(os.getuid(), gid, primary)


CLIENT_AS_PEER = """
import os, sys
from taskflow.client import Client
from taskflow.protocol import TriggerTask
if sys.argv[2] == "drop":  # root: become nobody after imports (the venv is root's)
    os.setgroups([]); os.setgid(65534); os.setuid(65534)
with Client.connect(sys.argv[1]) as c:
    print(c.welcome.role, c.call(TriggerTask(task="t")).id)
"""


def connect_as_other_user(path: str) -> str:
    """Connect from a process whose credentials differ from the daemon's test process."""
    out = subprocess.run(
        [sys.executable, "-c", CLIENT_AS_PEER, path, "drop" if ROOT else "stay"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return out.stdout.split()


@pytest.mark.parametrize("is_operator", [True, False])
def test_roles_come_from_peer_credentials(server_factory, sock_dir, is_operator):
    if ROOT:
        os.chmod(sock_dir, 0o755)
        group = "nogroup"
    else:
        group = grp.getgrgid(os.getgid()).gr_name
    served = server_factory(
        socket_group=group if ROOT else None,
        operator_group=group if is_operator else "no-such-group-tf",
    )
    role, seen_by_handler = connect_as_other_user(served.path)
    expected = "operator" if is_operator else "viewer"
    assert role == expected
    assert seen_by_handler == expected  # the handler got the same Peer role
