"""The output cap holds at every moment, whatever the write rate: the relay punches the head
out as it writes, so a task writing as fast as it can never has more than cap + 1 MiB on disk
(with the old periodic size check, a 16 MiB cap let 106 MiB pile up between two samples)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from taskflow.engine.process.local import ProcessExecutor
from taskflow.engine.process.output import read_output

from .conftest import command_spec, run_id

CAP = 4 * 2**20


def _watch(path: Path, stop: threading.Event, peak: list[int]) -> None:
    """Sample the file's disk use (allocated blocks, not logical size) as fast as we can."""
    while not stop.is_set():
        try:
            used = os.stat(path).st_blocks * 512
        except FileNotFoundError:
            continue
        if used > peak[0]:
            peak[0] = used


async def test_fast_writer_never_exceeds_cap_on_disk(tmp_path: Path) -> None:
    executor = ProcessExecutor(tmp_path / "out", output_cap=CAP)  # the daemon's 0.25 s sampler
    run = run_id()
    handle = executor.start(command_spec("head -c 200M /dev/zero; echo last-line"), run, 1)
    stdout = Path(handle.output_dir) / "stdout"
    stop, peak = threading.Event(), [0]
    watcher = threading.Thread(target=_watch, args=(stdout, stop, peak), daemon=True)
    watcher.start()
    try:
        outcome = await handle.wait()
    finally:
        stop.set()
        watcher.join()
    assert outcome.exit_code == 0 and outcome.error_type is None
    assert peak[0] <= CAP + 2**20, f"{peak[0] / 2**20:.1f} MiB on disk with a 4 MiB cap"
    assert outcome.output_cut >= 200 * 2**20 - CAP - 2**20  # recorded as cut
    assert outcome.output_bytes >= 200 * 2**20
    # The tail is kept, complete, and readers see the cut.
    size = os.stat(stdout).st_size
    data, _next, cut = read_output(handle.output_dir, "stdout", size - 100)
    assert data.endswith(b"last-line\n")
    _data, _next, cut = read_output(handle.output_dir, "stdout", 0)
    assert cut > 0


async def test_small_output_is_complete_when_the_attempt_ends(executor: ProcessExecutor) -> None:
    """The wrapper waits for the relay to drain, so nothing is missing at settle time."""
    handle = executor.start(command_spec("seq 1 20000; echo done >&2"), run_id(), 1)
    outcome = await handle.wait()
    assert outcome.exit_code == 0
    out, _, _ = read_output(handle.output_dir, "stdout", 0)
    err, _, _ = read_output(handle.output_dir, "stderr", 0)
    assert out.splitlines()[-1] == b"20000" and len(out.splitlines()) == 20000
    assert err == b"done\n"
    assert sorted(os.listdir(handle.output_dir)) == ["pid", "status", "stderr", "stdout"]  # no FIFO left behind
