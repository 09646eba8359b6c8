"""Daemon-side checks of Python tasks: resolve() and check_params()."""

from __future__ import annotations

from pathlib import Path

import pytest

import taskflow
from taskflow.pytask.resolve import ParamError, ResolveError, check_params, resolve

HERE = str(Path(__file__).parent)


def test_resolve_returns_the_registered_function() -> None:
    fn = resolve("pytasks_for_tests:add", [HERE])
    assert fn(a=1, b=2) == {"sum": 3}


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("pytasks_for_tests:nope", 'module "pytasks_for_tests" has no function "nope" registered with @taskflow.task'),
        ("pytasks_for_tests:not_registered", 'module "pytasks_for_tests" has no function "not_registered"'),
        ("no_such_module_xyz:f", 'module "no_such_module_xyz" not found'),
        ("justamodule", 'python reference "justamodule" must look like "module:function"'),
    ],
)
def test_resolve_errors_are_one_sentence(ref: str, message: str) -> None:
    with pytest.raises(ResolveError) as info:
        resolve(ref, [HERE])
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_import_error_inside_the_module_is_summarised(tmp_path: Path) -> None:
    (tmp_path / "broken_tasks_mod.py").write_text("import taskflow\nimport not_installed_pkg_xyz\n")
    (tmp_path / "syntax_tasks_mod.py").write_text("def f(:\n")
    with pytest.raises(ResolveError, match=r"^importing module \"broken_tasks_mod\" failed: ModuleNotFoundError: No module named 'not_installed_pkg_xyz'$"):
        resolve("broken_tasks_mod:f", [str(tmp_path)])
    with pytest.raises(ResolveError, match=r"^importing module \"syntax_tasks_mod\" failed: SyntaxError: .*line 1\)$"):
        resolve("syntax_tasks_mod:f", [str(tmp_path)])


def sample(name: str, count: int, ctx: taskflow.Context, ratio: float = 0.5, tags: list[str] | None = None) -> None:
    pass


def test_check_params_converts_and_skips_context() -> None:
    assert check_params(sample, {"name": "x", "count": "3"}) == {
        "name": "x",
        "count": 3,
        "ratio": 0.5,
        "tags": None,
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"name": "x", "count": "many"}, "parameter 'count': expected int, got str"),
        ({"count": 1}, "missing required parameter 'name'"),
        ({"name": "x", "count": 1, "colour": "red"}, "unknown parameter 'colour'"),
        ({"name": "x", "count": 1, "tags": "a"}, "parameter 'tags': expected array | null, got str"),
    ],
)
def test_check_params_errors_name_the_parameter(params: dict, message: str) -> None:
    with pytest.raises(ParamError) as info:
        check_params(sample, params)
    assert str(info.value).startswith(message)


def test_check_params_accepts_extra_with_kwargs() -> None:
    def loose(a: int, **rest: object) -> None:
        pass

    assert check_params(loose, {"a": "1", "b": 2}) == {"a": 1, "b": 2}
