"""What the keys do to the daemon: rerun, cancel, toggle, trigger, pause, trip and reset.

Each action checks the role first (a viewer gets one sentence, not a round trip that
fails), asks for confirmation where the action is dangerous (the default answer is No) or
for a reason where one is recorded (disabling), and reports the daemon's answer as one
notification. Bulk forms act on every marked item.
"""

from __future__ import annotations

from typing import Any

from textual.app import App

from taskflow.model import RunState
from taskflow.protocol import (
    Cancel,
    DisableTask,
    EnableTask,
    Mark,
    Pause,
    PauseInfo,
    Rerun,
    ResetBreaker,
    Resume,
    TriggerTask,
    TripBreaker,
)
from taskflow.tui.bindings import viewer_reason
from taskflow.tui.screens.confirm import ConfirmScreen
from taskflow.tui.screens.disable import DisableScreen
from taskflow.tui.screens.params import ParamsScreen
from taskflow.tui.session import Session


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _names(names: list[str]) -> str:
    return ", ".join(names[:3]) + (" …" if len(names) > 3 else "")


def _run_ids(run_ids: list[str], limit: int = 12) -> str:
    """The runs a bulk action will touch, as the run tree shows them (last six characters)."""
    shown = ", ".join(i[-6:].lower() for i in run_ids[:limit])
    return shown + (f" and {len(run_ids) - limit} more" if len(run_ids) > limit else "")


class DaemonActions:
    """Mutations issued from any screen, sharing confirmation and error reporting.

    ``session`` is what they read and send through; ``ui`` is the app where their dialogs
    open, their notifications show and their requests run as workers.
    """

    def __init__(self, session: Session, ui: App[Any]) -> None:
        self.session = session
        self.ui = ui

    def _allowed(self) -> bool:
        if self.session.world.can_mutate:
            return True
        self.ui.notify(viewer_reason(forced=self.session.world.read_only), severity="warning")
        return False

    def _confirm_then(self, question: str, detail: str, work: Any) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.ui.run_worker(work(), group="daemon-actions")

        self.ui.push_screen(ConfirmScreen(question, detail), answered)

    # -- runs -----------------------------------------------------------------------------

    def rerun(self, run_ids: list[str], *, failed_only: bool = False) -> None:
        if not self._allowed() or not run_ids:
            return

        async def work() -> None:
            started = []
            for run_id in run_ids:
                ref = await self.session.request(Rerun(run_id=run_id, failed_only=failed_only))
                if ref is not None:
                    started.append(ref.id)
            if started:
                what = "failed parts of " if failed_only else ""
                self.ui.notify(f"Rerunning {what}{_plural(len(started), 'run')}: {', '.join(i[-6:].lower() for i in started)}.")

        if len(run_ids) > 1:
            self._confirm_then(f"Rerun {_plural(len(run_ids), 'run')}?", f"Runs {_run_ids(run_ids)}.", work)
        else:
            self.ui.run_worker(work(), group="daemon-actions")

    def mark(self, run_ids: list[str], state: RunState, reason: str) -> None:
        """``:mark succeeded REASON``: the selected runs that ended without succeeding are
        marked ``state`` (confirmed, audited); what waited on them runs."""
        if not self._allowed():
            return
        world = self.session.world
        # Runs the live world knows are checked here; older ones (the history's) by the daemon.
        ended = [i for i in run_ids if (run := world.runs.get(i)) is None
                 or (run.state.terminal and run.state is not RunState.SUCCEEDED)]
        if not ended:
            self.ui.notify("Nothing to mark: select a run that ended without succeeding.", severity="warning")
            return
        names = _names([world.runs[i].task if i in world.runs else i[-6:].lower() for i in ended])

        async def work() -> None:
            done = 0
            for run_id in ended:
                if await self.session.request(Mark(run_id=run_id, state=state, reason=reason)) is not None:
                    done += 1
            if done:
                self.ui.notify(f"Marked {_plural(done, 'run')} {state}: what waited on it runs now.", markup=False)

        self._confirm_then(f"Mark {names} {state}?", f"Reason: {reason}. Kept with the run and in the audit log.",
                           work)

    def cancel(self, run_ids: list[str]) -> None:
        if not self._allowed() or not run_ids:
            return
        world = self.session.world
        active = [i for i in run_ids if i in world.runs and not world.runs[i].state.terminal]
        if not active:
            self.ui.notify("Nothing to cancel: the selected runs have already finished.", severity="warning")
            return
        names = ", ".join(world.runs[i].task for i in active[:3]) + (" …" if len(active) > 3 else "")

        async def work() -> None:
            done = 0
            for run_id in active:
                if await self.session.request(Cancel(run_id=run_id)) is not None:
                    done += 1
            if done:
                self.ui.notify(f"Cancelled {_plural(done, 'run')}.")

        detail = f"{names} — the whole tree stops."
        if len(active) > 1:
            detail = f"Runs {_run_ids(active)} ({names}) — each whole tree stops."
        self._confirm_then(f"Cancel {_plural(len(active), 'run')}?", detail, work)

    # -- tasks ----------------------------------------------------------------------------

    def toggle(self, names: list[str]) -> None:
        """Flip each task: disabling asks why first (esc sends nothing); enabling does not ask."""
        if not self._allowed() or not names:
            return
        tasks = [self.session.world.tasks[n] for n in names if n in self.session.world.tasks]
        to_disable = [t.name for t in tasks if t.enabled]
        to_enable = [t.name for t in tasks if not t.enabled]

        async def work(reason: str) -> None:
            disabled: list[str] = []
            enabled: list[str] = []
            for task in tasks:
                request = DisableTask(name=task.name, reason=reason) if task.enabled else EnableTask(name=task.name)
                info = await self.session.request(request)
                if info is not None:
                    self.session.apply_task(info)
                    (disabled if task.enabled else enabled).append(task.name)
            done = [f"Disabled {_names(disabled)} ({reason})"] if disabled else []
            done += [f"Enabled {_names(enabled)}"] if enabled else []
            if done:
                # The reason is the operator's own text: shown as typed, never as markup.
                self.ui.notify("; ".join(done) + ".", markup=False)

        if not to_disable:
            self.ui.run_worker(work(""), group="daemon-actions")
            return

        def answered(reason: str | None) -> None:
            if reason is not None:
                self.ui.run_worker(work(reason), group="daemon-actions")

        if len(to_disable) == 1:
            question, detail = f"Disable {to_disable[0]}?", ""
        else:
            question, detail = f"Disable {_plural(len(to_disable), 'task')}?", _names(to_disable) + "."
        if to_enable:
            detail += f" Also enables {_names(to_enable)}."
        detail += " Disabled tasks cannot run or fire on schedule."
        self.ui.push_screen(DisableScreen(question, detail.strip()), answered)

    def trigger(self, name: str) -> None:
        """Start a run of ``name``: first "Run NAME?" (default No) unless the config's
        ``confirm_run = false`` turned that off, then its params when its spec has any."""
        if not self._allowed():
            return
        info = self.session.world.tasks.get(name)
        if info is not None and not info.enabled:
            self.ui.notify(f"{name} is disabled ({info.disabled_reason or 'by hand'}); enable it first.", severity="warning")
            return

        async def start(params: dict[str, Any]) -> None:
            ref = await self.session.request(TriggerTask(task=name, params=params))
            if ref is not None:
                self.ui.notify(f"Started {name} as run {ref.id[-6:].lower()}.")

        async def work() -> None:
            spec = await self.session.task_spec(name)
            if spec is not None and spec.params:
                def chosen(params: dict[str, Any] | None) -> None:
                    if params is not None:
                        self.ui.run_worker(start(params), group="daemon-actions")

                self.ui.push_screen(ParamsScreen(name, dict(spec.params)), chosen)
            else:
                await start({})

        if self.session.confirm_run:
            detail = "Starts a manual run now (confirm_run = false in the config skips this question)."
            self._confirm_then(f"Run {name}?", detail, work)
        else:
            self.ui.run_worker(work(), group="daemon-actions")

    # -- pauses ---------------------------------------------------------------------------

    def toggle_pause(self, names: list[str]) -> None:
        """``p``: pause each task (its subtree's queued runs wait) or resume it. A task held
        only by its pool's or everything's pause is not resumed one by one: the notice names
        the ``:resume`` that frees it."""
        if not self._allowed() or not names:
            return
        status = self.session.world.status
        pauses = status.paused if status is not None and status.paused is not None else PauseInfo()
        to_resume = [n for n in names if n in pauses.tasks]
        to_pause = [n for n in names if n not in pauses.tasks]
        held_elsewhere = [n for n in to_pause if (info := self.session.world.tasks.get(n)) is not None and info.paused]
        if held_elsewhere and not to_resume and len(held_elsewhere) == len(to_pause):
            why = "everything is paused (:resume all)" if pauses.all else "its pool or a group above it is paused (:resume pool NAME)"
            self.ui.notify(f"{_names(held_elsewhere)}: {why}.", severity="warning", markup=False)
            return

        async def work() -> None:
            done: list[str] = []
            for name in names:
                request = Resume(task=name) if name in to_resume else Pause(task=name)
                if (now := await self.session.request(request)) is not None:
                    self._apply_pauses(now)
                    done.append(("Resumed " if name in to_resume else "Paused ") + name)
            if done:
                self.ui.notify("; ".join(done) + ".", markup=False)

        if to_pause and to_resume:
            question = f"Pause {_names(to_pause)} and resume {_names(to_resume)}?"
        elif to_pause:
            question = f"Pause {_names(to_pause)}?"
        else:
            question = f"Resume {_names(to_resume)}?"
        self._confirm_then(question, "Paused tasks' queued runs wait; running ones go on.", work)

    def _apply_pauses(self, now: PauseInfo) -> None:
        """The daemon's answer is the pauses now: a second ``p`` must not wait for the next
        status figures (a second) to know the task is paused."""
        status = self.session.world.status
        if status is not None:
            status.paused = now if now.any else None

    def pause_scope(self, *, resume: bool, scope: str, name: str | None = None) -> None:
        """``:pause all``, ``:pause pool NAME``, ``:resume task NAME``… (confirmed)."""
        if not self._allowed():
            return
        fields = {"all": {"all": True}, "pool": {"pool": name}, "task": {"task": name}}.get(scope)
        if fields is None or (scope != "all" and not name):
            self.ui.notify("Say what: :pause all, :pause pool NAME or :pause task NAME (and the same for :resume).",
                           severity="warning")
            return
        what = "everything" if scope == "all" else f"{scope} {name}"
        verb = "Resume" if resume else "Pause"

        async def work() -> None:
            request = Resume(**fields) if resume else Pause(**fields)
            if (now := await self.session.request(request)) is not None:
                self._apply_pauses(now)
                self.ui.notify(f"{verb}d {what}.", markup=False)

        detail = ("Held runs start now; schedules follow their missed-fire policy." if resume
                  else "Queued runs wait until resumed; running ones go on.")
        self._confirm_then(f"{verb} {what}?", detail, work)

    # -- breakers -------------------------------------------------------------------------

    def trip(self, service: str) -> None:
        if not self._allowed():
            return

        async def work() -> None:
            state = await self.session.request(TripBreaker(service=service))
            if state is not None:
                self.session.apply_breaker(state)
                self.ui.notify(f"Tripped the {service} breaker: its tasks wait until it is reset.")

        self._confirm_then(f"Trip the {service} breaker?", "Runs using this service will be blocked.", work)

    def reset(self, service: str) -> None:
        if not self._allowed():
            return

        async def work() -> None:
            state = await self.session.request(ResetBreaker(service=service))
            if state is not None:
                self.session.apply_breaker(state)
                self.ui.notify(f"Reset the {service} breaker.")

        self._confirm_then(f"Reset the {service} breaker?", "Blocked runs will be let through.", work)


