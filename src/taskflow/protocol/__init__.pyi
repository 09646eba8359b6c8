"""The public names of ``taskflow.protocol``: the one list, read by type checkers and, at
run time, by ``taskflow._lazy.stub_exports`` (see ``__init__.py``).

Each name is written ``N as N``, a stub's way to re-export it (PEP 484); at run time it is
importable from the package and in ``__all__``. Add a name here and nowhere else.
"""

from taskflow.protocol.artifacts import (
    ARTIFACT_CHUNK as ARTIFACT_CHUNK,
)
from taskflow.protocol.artifacts import (
    ArtifactChunk as ArtifactChunk,
)
from taskflow.protocol.artifacts import (
    ArtifactFile as ArtifactFile,
)
from taskflow.protocol.artifacts import (
    ArtifactList as ArtifactList,
)
from taskflow.protocol.artifacts import (
    ListArtifacts as ListArtifacts,
)
from taskflow.protocol.artifacts import (
    ReadArtifact as ReadArtifact,
)
from taskflow.protocol.backfill import (
    BACKFILL_LIMIT as BACKFILL_LIMIT,
)
from taskflow.protocol.backfill import (
    Backfill as Backfill,
)
from taskflow.protocol.backfill import (
    BackfilledRun as BackfilledRun,
)
from taskflow.protocol.backfill import (
    BackfillInfo as BackfillInfo,
)
from taskflow.protocol.base import (
    Body as Body,
)
from taskflow.protocol.daemon_requests import (
    Health as Health,
)
from taskflow.protocol.daemon_requests import (
    Reload as Reload,
)
from taskflow.protocol.daemon_requests import (
    Status as Status,
)
from taskflow.protocol.daemon_requests import (
    Subscribe as Subscribe,
)
from taskflow.protocol.daemon_requests import (
    Unsubscribe as Unsubscribe,
)
from taskflow.protocol.daemon_views import (
    ClusterInfo as ClusterInfo,
)
from taskflow.protocol.daemon_views import (
    ClusterWorker as ClusterWorker,
)
from taskflow.protocol.daemon_views import (
    HealthInfo as HealthInfo,
)
from taskflow.protocol.daemon_views import (
    PauseInfo as PauseInfo,
)
from taskflow.protocol.daemon_views import (
    ReloadInfo as ReloadInfo,
)
from taskflow.protocol.daemon_views import (
    StatusInfo as StatusInfo,
)
from taskflow.protocol.daemon_views import (
    SystemdInfo as SystemdInfo,
)
from taskflow.protocol.events import (
    EVENT_TYPES as EVENT_TYPES,
)
from taskflow.protocol.events import (
    TOPIC_ATTEMPTS as TOPIC_ATTEMPTS,
)
from taskflow.protocol.events import (
    TOPIC_BREAKERS as TOPIC_BREAKERS,
)
from taskflow.protocol.events import (
    TOPIC_LOGS as TOPIC_LOGS,
)
from taskflow.protocol.events import (
    TOPIC_RUNS as TOPIC_RUNS,
)
from taskflow.protocol.events import (
    TOPIC_STATS as TOPIC_STATS,
)
from taskflow.protocol.events import (
    TOPIC_TASKS as TOPIC_TASKS,
)
from taskflow.protocol.events import (
    TOPICS as TOPICS,
)
from taskflow.protocol.events import (
    AttemptChanged as AttemptChanged,
)
from taskflow.protocol.events import (
    BreakerChanged as BreakerChanged,
)
from taskflow.protocol.events import (
    DaemonStats as DaemonStats,
)
from taskflow.protocol.events import (
    Event as Event,
)
from taskflow.protocol.events import (
    LogLines as LogLines,
)
from taskflow.protocol.events import (
    Resync as Resync,
)
from taskflow.protocol.events import (
    RunChanged as RunChanged,
)
from taskflow.protocol.events import (
    TaskChanged as TaskChanged,
)
from taskflow.protocol.events import (
    TaskRemoved as TaskRemoved,
)
from taskflow.protocol.events import (
    TasksReloaded as TasksReloaded,
)
from taskflow.protocol.events import (
    event_run_ids as event_run_ids,
)
from taskflow.protocol.framing import (
    MAX_FRAME as MAX_FRAME,
)
from taskflow.protocol.framing import (
    FrameError as FrameError,
)
from taskflow.protocol.framing import (
    FrameReader as FrameReader,
)
from taskflow.protocol.framing import (
    ProtocolError as ProtocolError,
)
from taskflow.protocol.framing import (
    decode_body as decode_body,
)
from taskflow.protocol.framing import (
    encode_body as encode_body,
)
from taskflow.protocol.framing import (
    encode_frame as encode_frame,
)
from taskflow.protocol.framing import (
    frame_body as frame_body,
)
from taskflow.protocol.messages import (
    CLIENT_DECODER as CLIENT_DECODER,
)
from taskflow.protocol.messages import (
    SERVER_DECODER as SERVER_DECODER,
)
from taskflow.protocol.messages import (
    ClientMessage as ClientMessage,
)
from taskflow.protocol.messages import (
    Push as Push,
)
from taskflow.protocol.messages import (
    ServerMessage as ServerMessage,
)
from taskflow.protocol.plan import (
    PLAN_PAGE as PLAN_PAGE,
)
from taskflow.protocol.plan import (
    PlannedNode as PlannedNode,
)
from taskflow.protocol.plan import (
    PlanTask as PlanTask,
)
from taskflow.protocol.plan import (
    TaskPlan as TaskPlan,
)
from taskflow.protocol.replies import (
    PROTOCOL_VERSION as PROTOCOL_VERSION,
)
from taskflow.protocol.replies import (
    Error as Error,
)
from taskflow.protocol.replies import (
    ErrorCode as ErrorCode,
)
from taskflow.protocol.replies import (
    Hello as Hello,
)
from taskflow.protocol.replies import (
    Ok as Ok,
)
from taskflow.protocol.replies import (
    Welcome as Welcome,
)
from taskflow.protocol.replies import (
    mismatch_message as mismatch_message,
)
from taskflow.protocol.replies import (
    result_payload as result_payload,
)
from taskflow.protocol.request_base import (
    Request as Request,
)
from taskflow.protocol.request_base import (
    response_type as response_type,
)
from taskflow.protocol.request_base import (
    result_decoder as result_decoder,
)
from taskflow.protocol.task_requests import (
    MUTATING_REQUESTS as MUTATING_REQUESTS,
)
from taskflow.protocol.task_requests import (
    REQUEST_TYPES as REQUEST_TYPES,
)
from taskflow.protocol.task_requests import (
    RESPONSE_TYPES as RESPONSE_TYPES,
)
from taskflow.protocol.task_requests import (
    AnyRequest as AnyRequest,
)
from taskflow.protocol.task_requests import (
    Cancel as Cancel,
)
from taskflow.protocol.task_requests import (
    DisableTask as DisableTask,
)
from taskflow.protocol.task_requests import (
    EnableTask as EnableTask,
)
from taskflow.protocol.task_requests import (
    Exec as Exec,
)
from taskflow.protocol.task_requests import (
    GetRun as GetRun,
)
from taskflow.protocol.task_requests import (
    GetTask as GetTask,
)
from taskflow.protocol.task_requests import (
    ListAudit as ListAudit,
)
from taskflow.protocol.task_requests import (
    ListBreakers as ListBreakers,
)
from taskflow.protocol.task_requests import (
    ListRuns as ListRuns,
)
from taskflow.protocol.task_requests import (
    ListTasks as ListTasks,
)
from taskflow.protocol.task_requests import (
    Mark as Mark,
)
from taskflow.protocol.task_requests import (
    PageRunTree as PageRunTree,
)
from taskflow.protocol.task_requests import (
    PageTasks as PageTasks,
)
from taskflow.protocol.task_requests import (
    Pause as Pause,
)
from taskflow.protocol.task_requests import (
    ReadLogs as ReadLogs,
)
from taskflow.protocol.task_requests import (
    Rerun as Rerun,
)
from taskflow.protocol.task_requests import (
    ResetBreaker as ResetBreaker,
)
from taskflow.protocol.task_requests import (
    Resume as Resume,
)
from taskflow.protocol.task_requests import (
    ShowRun as ShowRun,
)
from taskflow.protocol.task_requests import (
    SummarizeRun as SummarizeRun,
)
from taskflow.protocol.task_requests import (
    TriggerTask as TriggerTask,
)
from taskflow.protocol.task_requests import (
    TripBreaker as TripBreaker,
)
from taskflow.protocol.task_views import (
    LogChunk as LogChunk,
)
from taskflow.protocol.task_views import (
    LogStream as LogStream,
)
from taskflow.protocol.task_views import (
    RunRef as RunRef,
)
from taskflow.protocol.task_views import (
    RunSummary as RunSummary,
)
from taskflow.protocol.task_views import (
    TaskInfo as TaskInfo,
)
from taskflow.protocol.task_views import (
    TaskPage as TaskPage,
)
from taskflow.protocol.task_views import (
    TreePage as TreePage,
)
