"""Frames and message bodies: every message survives a round trip, and bad input is refused."""

from __future__ import annotations

import random
import struct
from datetime import UTC, datetime

import msgspec
import pytest

from taskflow.model import (
    Attempt,
    AuditEntry,
    BreakerState,
    Dependency,
    Placement,
    RetryPolicy,
    Role,
    Run,
    RunState,
    RunTree,
    TaskSpec,
)
from taskflow.protocol import (
    CLIENT_DECODER,
    EVENT_TYPES,
    MAX_FRAME,
    REQUEST_TYPES,
    RESPONSE_TYPES,
    SERVER_DECODER,
    ArtifactChunk,
    ArtifactFile,
    ArtifactList,
    AttemptChanged,
    Backfill,
    BackfilledRun,
    BackfillInfo,
    BreakerChanged,
    Cancel,
    DaemonStats,
    DisableTask,
    EnableTask,
    Error,
    ErrorCode,
    Exec,
    FrameError,
    FrameReader,
    GetRun,
    GetTask,
    Health,
    HealthInfo,
    Hello,
    ListArtifacts,
    ListAudit,
    ListBreakers,
    ListRuns,
    ListTasks,
    LogChunk,
    LogLines,
    Mark,
    Ok,
    PageRunTree,
    PageTasks,
    Pause,
    PauseInfo,
    PlannedNode,
    PlanTask,
    ProtocolError,
    Push,
    ReadArtifact,
    ReadLogs,
    Reload,
    ReloadInfo,
    Rerun,
    ResetBreaker,
    Resume,
    Resync,
    RunChanged,
    RunRef,
    RunSummary,
    ShowRun,
    Status,
    StatusInfo,
    Subscribe,
    SummarizeRun,
    TaskChanged,
    TaskInfo,
    TaskPage,
    TaskPlan,
    TaskRemoved,
    TasksReloaded,
    TreePage,
    TriggerTask,
    TripBreaker,
    Unsubscribe,
    Welcome,
    decode_body,
    encode_body,
    encode_frame,
    mismatch_message,
    result_decoder,
    result_payload,
)

NOW = datetime(2026, 3, 4, 5, 6, 7, 123000, tzinfo=UTC)
RUN = Run(id="01J0", task="deploy/api", root_id="01J0", state=RunState.FAILED, created_at=NOW, params={"env": "prod"})
ATTEMPT = Attempt(run_id="01J0", number=2, pid=4242, started_at=NOW, exit_code=3)
TASK_INFO = TaskInfo(name="deploy/api", kind="command", tags=["deploy"], depends_on=["build"], next_run=NOW)
STATUS = StatusInfo(version="0.1.0", pid=1, started_at=NOW, uptime=12.5, counts={"running": 2})
BREAKER = BreakerState(service="payments-api", consecutive_failures=2)

REQUESTS = [
    Status(id=1),
    Health(id=2),
    ListTasks(id=3, enabled=False, tag="deploy"),
    GetTask(id=4, name="nightly/backup"),
    ListRuns(id=5, state=RunState.FAILED, task="nightly", limit=10, roots_only=False, before="01J0"),
    ShowRun(id=6, run_id="01J0"),
    GetRun(id=21, run_id="01J0"),
    SummarizeRun(id=22, run_id="01J0", limit=5),
    PageRunTree(id=23, run_id="01J0", offset=500, limit=500),
    PageTasks(id=24, after="deploy/api", limit=100, enabled=True, tag="deploy"),
    ReadLogs(id=7, run_id="01J0", attempt=2, stream="stderr", offset=100, max_bytes=4096),
    ListArtifacts(id=25, run_id="01J0", attempt=2),
    ReadArtifact(id=26, run_id="01J0", path="data/blob.bin", offset=524288, max_bytes=4096),
    ListBreakers(id=8),
    ListAudit(id=9, limit=5),
    PlanTask(id=29, task="deploy", params={"version": "1.4.2"}, offset=2000, limit=500),
    TriggerTask(id=10, task="greet", params={"name": "ops", "count": 3}, wait=True),
    Exec(id=11, command=["sh", "-c", "echo hi"], name="adhoc", timeout=5.0, retries=1, cwd="/tmp"),
    Cancel(id=12, run_id="01J0"),
    Rerun(id=13, run_id="01J0", failed_only=True),
    Mark(id=30, run_id="01J0", state=RunState.SUCCEEDED, reason="applied by hand"),
    EnableTask(id=14, name="greet"),
    DisableTask(id=15, name="greet", reason="maintenance"),
    ResetBreaker(id=16, service="payments-api"),
    TripBreaker(id=17, service="payments-api"),
    Reload(id=18),
    Pause(id=27, pool="db"),
    Resume(id=28, all=True),
    Backfill(id=31, task="nightly", start=datetime(2026, 1, 1), end=NOW, limit=50),  # naive: the schedule's zone
    Subscribe(id=19, topics=["runs", "logs"], run_id="01J0"),
    Unsubscribe(id=20),
]

EVENTS = [
    RunChanged(run=RUN),
    AttemptChanged(attempt=ATTEMPT, root_id="01J0"),
    TaskChanged(task=TASK_INFO),
    TaskRemoved(name="old"),
    TasksReloaded(tasks=4, errors=["a.toml: tasks.x: bad"]),
    BreakerChanged(state=BREAKER),
    LogLines(run_id="01J0", attempt=1, stream="stdout", lines=["hello", "wörld"]),
    DaemonStats(stats=STATUS),
    Resync(reason="slow consumer"),
]

RESULTS = {
    Status: STATUS,
    Health: HealthInfo(ok=True, loop_lag_ms=1.5),
    ListTasks: [TASK_INFO],
    GetTask: TaskSpec(name="greet", kind="python", python="pytasks:greet", tags=("x",)),
    ListRuns: [RUN],
    ShowRun: RunTree(run=RUN, attempts=[ATTEMPT], children=[RunTree(run=RUN)]),
    GetRun: RUN,
    SummarizeRun: RunSummary(run=RUN, nodes=10_001, leaves={"succeeded": 9_999, "failed": 1}, trouble=[RUN]),
    PageRunTree: TreePage(nodes=[RunTree(run=RUN, attempts=[ATTEMPT])], next_offset=1000),
    PageTasks: TaskPage(tasks=[TASK_INFO], next_after="deploy/api"),
    ReadLogs: LogChunk(run_id="01J0", attempt=1, stream="stdout", data=b"\x00\xffbytes", offset=0, next_offset=7),
    ListArtifacts: ArtifactList(run_id="01J0", attempt=1,
                                files=[ArtifactFile(path="report.txt", size=8, modified_at=NOW)]),
    ReadArtifact: ArtifactChunk(run_id="01J0", attempt=1, path="report.txt", data=b"rows=42\n", offset=0,
                                size=8, eof=True),
    ListBreakers: [BREAKER],
    ListAudit: [AuditEntry(at=NOW, user="ana", role=Role.OPERATOR, action="cancel", args={"run": "01J0"})],
    PlanTask: TaskPlan(task="deploy", params={"version": "1.4.2"}, nodes_total=2, leaves=1, leaves_run=1,
                       waves=[1], nodes=[PlannedNode(name="deploy", kind="group"), PlannedNode(
                           name="deploy/build", kind="command", parent="deploy", depth=1, wave=1,
                           depends_on=[Dependency("deploy/lint", required=False)], retries=RetryPolicy(max=2),
                           where=Placement(workers=("w1",)), runs_on="cluster", command=["make"],
                           param_env={"TASKFLOW_PARAM_VERSION": "1.4.2"})]),
    TriggerTask: RunRef(id="01J0", task="greet"),
    Exec: RunRef(id="01J1", task="adhoc"),
    Cancel: RunRef(id="01J0", task="greet"),
    Rerun: RunRef(id="01J2", task="greet"),
    Mark: RUN,
    EnableTask: TASK_INFO,
    DisableTask: TASK_INFO,
    ResetBreaker: BREAKER,
    TripBreaker: BREAKER,
    Reload: ReloadInfo(tasks=3, errors=[]),
    Pause: PauseInfo(pools=["db"], zero_pools=["frozen"]),
    Resume: PauseInfo(),
    Backfill: BackfillInfo(task="nightly", runs=[BackfilledRun(id="01J0", scheduled_at=NOW)]),
    Subscribe: ["logs", "runs"],
    Unsubscribe: [],
}


def one_body(frame: bytes) -> bytes:
    bodies = FrameReader().feed(frame)
    assert len(bodies) == 1
    return bodies[0]


def test_examples_cover_every_request_and_event_type():
    assert {type(r) for r in REQUESTS} == set(REQUEST_TYPES)
    assert {type(e) for e in EVENTS} == set(EVENT_TYPES)
    assert set(RESULTS) == set(RESPONSE_TYPES)


@pytest.mark.parametrize("request_", REQUESTS, ids=lambda r: type(r).__name__)
def test_every_request_round_trips_through_a_frame(request_):
    assert decode_body(CLIENT_DECODER, one_body(encode_frame(request_))) == request_


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_every_event_round_trips_inside_a_push(event):
    push = Push(seq=7, event=event)
    assert decode_body(SERVER_DECODER, one_body(encode_frame(push))) == push


@pytest.mark.parametrize("request_type", list(RESULTS), ids=lambda t: t.__name__)
def test_every_result_round_trips_as_its_declared_type(request_type):
    ok = Ok(id=3, data=result_payload(RESULTS[request_type]))
    decoded = decode_body(SERVER_DECODER, one_body(encode_frame(ok)))
    assert isinstance(decoded, Ok) and decoded.id == 3
    assert result_decoder(request_type).decode(decoded.data) == RESULTS[request_type]


def test_handshake_and_error_messages_round_trip():
    hello = Hello(protocol=1, client="taskflow-cli")
    assert decode_body(CLIENT_DECODER, one_body(encode_frame(hello))) == hello
    for message in (
        Welcome(protocol=1, version="0.1.0", user="ana", role=Role.VIEWER),
        Error(id=4, code=ErrorCode.CONFLICT, message="task greet is disabled"),
        Ok(id=9),
    ):
        decoded = decode_body(SERVER_DECODER, one_body(encode_frame(message)))
        assert type(decoded) is type(message)
        assert encode_body(decoded) == encode_body(message)


def test_frame_reader_reassembles_arbitrarily_split_and_merged_chunks():
    messages = REQUESTS * 3
    stream = b"".join(encode_frame(m) for m in messages)
    rng = random.Random(1234)
    for _ in range(50):
        reader = FrameReader()
        bodies: list[bytes] = []
        position = 0
        while position < len(stream):
            step = rng.choice([1, 2, 3, 5, 64, 1000, len(stream)])
            bodies.extend(reader.feed(stream[position : position + step]))
            position += step
        assert [decode_body(CLIENT_DECODER, b) for b in bodies] == messages
        assert reader.buffered == 0


def test_frame_reader_reports_a_partial_frame_as_buffered():
    frame = encode_frame(Status(id=1))
    reader = FrameReader()
    assert reader.feed(frame[:3]) == []
    assert reader.buffered == 3
    assert len(reader.feed(frame[3:] + frame[:6])) == 1
    assert reader.buffered == 6


def test_oversized_frame_header_is_refused_before_buffering_the_body():
    reader = FrameReader()
    with pytest.raises(FrameError, match="over the 1048576-byte limit"):
        reader.feed(struct.pack(">I", MAX_FRAME + 1))
    assert reader.feed(struct.pack(">I", MAX_FRAME) + b"x") == []  # exactly the limit is allowed


def test_encoding_a_message_over_the_limit_is_refused():
    huge = LogLines(run_id="r", attempt=1, stream="stdout", lines=["x" * MAX_FRAME])
    with pytest.raises(FrameError, match="exceeds"):
        encode_frame(Push(seq=1, event=huge))


@pytest.mark.parametrize(
    "body, reason",
    [
        ({"type": "Status", "id": 1, "verbose": True}, "unknown field"),
        ({"type": "ListRuns", "id": 1, "limit": "ten"}, "Expected `int`"),
        ({"type": "Shutdown", "id": 1}, "Invalid value 'Shutdown'"),
        ({"id": 1}, "missing required field `type`"),
        ({"type": "GetTask", "id": 1}, "missing required field `name`"),
        ([1, 2, 3], "Expected `object`"),
    ],
)
def test_strict_decoding_turns_bad_bodies_into_one_sentence_protocol_errors(body, reason):
    with pytest.raises(ProtocolError, match=reason) as caught:
        decode_body(CLIENT_DECODER, msgspec.msgpack.encode(body))
    assert "\n" not in str(caught.value)


def test_undecodable_bytes_are_a_protocol_error():
    with pytest.raises(ProtocolError, match="undecodable"):
        decode_body(CLIENT_DECODER, b"\xc1")


def test_results_are_decoded_strictly_as_the_request_expects():
    wrong = result_payload(RunRef(id="x", task="y"))
    with pytest.raises(msgspec.ValidationError):
        result_decoder(ListRuns).decode(wrong)


def test_mismatch_message_tells_which_side_to_upgrade():
    assert mismatch_message(2, 1) == "daemon speaks protocol 2, this client 1; upgrade taskflow"
    assert mismatch_message(1, 2) == "daemon speaks protocol 1, this client 2; upgrade taskflowd"
