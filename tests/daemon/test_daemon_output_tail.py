"""``logs`` subscribers get every line a task prints, the last ones too.

A one-leaf tree leaves the engine right after its end is committed, often before the tail's
next look (every 0.2 s): the tail must still read what the attempt wrote last, including a
final line without a newline and late stderr.
"""

from __future__ import annotations

import time

from taskflow.protocol import LogLines, TriggerTask


def test_a_short_task_streams_its_last_lines_and_a_line_without_newline(daemon, wait_terminal):
    daemon.write_tasks(
        '[tasks.brief]\ncommand = "echo first; sleep 0.5; echo last; echo oops >&2; printf tail"\n'
    )
    daemon.start()
    with daemon.client() as watcher, daemon.client() as client:
        watcher.subscribe(["logs"])
        run_id = client.call(TriggerTask(task="brief")).id
        wait_terminal(client, run_id)
        seen: dict[str, list[str]] = {"stdout": [], "stderr": []}
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (seen["stdout"][-1:] != ["tail"] or not seen["stderr"]):
            push = watcher.next_push(0.5)
            if push is not None and isinstance(push.event, LogLines) and push.event.run_id == run_id:
                seen[push.event.stream].extend(push.event.lines)
    assert seen["stdout"] == ["first", "last", "tail"]
    assert seen["stderr"] == ["oops"]
