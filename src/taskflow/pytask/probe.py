"""Import task modules in a throw-away process before the daemon imports them itself.

A task module runs arbitrary code at import. ``resolve`` already turns an exception or
``sys.exit`` into an orphaned task, but ``os._exit``, a crash of an extension module or an
import that never finishes would take the daemon down with it. So the daemon first imports
every referenced module here, in a child process with a deadline; only what imported cleanly
is then imported in the daemon (which needs the functions for parameter checks).

Protocol: the parent writes ``[[ref, [path, ...]], ...]`` as JSON on stdin; the child answers
on the stdout it was started with, one JSON line ``{"i": n, "start": true}`` before importing
the n-th reference and ``{"i": n, "problem": null | "..."}`` after. Anything the modules
print goes to stderr. When the child dies or stalls, the reference it had started on gets the
blame and the rest are probed again in a fresh child.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from taskflow.model import TaskSpec

IMPORT_TIMEOUT = 20.0  # seconds one module may take to import

Ref = tuple[str, tuple[str, ...]]  # ("module:function", search paths)


def module_search_paths(source: str | None, python_path: Sequence[str] = ()) -> list[str]:
    """Where a task's module is looked for: its task file's folder, then ``python_path``."""
    paths = [os.path.dirname(os.path.realpath(source))] if source and source != "exec" else []
    return paths + list(python_path)


def probe(
    refs: Sequence[Ref], timeout: float = IMPORT_TIMEOUT, env: Mapping[str, str] | None = None
) -> dict[Ref, str | None]:
    """The problem of each reference (None when it resolves), without importing anything here.
    ``env`` is the child's environment (the daemon passes what its tasks get)."""
    results: dict[Ref, str | None] = {}
    pending = list(dict.fromkeys(refs))
    while pending:
        answered, blamed = _probe_once(pending, timeout, env)
        results.update(answered)
        if blamed is not None:
            ref, problem = blamed
            results[ref] = problem
        pending = [ref for ref in pending if ref not in results]
        if pending and blamed is None:  # the child ended without blaming anyone: give up on the rest
            results.update(dict.fromkeys(pending, "the module check ended early; see the daemon log"))
            pending = []
    return results


def probe_tasks(
    specs: Iterable[TaskSpec],
    python_path: Sequence[str] = (),
    timeout: float = IMPORT_TIMEOUT,
    env: Mapping[str, str] | None = None,
) -> list[tuple[TaskSpec, str]]:
    """Each Python task among ``specs`` whose function does not resolve, with the reason;
    tasks naming the same function from the same folder share one import."""
    users: dict[Ref, list[TaskSpec]] = {}
    for spec in specs:
        if spec.kind == "python" and spec.python:
            users.setdefault((spec.python, tuple(module_search_paths(spec.source, python_path))), []).append(spec)
    if not users:
        return []
    return [
        (spec, problem)
        for ref, problem in probe(list(users), timeout, env).items()
        if problem is not None
        for spec in users[ref]
    ]


def _probe_once(
    refs: list[Ref], timeout: float, env: Mapping[str, str] | None
) -> tuple[dict[Ref, str | None], tuple[Ref, str] | None]:
    child = subprocess.Popen(
        [sys.executable, "-m", "taskflow.pytask.probe"],
        env=None if env is None else dict(env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        child.stdin.write(json.dumps([[ref, list(paths)] for ref, paths in refs]).encode())
        child.stdin.close()
    except BrokenPipeError:
        pass
    answered: dict[Ref, str | None] = {}
    current: Ref | None = None
    deadline = time.monotonic() + timeout
    buffer = b""
    fd = child.stdout.fileno()
    try:
        while True:
            wait = deadline - time.monotonic()
            if wait <= 0:
                if current is None:
                    return answered, None
                return answered, (current, f"importing {current[0]} did not finish within {timeout:g}s")
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                message = json.loads(line)
                ref = refs[message["i"]]
                if message.get("start"):
                    current, deadline = ref, time.monotonic() + timeout
                else:
                    answered[ref], current = message["problem"], None
        code = child.wait()
        if current is None:
            return answered, None
        how = f"signal {-code}" if code < 0 else f"exit status {code}"
        return answered, (current, f"importing {current[0]} ended the process ({how})")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()


def main() -> int:
    """The child: resolve each reference, reporting before and after every import."""
    refs = json.loads(sys.stdin.buffer.read() or b"[]")
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # whatever the modules print must not mix with the answers
    from taskflow.pytask.resolve import ResolveError, resolve

    for i, (ref, paths) in enumerate(refs):
        answers.write(json.dumps({"i": i, "start": True}) + "\n")
        try:
            resolve(ref, paths)
            problem = None
        except ResolveError as exc:
            problem = str(exc)
        except BaseException as exc:  # noqa: BLE001 - user code may raise anything, SystemExit too
            problem = f"importing {ref} failed: {type(exc).__name__}: {exc}"
        answers.write(json.dumps({"i": i, "problem": problem}) + "\n")
    answers.flush()
    os._exit(0)  # no atexit handlers or threads of task modules may keep the child alive


if __name__ == "__main__":
    sys.exit(main())
