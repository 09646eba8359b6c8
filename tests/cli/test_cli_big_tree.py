"""A 10,004-run tree through the CLI: no reply outgrows the 1 MiB frame.

The tree is a group of 10,000 disabled children (planned as skipped, so nothing spawns) and
four real leaves, one of which fails. Its whole ``ShowRun`` reply would be several MiB: the
daemon refuses it with a sentence, ``run --wait`` and ``wait`` wait on the run alone,
``show`` summarizes, and ``show --all`` / ``--json`` page through every run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from daemon_process import DaemonProcess

from taskflow.client import ClientError
from taskflow.protocol import (
    MAX_FRAME,
    ErrorCode,
    ListRuns,
    ListTasks,
    PageRunTree,
    PageTasks,
    ShowRun,
    Status,
    SummarizeRun,
    encode_body,
)
from taskflow.protocol.task_views import CHILDREN_LISTED

from .conftest import taskflow

SKIPPED = 10_000


def _tasks() -> str:
    parts = [
        "[tasks.big]\n",
        '[tasks.big.children.ok1]\ncommand = "true"\n',
        '[tasks.big.children.ok2]\ncommand = "echo two"\n',
        '[tasks.big.children.ok3]\ncommand = "true"\n',
        '[tasks.big.children.bad]\ncommand = "exit 7"\n',
    ]
    parts += [f'[tasks.big.children.n{i:05d}]\ncommand = "true"\nenabled = false\n' for i in range(SKIPPED)]
    return "".join(parts)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    proc = DaemonProcess(Path(tmp_path_factory.mktemp("big")))
    proc.write_tasks(_tasks())
    proc.start(timeout=60)
    try:
        yield proc
    finally:
        proc.cleanup()


@pytest.fixture(scope="module")
def finished(big: DaemonProcess) -> str:
    """``run --wait`` of the big tree: exits 3 (one leaf failed), prints only the run id."""
    result = taskflow("run", "big", "--wait", socket=big.socket, timeout=120)
    assert result.code == 3, result.err
    return result.out.strip()


def test_run_wait_and_wait_work_on_a_ten_thousand_run_tree(big: DaemonProcess, finished: str) -> None:
    assert len(finished) == 26
    waited = taskflow("wait", finished, "--json", socket=big.socket)
    assert waited.code == 3, waited.err
    assert waited.json()["state"] == "failed"


def test_show_summarizes_a_big_tree_with_counts_and_the_failed_leaf(big: DaemonProcess, finished: str) -> None:
    result = taskflow("show", finished, socket=big.socket)
    assert result.code == 0, result.err
    assert f"{SKIPPED + 5} runs" in result.out
    assert f"skipped {SKIPPED}" in result.out and "succeeded 3" in result.out and "failed 1" in result.out
    assert "bad" in result.out  # the leaf in trouble is named
    assert len(result.out.splitlines()) < 20
    assert "n00042" not in result.out


def test_show_all_and_json_page_through_every_run(big: DaemonProcess, finished: str) -> None:
    every = taskflow("show", finished, "--all", socket=big.socket, timeout=120)
    assert every.code == 0, every.err
    assert "n00042" in every.out and "n09999" in every.out
    document = taskflow("show", finished, "--json", socket=big.socket, timeout=120).json()
    assert document["run"]["id"] == finished
    children = document["children"]
    assert len(children) == SKIPPED + 4
    assert sum(c["run"]["state"] == "skipped" for c in children) == SKIPPED
    ok2 = next(c for c in children if c["run"]["task"] == "big/ok2")
    assert ok2["attempts"][0]["exit_code"] == 0


def test_a_whole_tree_too_big_for_a_frame_is_refused_with_a_sentence(big: DaemonProcess, finished: str) -> None:
    with big.client() as client:
        with pytest.raises(ClientError) as refused:
            client.call(ShowRun(run_id=finished))
        assert refused.value.code == ErrorCode.BAD_REQUEST  # the caller's to fix, not a daemon bug
        assert "frame limit" in refused.value.message and "PageRunTree" in refused.value.message
        assert client.call(Status()).tasks == SKIPPED + 5  # the connection is still good


def test_ls_pages_through_ten_thousand_definitions(big: DaemonProcess) -> None:
    listed = taskflow("ls", "--json", socket=big.socket, timeout=60)
    assert listed.code == 0, listed.err
    names = [task["name"] for task in listed.json()]
    assert len(names) == SKIPPED + 5 and names == sorted(names) and len(set(names)) == len(names)
    with big.client() as client:
        with pytest.raises(ClientError) as refused:  # the one-reply form cannot hold them
            client.call(ListTasks())
        assert refused.value.code == ErrorCode.BAD_REQUEST
        page = client.call(PageTasks(after="big/n00041", limit=3))
        assert [t.name for t in page.tasks] == ["big/n00042", "big/n00043", "big/n00044"]
        assert page.next_after == "big/n00044"
        group = client.call(PageTasks(limit=1)).tasks[0]  # the group: 10,004 children, 1,000 named
        assert group.name == "big" and group.children[:3] == ["big/ok1", "big/ok2", "big/ok3"]
        assert len(group.children) == CHILDREN_LISTED and group.more_children == SKIPPED + 4 - CHILDREN_LISTED
        assert len(msgspec.msgpack.encode(group)) < 64 * 1024  # whatever the group's size


def test_pages_and_summaries_of_a_run_inside_the_tree(big: DaemonProcess, finished: str) -> None:
    with big.client() as client:
        seen: list[str] = []
        offset: int | None = 0
        while offset is not None:
            page = client.call(PageRunTree(run_id=finished, offset=offset, limit=2000))
            assert len(page.nodes) <= 2000
            seen += [node.run.id for node in page.nodes]
            offset = page.next_offset
        assert seen[0] == finished and len(seen) == len(set(seen)) == SKIPPED + 5
        bad = client.call(ListRuns(task="big/bad", roots_only=False, limit=1))[0]
        summary = client.call(SummarizeRun(run_id=bad.id))
        assert summary.run.id == bad.id and summary.nodes == 1 and summary.leaves == {"failed": 1}
        assert [run.task for run in summary.trouble] == ["big/bad"]
        [node] = client.call(PageRunTree(run_id=bad.id)).nodes
        assert node.attempts[0].exit_code == 7


def test_a_page_of_runs_with_many_attempts_still_fits_in_a_frame(tmp_path: Path) -> None:
    """A page is cut by bytes as well as by count: 600 leaves of 7 attempts each are about
    1.3 MB, so a page of 2,000 runs would be refused; it comes back shorter instead, and the
    pages still cover every run exactly once."""
    proc = DaemonProcess(tmp_path, prefix="tf-attempts")
    leaves = "".join(f'[tasks.flaky.children.n{i:03d}]\ncommand = "exit 1"\n' for i in range(600))
    proc.write_tasks('[tasks.flaky]\nretries = { max = 6, backoff = "0s", jitter = 0 }\n' + leaves)
    try:
        proc.start(timeout=60)
        result = taskflow("run", "flaky", "--wait", socket=proc.socket, timeout=180)
        assert result.code == 3, result.err
        run_id = result.out.strip()
        with proc.client() as client:
            seen: list[str] = []
            offset: int | None = 0
            pages = 0
            while offset is not None:
                page = client.call(PageRunTree(run_id=run_id, offset=offset, limit=2000))
                assert len(encode_body(page)) <= MAX_FRAME
                seen += [node.run.id for node in page.nodes]
                offset, pages = page.next_offset, pages + 1
            assert pages >= 2 and seen[0] == run_id and len(seen) == len(set(seen)) == 601
            assert all(len(node.attempts) == 7 for node in page.nodes)
    finally:
        proc.cleanup()
