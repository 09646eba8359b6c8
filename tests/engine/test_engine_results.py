"""Results that flow: shell and Python tasks read their dependencies' results, with real
processes, through TASKFLOW_UPSTREAM_<NAME>_RESULT and ``Context.upstream``."""

from __future__ import annotations

from taskflow.model import RunState

PYTASKS = '''
import msgspec

import taskflow


class Totals(msgspec.Struct):
    rows: int
    source: str


@taskflow.task
def count() -> dict:
    return {"rows": 42, "source": "orders"}


@taskflow.task
def check(ctx: taskflow.Context) -> str:
    totals = ctx.upstream("count", Totals)          # typed, by dependency name
    listing = ctx.upstream("list-files")            # a command's JSON result
    note = ctx.upstream("note")                     # a command's text result
    try:
        ctx.upstream("silent")
    except LookupError as exc:
        missing = str(exc)
    return f"{totals.rows} {totals.source} {sorted(listing)} {note!r} | {missing}"
'''

TASKS = """
[tasks.flow]
[tasks.flow.children.count]
python = "flowtasks:count"
[tasks.flow.children.list-files]
command = '''printf '["b", "a"]' > "$TASKFLOW_RESULT"'''
[tasks.flow.children.note]
command = 'echo "all good" > "$TASKFLOW_RESULT"'
[tasks.flow.children.silent]
command = "true"
[tasks.flow.children.check]
python = "flowtasks:check"
depends_on = ["count", "list-files", "note", "silent"]
[tasks.flow.children.report]
command = 'cat "$TASKFLOW_UPSTREAM_COUNT_RESULT"; echo; echo "state=$TASKFLOW_UPSTREAM_COUNT_STATE"'
depends_on = ["count"]
"""


async def test_results_flow_to_python_and_shell_dependents(make_engine) -> None:
    h = await make_engine(TASKS, files={"flowtasks.py": PYTASKS})
    tree = await h.wait((await h.engine.trigger("flow")).id)
    runs = {node.run.task: node for node in tree.walk()}
    assert tree.run.state is RunState.SUCCEEDED, [(t, n.run.state, n.run.message) for t, n in runs.items()]
    assert runs["flow/list-files"].run.result == ["b", "a"]  # a command's result is its run's too
    assert runs["flow/note"].run.result == "all good"
    assert runs["flow/silent"].run.result is None
    check = runs["flow/check"].run.result
    assert check.startswith("42 orders ['a', 'b'] 'all good' | ")
    assert "dependency 'silent' (succeeded) left no result" in check
    report = runs["flow/report"].attempts[-1]
    stdout = (h.engine.executor.locate_output(runs["flow/report"].run.id, report.number) + "/stdout")
    with open(stdout) as f:
        assert f.read() == '{"rows":42,"source":"orders"}\nstate=succeeded\n'
