"""k9s-style ``:`` commands in the command palette: ``:runs``, ``:breakers``, ``:host NAME``,
``:pause pool db``, ``:resume all``, ``:mark succeeded REASON``…

``:`` opens Textual's command palette; this provider puts the k9s words beside its fuzzy
matches, so ``runs`` (or ``:runs``) then enter shows the History view. ``:hosts`` and
``:host NAME`` go through the app's ``show_hosts`` / ``switch_host`` hooks (the fleet's Hosts
view plugs in there).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Protocol, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

#: word -> (view mode, what it shows)
VIEW_WORDS: dict[str, tuple[str, str]] = {
    "dashboard": ("dashboard", "task tree, live runs, detail and logs"),
    "tasks": ("dashboard", "task tree, live runs, detail and logs"),
    "runs": ("history", "run history, newest first"),
    "history": ("history", "run history, newest first"),
    "breakers": ("breakers", "circuit breakers"),
    "audit": ("audit", "who did what"),
}


class Commander(Protocol):
    """What the commands need from the app."""

    def switch_mode(self, mode: str) -> object: ...

    def show_hosts(self) -> None: ...

    def switch_host(self, name: str) -> None: ...

    def pause_work(self, resume: bool, scope: str, name: str | None) -> None: ...

    def mark_runs(self, state: str, reason: str) -> None: ...


#: ``:pause`` / ``:resume`` scopes and what each needs after it.
PAUSE_SCOPES = {"all": "", "pool": " NAME", "task": " NAME"}
#: ``:mark`` states and what each does to the selected run.
MARK_STATES = {"succeeded": "as if it had succeeded: its dependents run",
               "skipped": "skipped by an operator: its dependents run"}


def parse(query: str) -> tuple[str, str]:
    """``":host web-1"`` → ``("host", "web-1")``; the leading ``:`` is optional."""
    word, _, argument = query.strip().removeprefix(":").strip().partition(" ")
    return word.lower(), argument.strip()


class ColonCommands(Provider):
    """``:runs``, ``:breakers``, ``:audit``, ``:dashboard``, ``:hosts``, ``:host NAME``."""

    @property
    def commander(self) -> Commander:
        return cast("Commander", self.app)

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app = self.commander
        commands: list[tuple[str, Callable[[], object], str]] = [
            (f":{word}", partial(app.switch_mode, mode), f"Show {text}")
            for word, (mode, text) in VIEW_WORDS.items()
        ]
        commands.append((":hosts", app.show_hosts, "Show every host of hosts.toml"))
        return commands

    async def discover(self) -> Hits:
        for name, command, help_text in self._commands():
            yield DiscoveryHit(name, command, help=help_text)

    async def search(self, query: str) -> Hits:
        word, argument = parse(query)
        if word == "host" and argument:
            yield Hit(1.0, f":host {argument}", partial(self.commander.switch_host, argument),
                      text=f":host {argument}", help=f"Drive the daemon on {argument}")
            return
        if word in ("pause", "resume"):
            scope, _, name = argument.partition(" ")
            if scope in PAUSE_SCOPES and (scope == "all" or name.strip()):
                what = f"{word} {scope} {name.strip()}".strip()
                action = partial(self.commander.pause_work, word == "resume", scope, name.strip() or None)
                yield Hit(1.0, f":{what}", action, text=f":{what}",
                          help="Hold queued work (running work goes on)" if word == "pause" else "Release held work")
                return
            for scope, tail in PAUSE_SCOPES.items():  # say what may follow
                yield Hit(0.5, f":{word} {scope}{tail}", partial(self.commander.pause_work, word == "resume", scope, None),
                          text=f":{word} {scope}{tail}", help=f"{word.capitalize()} {scope if scope == 'all' else 'one ' + scope}")
            return
        if word == "mark":
            state, _, reason = argument.partition(" ")
            if state in MARK_STATES and reason.strip():
                text = f":mark {state} {reason.strip()}"
                yield Hit(1.0, text, partial(self.commander.mark_runs, state, reason.strip()), text=text,
                          help=f"Mark the selected run {MARK_STATES[state]}")
                return
            for state, what in MARK_STATES.items():  # say what may follow: a reason is required
                yield Hit(0.5, f":mark {state} REASON", partial(self.commander.mark_runs, state, ""),
                          text=f":mark {state} REASON", help=f"Mark the selected run {what}")
            return
        matcher = self.matcher(":" + word if word else query)
        for name, command, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), command, text=name, help=help_text)
