"""Task definitions through the CLI: ``ls`` and its filters, ``enable`` and ``disable``."""

from __future__ import annotations


def _ls(tf, *args: str) -> dict[str, dict]:
    result = tf("ls", "--json", *args)
    assert result.code == 0, result
    return {task["name"]: task for task in result.json()}


def test_ls_json_lists_task_infos(tf) -> None:
    tasks = _ls(tf)
    assert {"hello", "boom", "tree", "tree/first", "tree/second"} <= set(tasks)
    assert tasks["tree"]["kind"] == "group"
    assert tasks["tree"]["children"] == ["tree/first", "tree/second"]
    assert tasks["hello"]["kind"] == "command" and tasks["hello"]["tags"] == ["greet"]
    assert set(_ls(tf, "--tag", "nightly-ish")) == {"tagged"}
    human = tf("ls")
    assert human.code == 0 and "hello" in human.out and "\x1b[" not in human.out


def test_disable_and_enable_are_reflected_in_ls(tf) -> None:
    disabled = tf("disable", "toggled", "--reason", "maintenance window", "--json")
    assert disabled.code == 0, disabled
    assert disabled.json()["enabled"] is False
    tasks = _ls(tf)
    assert tasks["toggled"]["enabled"] is False
    assert tasks["toggled"]["disabled_reason"] == "maintenance window"
    assert "toggled" in _ls(tf, "--disabled") and "toggled" not in _ls(tf, "--enabled")

    refused = tf("run", "toggled")
    assert refused.code == 1 and len(refused.err.strip().splitlines()) == 1

    enabled = tf("enable", "toggled")
    assert enabled.code == 0 and "enabled" in enabled.out
    assert _ls(tf)["toggled"]["enabled"] is True
    assert tf("run", "toggled", "--wait").code == 0


def test_enable_unknown_task_is_exit_1(tf) -> None:
    result = tf("enable", "no-such-task")
    assert result.code == 1 and len(result.err.strip().splitlines()) == 1
