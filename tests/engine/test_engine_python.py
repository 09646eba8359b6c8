"""Python tasks through the engine: params, Context, crashes and hangs, in child processes."""

from __future__ import annotations

import pytest

from taskflow.engine.errors import EngineError
from taskflow.model import RunState

PYTASKS = '''
import asyncio
import os
import time

import taskflow


@taskflow.task
def count_rows(rows: int, label: str, ctx: taskflow.Context) -> dict:
    for i in range(rows):
        ctx.progress((i + 1) / rows, f"row {i + 1}")
    ctx.log(f"{label}: checked {rows} rows in run {ctx.run_id}")
    return {"rows": rows, "label": label, "attempt": ctx.attempt}


@taskflow.task
async def fetch(delay: float = 0.1) -> str:
    await asyncio.sleep(delay)
    return "fetched"


@taskflow.task
def crash() -> None:
    os._exit(3)


@taskflow.task
def hang() -> None:
    time.sleep(60)


@taskflow.task
def boom(n: int) -> None:
    raise ValueError(f"bad row {n}")
'''

TASKS = """
[tasks.count]
python = "pytasks:count_rows"
params = { rows = 5, label = "orders" }
[tasks.fetch]
python = "pytasks:fetch"
[tasks.crash]
python = "pytasks:crash"
[tasks.hang]
python = "pytasks:hang"
timeout = 1
[tasks.boom]
python = "pytasks:boom"
params = { n = 7 }
[tasks.missing]
python = "pytasks:not_there"
[tasks.quick]
command = "echo quick"
"""


async def test_sync_and_async_functions_with_params_and_context(make_engine):
    h = await make_engine(TASKS, files={"pytasks.py": PYTASKS})
    count = await h.wait((await h.engine.trigger("count", {"rows": 4})).id)
    assert count.run.state is RunState.SUCCEEDED
    assert count.run.result == {"rows": 4, "label": "orders", "attempt": 1}
    assert count.run.progress == 1.0
    fetch = await h.wait((await h.engine.trigger("fetch")).id)
    assert fetch.run.result == "fetched"


async def test_crash_and_hang_end_correctly_while_others_keep_running(make_engine):
    h = await make_engine(TASKS, files={"pytasks.py": PYTASKS})
    hang = await h.engine.trigger("hang")
    crash = await h.engine.trigger("crash")
    quick = await h.engine.trigger("quick")
    quick_tree = await h.wait(quick.id)
    assert quick_tree.run.state is RunState.SUCCEEDED
    crash_tree = await h.wait(crash.id)
    assert crash_tree.run.state is RunState.FAILED
    assert crash_tree.run.exit_code == 3
    hang_tree = await h.wait(hang.id, timeout=15)
    assert hang_tree.run.state is RunState.FAILED
    assert hang_tree.run.error_type == "timeout"
    assert quick_tree.run.finished_at < hang_tree.run.finished_at


async def test_exception_is_recorded_and_bad_params_are_config_errors(make_engine):
    h = await make_engine(TASKS, files={"pytasks.py": PYTASKS})
    boom = await h.wait((await h.engine.trigger("boom")).id)
    assert boom.run.state is RunState.FAILED
    assert boom.run.error_type == "exception"
    assert "ValueError" in boom.run.message and "bad row 7" in boom.run.message

    with pytest.raises(EngineError) as bad:
        await h.engine.trigger("count", {"rows": "many"})
    assert "rows" in bad.value.message


async def test_unresolvable_function_orphans_the_task(make_engine):
    h = await make_engine(TASKS, files={"pytasks.py": PYTASKS})
    status = h.engine.status["missing"]
    assert status.orphaned and not status.enabled
    assert "not_there" in status.reason
    with pytest.raises(EngineError) as refused:
        await h.engine.trigger("missing")
    assert refused.value.code == "conflict"


async def test_edited_task_module_is_picked_up_on_reload(make_engine):
    import os
    import time

    from taskflow.taskfile import load_paths

    module = "import taskflow\n\n@taskflow.task\ndef first() -> int:\n    return 1\n"
    h = await make_engine(
        '[tasks.first]\npython = "hotmod:first"\n[tasks.second]\npython = "hotmod:second"\n',
        files={"hotmod.py": module},
    )
    assert h.engine.status["second"].orphaned

    path = h.workdir / "tasks" / "hotmod.py"
    path.write_text(module + "\n@taskflow.task\ndef second() -> int:\n    return 2\n")
    later = time.time() + 5  # a distinct mtime even on coarse-grained filesystems
    os.utime(path, (later, later))
    h.engine.update_tasks(load_paths([h.workdir / "tasks"]))
    assert not h.engine.status["second"].orphaned
    tree = await h.wait((await h.engine.trigger("second")).id)
    assert tree.run.result == 2


async def test_module_that_exits_or_raises_at_import_orphans_only_its_task(make_engine):
    h = await make_engine(
        '[tasks.exits]\npython = "exiter:f"\n[tasks.raises]\npython = "raiser:f"\n[tasks.fine]\ncommand = "true"\n',
        files={"exiter.py": "import sys\nsys.exit(3)\n", "raiser.py": "raise RuntimeError('no db')\n"},
    )
    assert h.engine.status["exits"].orphaned and "SystemExit" in h.engine.status["exits"].reason
    assert h.engine.status["raises"].orphaned and "no db" in h.engine.status["raises"].reason
    assert (await h.wait((await h.engine.trigger("fine")).id)).run.state == "succeeded"


async def test_module_that_kills_or_hangs_its_importer_orphans_only_its_task(make_engine):
    """Modules are imported in a probe process first: ``os._exit`` or an endless import at
    module level orphans the task and never reaches the engine's own process."""
    import sys

    h = await make_engine(
        '[tasks.killer]\npython = "killer:f"\n[tasks.stuck]\npython = "stuck:f"\n'
        '[tasks.fine]\npython = "finemod:f"\n',
        files={
            "killer.py": "import os\nos._exit(7)\n",
            "stuck.py": "import time\nwhile True:\n    time.sleep(0.1)\n",
            "finemod.py": "import taskflow\nprint('chatty at import')\n\n@taskflow.task\ndef f() -> str:\n    return 'ok'\n",
        },
        import_timeout=2.0,
    )
    killer, stuck = h.engine.status["killer"], h.engine.status["stuck"]
    assert killer.orphaned and "ended the process (exit status 7)" in killer.reason
    assert stuck.orphaned and "did not finish within 2s" in stuck.reason
    assert "killer" not in sys.modules and "stuck" not in sys.modules
    tree = await h.wait((await h.engine.trigger("fine")).id)
    assert tree.run.state == "succeeded" and tree.run.result == "ok"
