"""The taskflow wire protocol: framing, message Structs, views and events.

Shared by the daemon and every client; imports nothing but msgspec and the model, so the CLI
can use it without loading asyncio.

Every name is loaded from its submodule on first access (PEP 562): ``from taskflow.protocol
import Status`` loads the status request and its view, not every event and model Struct.
That keeps ``taskflow status --json``, polled by monitoring, within a few interpreter
start-ups; ``tests/protocol/test_protocol_import_cost.py`` guards what it loads.
"""

from __future__ import annotations

from taskflow._lazy import lazy_exports
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from taskflow.protocol.base import Body
    from taskflow.protocol.daemon_requests import Health, Reload, Status, Subscribe, Unsubscribe
    from taskflow.protocol.daemon_views import HealthInfo, ReloadInfo, StatusInfo
    from taskflow.protocol.events import (
        EVENT_TYPES,
        TOPICS,
        TOPIC_ATTEMPTS,
        TOPIC_BREAKERS,
        TOPIC_LOGS,
        TOPIC_RUNS,
        TOPIC_STATS,
        TOPIC_TASKS,
        AttemptChanged,
        BreakerChanged,
        DaemonStats,
        Event,
        LogLines,
        Resync,
        RunChanged,
        TaskChanged,
        TaskRemoved,
        TasksReloaded,
        event_run_ids,
    )
    from taskflow.protocol.framing import (
        MAX_FRAME,
        FrameError,
        FrameReader,
        ProtocolError,
        decode_body,
        encode_body,
        encode_frame,
        frame_body,
    )
    from taskflow.protocol.messages import (
        CLIENT_DECODER,
        SERVER_DECODER,
        ClientMessage,
        Push,
        ServerMessage,
    )
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
    from taskflow.protocol.request import (
        Request,
        response_type,
        result_decoder,
    )
    from taskflow.protocol.requests import (
        MUTATING_REQUESTS,
        REQUEST_TYPES,
        RESPONSE_TYPES,
        AnyRequest,
        Cancel,
        DisableTask,
        EnableTask,
        Exec,
        GetTask,
        ListAudit,
        ListBreakers,
        ListRuns,
        ListTasks,
        ReadLogs,
        Rerun,
        ResetBreaker,
        ShowRun,
        TriggerTask,
        TripBreaker,
    )
    from taskflow.protocol.views import LogChunk, LogStream, RunRef, TaskInfo

#: Which submodule defines each public name (``result_payload`` is importable, not in
#: ``__all__``, as before).
_HOMES: dict[str, str] = {
    **dict.fromkeys(("Body",), "base"),
    **dict.fromkeys(("Health", "Reload", "Status", "Subscribe", "Unsubscribe"), "daemon_requests"),
    **dict.fromkeys(
        (
            "EVENT_TYPES", "TOPICS", "TOPIC_ATTEMPTS", "TOPIC_BREAKERS", "TOPIC_LOGS", "TOPIC_RUNS",
            "TOPIC_STATS", "TOPIC_TASKS", "AttemptChanged", "BreakerChanged", "DaemonStats",
            "Event", "LogLines", "Resync", "RunChanged", "TaskChanged", "TaskRemoved",
            "TasksReloaded", "event_run_ids",
        ),
        "events",
    ),
    **dict.fromkeys(
        (
            "MAX_FRAME", "FrameError", "FrameReader", "ProtocolError", "decode_body", "encode_body",
            "encode_frame", "frame_body",
        ),
        "framing",
    ),
    **dict.fromkeys(
        (
            "CLIENT_DECODER", "SERVER_DECODER", "ClientMessage", "Push", "ServerMessage",
        ),
        "messages",
    ),
    **dict.fromkeys(
        (
            "PROTOCOL_VERSION", "Error", "ErrorCode", "Hello", "Ok", "Welcome", "mismatch_message",
            "result_payload",
        ),
        "replies",
    ),
    **dict.fromkeys(("Request", "response_type", "result_decoder"), "request"),
    **dict.fromkeys(
        (
            "MUTATING_REQUESTS", "REQUEST_TYPES", "RESPONSE_TYPES", "AnyRequest", "Cancel",
            "DisableTask", "EnableTask", "Exec", "GetTask", "ListAudit", "ListBreakers", "ListRuns",
            "ListTasks", "ReadLogs", "Rerun", "ResetBreaker", "ShowRun", "TriggerTask",
            "TripBreaker",
        ),
        "requests",
    ),
    **dict.fromkeys(("HealthInfo", "ReloadInfo", "StatusInfo"), "daemon_views"),
    **dict.fromkeys(("LogChunk", "LogStream", "RunRef", "TaskInfo"), "views"),
}

__all__ = [
    "CLIENT_DECODER",
    "EVENT_TYPES",
    "MAX_FRAME",
    "MUTATING_REQUESTS",
    "PROTOCOL_VERSION",
    "REQUEST_TYPES",
    "RESPONSE_TYPES",
    "SERVER_DECODER",
    "TOPICS",
    "TOPIC_ATTEMPTS",
    "TOPIC_BREAKERS",
    "TOPIC_LOGS",
    "TOPIC_RUNS",
    "TOPIC_STATS",
    "TOPIC_TASKS",
    "AnyRequest",
    "AttemptChanged",
    "Body",
    "BreakerChanged",
    "Cancel",
    "ClientMessage",
    "DaemonStats",
    "DisableTask",
    "EnableTask",
    "Error",
    "ErrorCode",
    "Event",
    "Exec",
    "FrameError",
    "FrameReader",
    "GetTask",
    "Health",
    "HealthInfo",
    "Hello",
    "ListAudit",
    "ListBreakers",
    "ListRuns",
    "ListTasks",
    "LogChunk",
    "LogLines",
    "LogStream",
    "Ok",
    "ProtocolError",
    "Push",
    "ReadLogs",
    "Reload",
    "ReloadInfo",
    "Request",
    "Rerun",
    "ResetBreaker",
    "Resync",
    "RunChanged",
    "RunRef",
    "ServerMessage",
    "ShowRun",
    "Status",
    "StatusInfo",
    "Subscribe",
    "TaskChanged",
    "TaskInfo",
    "TaskRemoved",
    "TasksReloaded",
    "TriggerTask",
    "TripBreaker",
    "Unsubscribe",
    "Welcome",
    "decode_body",
    "encode_body",
    "encode_frame",
    "event_run_ids",
    "frame_body",
    "mismatch_message",
    "response_type",
    "result_decoder",
    "result_payload",
]


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__, globals())
