"""The public names of ``taskflow.model``: the one list, read by type checkers and, at run
time, by ``taskflow._lazy.stub_exports`` (see ``__init__.py``).

Each name is written ``N as N``, a stub's way to re-export it (PEP 484); at run time it is
importable from the package and in ``__all__``. Add a name here and nowhere else.
"""

from taskflow.model.audit import (
    AuditEntry as AuditEntry,
)
from taskflow.model.audit import (
    Role as Role,
)
from taskflow.model.breaker import (
    BreakerState as BreakerState,
)
from taskflow.model.breaker import (
    BreakerStatus as BreakerStatus,
)
from taskflow.model.config import (
    DaemonConfig as DaemonConfig,
)
from taskflow.model.config import (
    RetentionConfig as RetentionConfig,
)
from taskflow.model.config import (
    StopMode as StopMode,
)
from taskflow.model.ids import (
    new_ulid as new_ulid,
)
from taskflow.model.placement import (
    ExecutorConfig as ExecutorConfig,
)
from taskflow.model.placement import (
    LocalClusterSettings as LocalClusterSettings,
)
from taskflow.model.placement import (
    Placement as Placement,
)
from taskflow.model.run import (
    ACTIVE_STATES as ACTIVE_STATES,
)
from taskflow.model.run import (
    TERMINAL_STATES as TERMINAL_STATES,
)
from taskflow.model.run import (
    Attempt as Attempt,
)
from taskflow.model.run import (
    ErrorType as ErrorType,
)
from taskflow.model.run import (
    Run as Run,
)
from taskflow.model.run import (
    RunState as RunState,
)
from taskflow.model.run import (
    RunTree as RunTree,
)
from taskflow.model.run import (
    SkipReason as SkipReason,
)
from taskflow.model.run import (
    Trigger as Trigger,
)
from taskflow.model.spec import (
    BreakerSettings as BreakerSettings,
)
from taskflow.model.spec import (
    Dependency as Dependency,
)
from taskflow.model.spec import (
    Limits as Limits,
)
from taskflow.model.spec import (
    OnOpen as OnOpen,
)
from taskflow.model.spec import (
    Priority as Priority,
)
from taskflow.model.spec import (
    RateLimit as RateLimit,
)
from taskflow.model.spec import (
    RetryPolicy as RetryPolicy,
)
from taskflow.model.spec import (
    RunIf as RunIf,
)
from taskflow.model.spec import (
    Schedule as Schedule,
)
from taskflow.model.spec import (
    ServiceSpec as ServiceSpec,
)
from taskflow.model.spec import (
    TaskFileError as TaskFileError,
)
from taskflow.model.spec import (
    TaskSet as TaskSet,
)
from taskflow.model.spec import (
    TaskSpec as TaskSpec,
)
from taskflow.model.units import (
    format_duration as format_duration,
)
from taskflow.model.units import (
    format_size as format_size,
)
from taskflow.model.units import (
    parse_duration as parse_duration,
)
from taskflow.model.units import (
    parse_size as parse_size,
)
