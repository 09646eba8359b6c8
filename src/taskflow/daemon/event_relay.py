"""Engine events → protocol events for socket subscribers, in one place.

The engine publishes typed events on its bus; clients get protocol events: runs without
their spec snapshot, attempts with their tree's root id, tasks as ``TaskInfo``. A run that
reaches a terminal state also refreshes its task (its last run changed). A reloaded task set
is announced by the daemon's reload itself (``TasksReloaded``, with the task file errors).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from taskflow.daemon.views import public_run
from taskflow.engine import events
from taskflow.protocol import AttemptChanged, BreakerChanged, RunChanged, TaskChanged, TasksReloaded
from taskflow.protocol.events import TOPIC_ATTEMPTS, TOPIC_BREAKERS, TOPIC_RUNS, TOPIC_TASKS

if TYPE_CHECKING:
    from taskflow.daemon.event_sink import EventSink
    from taskflow.daemon.views import DaemonViews
    from taskflow.engine.engine import Engine


class EventRelay:
    """Subscribed to the engine's bus: ``relay(event)`` publishes its protocol event to ``sink``."""

    def __init__(self, engine: Engine, views: DaemonViews, sink: EventSink) -> None:
        self.engine = engine
        self.views = views
        self.sink = sink

    def __call__(self, event: events.EngineEvent) -> None:
        sink = self.sink
        match event:
            case events.RunUpdated(run=run):
                sink.publish(TOPIC_RUNS, RunChanged(run=public_run(run)))
                if run.state.terminal and run.task in self.engine.tasks:
                    sink.publish(TOPIC_TASKS, TaskChanged(task=self.views.task_info(run.task)))
            case events.AttemptUpdated(attempt=attempt, root_id=root_id):
                sink.publish(TOPIC_ATTEMPTS, AttemptChanged(attempt=attempt, root_id=root_id))
            case events.BreakerChanged(state=state):
                sink.publish(TOPIC_BREAKERS, BreakerChanged(state=state))
            case events.TaskChanged(name=name) if name in self.engine.tasks:
                sink.publish(TOPIC_TASKS, TaskChanged(task=self.views.task_info(name)))
            case events.PausesChanged(names=names):
                if names is None:  # so many that clients re-list the tasks
                    sink.publish(TOPIC_TASKS, TasksReloaded(tasks=len(self.engine.tasks)))
                for name in names or ():
                    if name in self.engine.tasks:
                        sink.publish(TOPIC_TASKS, TaskChanged(task=self.views.task_info(name)))
            case events.TaskChanged() | events.TasksUpdated():
                pass  # a task gone by now; a reload announces itself (``TasksReloaded``)
