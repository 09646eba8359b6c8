"""``taskflow status --json`` loads only what it needs, and every lazy export still resolves.

Monitoring polls ``status --json``; its start-up is most of its cost, so the protocol, model
and package ``__init__`` modules export lazily (PEP 562) and the blocking client decodes
only replies until it subscribes. These tests run the real CLI in a fresh interpreter
against a real server on a real socket and assert on the modules it imported (names, not
times: the machine is shared).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

#: Modules whose presence would mean a heavy layer leaked onto the ``status --json`` path.
FORBIDDEN = (
    "asyncio",
    "logging",
    "json",
    "shutil",
    "socket",  # the client uses `_socket`
    "sqlite3",
    "textual",
    "rich",
    "taskflow.protocol.events",
    "taskflow.protocol.messages",
    "taskflow.protocol.task_requests",
    "taskflow.protocol.task_views",
    "taskflow.model.run",
    "taskflow.model.spec",
    "taskflow.model.config",
    "taskflow.pytask",
    "taskflow.engine",
    "taskflow.store",
    "taskflow.daemon",
    "taskflow.taskfile",
    "taskflow.tui",
    # the local daemon needs no hosts.toml and no ssh (issue 12)
    "subprocess",
    "tomllib",
    "taskflow.client.hosts",
    "taskflow.client.ssh",
    "taskflow.cli.fleet",
    # msgspec only prefers these (cli/startup.py); with them `status` started 25 ms slower
    "typing_extensions",
    "inspect",
    "ast",
)

#: Runs one CLI call the way the console script does (``argv`` from the command line), and
#: writes the names of every loaded module to a file from an ``os._exit`` hook, since the
#: quick exit skips ``atexit``.
PROBE = """
import os, sys
out_path, sys.argv = sys.argv[1], ["taskflow", *sys.argv[2:]]
real_exit = os._exit
def record_then_exit(code):
    with open(out_path, "w") as out:
        out.write("\\n".join(sorted(sys.modules)))
    real_exit(code)
os._exit = record_then_exit
from taskflow.cli.main import main
code = main()
record_then_exit(code)
"""


def loaded_modules(tmp_path: Path, *argv: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    listing = tmp_path / "modules.txt"
    done = subprocess.run([sys.executable, "-c", PROBE, str(listing), *argv],
                          capture_output=True, text=True, timeout=60)
    return done, set(listing.read_text().split("\n"))


def leaked(modules: set[str]) -> list[str]:
    return sorted(m for m in modules for heavy in FORBIDDEN if m == heavy or m.startswith(heavy + "."))


def test_status_json_loads_no_heavy_module(served: Any, tmp_path: Path) -> None:
    done, modules = loaded_modules(tmp_path, "--socket", served.path, "status", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["version"] == "t"  # a real answer went through
    assert leaked(modules) == []
    # and it did use the light halves of the protocol
    assert {"msgspec", "taskflow.protocol.replies", "taskflow.protocol.daemon_requests"} <= modules


def test_health_loads_no_heavy_module(served: Any, tmp_path: Path) -> None:
    done, modules = loaded_modules(tmp_path, "--socket", served.path, "health")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok")
    assert leaked(modules) == []


def test_unreachable_daemon_loads_no_heavy_module(sock_dir: str, tmp_path: Path) -> None:
    done, modules = loaded_modules(tmp_path, "--socket", f"{sock_dir}/none.sock", "status", "--json")
    assert done.returncode == 1
    assert "cannot reach taskflowd" in done.stderr
    assert leaked(modules) == []


def test_bare_imports_of_the_packages_load_nothing_below_them() -> None:
    probe = ("import sys, taskflow, taskflow.protocol, taskflow.model; "
             "print(' '.join(m for m in sys.modules if m.startswith('taskflow')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.split()) == ["taskflow", "taskflow._lazy", "taskflow.model", "taskflow.protocol"]


def test_every_protocol_export_resolves_to_its_defining_module() -> None:
    import taskflow.protocol as protocol
    from taskflow.protocol import events, messages
    from taskflow.protocol import task_requests as requests
    from taskflow.protocol import task_views as views

    for name in protocol.__all__:
        assert getattr(protocol, name) is not None, name
    # re-exports are the same objects, whichever module a caller imports them from
    assert protocol.Status is requests.Status
    assert protocol.Error is messages.Error
    assert protocol.StatusInfo is views.StatusInfo is events.StatusInfo
    assert protocol.SERVER_DECODER is messages.SERVER_DECODER
    from taskflow.protocol import result_payload  # importable, though not in __all__

    assert callable(result_payload)
    with pytest.raises(AttributeError):
        protocol.NoSuchMessage  # noqa: B018 - the attribute access is the test


def test_result_types_match_the_eager_table() -> None:
    from taskflow.protocol import REQUEST_TYPES, RESPONSE_TYPES, result_decoder

    assert set(RESPONSE_TYPES) == set(REQUEST_TYPES)
    for request_type in REQUEST_TYPES:
        assert result_decoder(request_type).type == RESPONSE_TYPES[request_type]


def test_model_and_task_api_exports_resolve() -> None:
    import taskflow
    import taskflow.model as model

    for name in model.__all__:
        assert getattr(model, name) is not None, name
    for name in taskflow.__all__:
        assert getattr(taskflow, name) is not None, name
    from taskflow import Context, RunRejected, post_run, pre_run, task

    assert taskflow.Context is Context and issubclass(RunRejected, Exception)
    assert callable(task) and callable(pre_run) and callable(post_run)
    with pytest.raises(AttributeError):
        taskflow.no_such_thing  # noqa: B018 - the attribute access is the test


@pytest.mark.parametrize("package", ["taskflow.protocol", "taskflow.model"])
def test_the_stub_reader_finds_what_ast_finds(package: str) -> None:
    """``stub_exports`` reads ``__init__.pyi`` with a regular expression, not ``ast`` (start-up)."""
    import ast
    import importlib

    module = importlib.import_module(package)
    stub = Path(module.__file__ or "").with_suffix(".pyi")
    by_ast = {alias.name: node.module for node in ast.parse(stub.read_text()).body
              if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert module.__all__ == list(by_ast)
    for name, home in by_ast.items():
        assert getattr(module, name) is getattr(importlib.import_module(home or ""), name), name


def test_a_stub_name_not_written_n_as_n_is_refused(tmp_path: Path) -> None:
    from taskflow._lazy import stub_exports

    (tmp_path / "pkg.pyi").write_text('"""from x import y"""\nfrom a.b import (\n    C as C,\n    D,\n)\n')
    with pytest.raises(ImportError, match="write `D as D`"):
        stub_exports("pkg", str(tmp_path / "pkg.py"), {})
    (tmp_path / "pkg.pyi").write_text('"""from x import y"""\nfrom a.b import (\n    C as C,  # why\n)\n')
    assert stub_exports("pkg", str(tmp_path / "pkg.py"), {})[2] == ["C"]
