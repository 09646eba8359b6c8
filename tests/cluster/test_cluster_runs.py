"""Trees on a real Dask cluster: leaves spread over workers, targeted by worker and by
resource, output copied back into the daemon's state dir, the worker shown per attempt."""

from __future__ import annotations

import json
import subprocess
import sys

from taskflow.model import ErrorType, RunState
from taskflow.protocol import ReadLogs, TriggerTask


def _leaves(tree):
    return [node for node in tree.walk() if not node.children]


def _logs(client, run_id: str) -> bytes:
    data, offset = b"", 0
    while True:
        chunk = client.call(ReadLogs(run_id=run_id, stream="stdout", offset=offset))
        if not chunk.data:
            return data
        data += chunk.data
        offset = chunk.next_offset


def test_a_tree_runs_across_both_workers_with_its_output_copied_back(daemon, wait_terminal):
    children = "\n".join(
        f'[tasks.spread.children.leaf{i}]\ncommand = "echo leaf {i} on $(hostname); sleep 0.3"\n'
        for i in range(8)
    )
    daemon.write_tasks(f'[tasks.spread]\nwhere = {{}}\n{children}\n'
                       '[tasks.spread.children.last]\ncommand = "exit 3"\ndepends_on = ["leaf0"]\n')
    daemon.start()
    with daemon.client() as client:
        ref = client.call(TriggerTask(task="spread"))
        tree = wait_terminal(client, ref.id)
        leaves = {node.run.task: node for node in _leaves(tree)}
        assert tree.run.state is RunState.FAILED  # `last` exits 3, as it would locally
        last = leaves["spread/last"]
        assert last.run.error_type is ErrorType.EXIT and last.attempts[-1].exit_code == 3
        workers = {node.attempts[-1].worker for node in leaves.values()}
        assert workers == {"w1", "w2"}, workers
        for i in range(8):
            node = leaves[f"spread/leaf{i}"]
            assert node.run.state is RunState.SUCCEEDED
            assert _logs(client, node.run.id).startswith(f"leaf {i} on ".encode())
            # the copy is in the daemon's own state dir, where every reader looks
            assert node.attempts[-1].output_dir.startswith(str(daemon.state_dir))

    shown = subprocess.run([sys.executable, "-m", "taskflow.cli.main", "--socket", daemon.socket, "--json",
                            "show", leaves["spread/leaf0"].run.id], capture_output=True, text=True, check=True)
    assert json.loads(shown.stdout)["attempts"][-1]["worker"] in ("w1", "w2")


def test_where_workers_pins_a_leaf_and_resources_pick_the_worker_that_has_them(daemon, wait_terminal):
    daemon.write_tasks('''
        [tasks.pinned]
        where = { workers = ["w1"] }
        [tasks.pinned.children.a]
        command = "true"
        [tasks.pinned.children.b]
        command = "true"
        [tasks.pinned.children.c]
        command = "true"
        [tasks.pinned.children.big]
        command = "echo big"
        where = { resources = { cpu = 4 } }
        [tasks.here]
        command = "echo local"
    ''')
    daemon.start()
    with daemon.client() as client:
        tree = wait_terminal(client, client.call(TriggerTask(task="pinned")).id)
        assert tree.run.state is RunState.SUCCEEDED, tree.run
        got = {node.run.task: node.attempts[-1].worker for node in _leaves(tree)}
        assert got == {"pinned/a": "w1", "pinned/b": "w1", "pinned/c": "w1", "pinned/big": "w2"}
        local = wait_terminal(client, client.call(TriggerTask(task="here")).id)
        assert local.run.state is RunState.SUCCEEDED and local.attempts[-1].worker is None
        assert _logs(client, local.run.id) == b"local\n"


def test_results_flow_to_and_from_leaves_on_workers(daemon, wait_terminal):
    # make (on w1) → use (on w2, reads make's result from a copy on its worker) → report (here,
    # reads the daemon's copy of use's result); `none` leaves no result.
    daemon.write_tasks('''
        [tasks.flow.children.make]
        where = { workers = ["w1"] }
        command = "echo '{\\"n\\": 42}' > \\"$TASKFLOW_RESULT\\""
        [tasks.flow.children.none]
        where = { workers = ["w1"] }
        command = "true"
        [tasks.flow.children.use]
        where = { workers = ["w2"] }
        depends_on = ["make", "none"]
        command = """
        echo "$TASKFLOW_UPSTREAM_MAKE_RESULT"
        test ! -e "$TASKFLOW_UPSTREAM_NONE_RESULT" || exit 9
        python3 -c 'import json, os; n = json.load(open(os.environ["TASKFLOW_UPSTREAM_MAKE_RESULT"]))["n"]; print(json.dumps({"twice": 2 * n}))' > "$TASKFLOW_RESULT"
        """
        [tasks.flow.children.report]
        depends_on = ["use"]
        command = "cat \\"$TASKFLOW_UPSTREAM_USE_RESULT\\""
    ''')
    daemon.start()
    with daemon.client() as client:
        tree = wait_terminal(client, client.call(TriggerTask(task="flow")).id)
        leaves = {node.run.task: node for node in _leaves(tree)}
        assert tree.run.state is RunState.SUCCEEDED, [(n.run.task, n.run.state, n.run.message) for n in leaves.values()]
        assert leaves["flow/make"].run.result == {"n": 42}  # the remote leaf's result, as its run's
        assert leaves["flow/use"].run.result == {"twice": 84}
        assert leaves["flow/use"].attempts[-1].worker == "w2"
        # `use` read a copy on its worker, not the daemon's file (which a remote host cannot open)
        seen_path = _logs(client, leaves["flow/use"].run.id).decode().strip()
        assert seen_path and not seen_path.startswith(str(daemon.state_dir)), seen_path
        # `report` ran here on the daemon's copy of `use`'s result file
        assert leaves["flow/report"].attempts[-1].worker is None
        assert json.loads(_logs(client, leaves["flow/report"].run.id)) == {"twice": 84}
