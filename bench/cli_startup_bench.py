"""CLI start-up cost: ``taskflow status --json`` against ``python -c pass``, same interpreter.

Usage: ``.venv/bin/python bench/cli_startup_bench.py [-n 30] [--socket PATH]``

Monitoring scripts poll ``taskflow status --json``; over SSH and in loops its start-up is
most of its cost. This starts a real ``taskflowd`` (a temporary state dir and one trivial
task file) unless ``--socket`` names a running one, then alternates the two commands N times
each so that both see the same machine noise, and prints median and p90 wall time in ms for
each and the ratio of the medians. The CLI is run through the installed ``taskflow`` console
script, as users run it. Target (issue 11): ratio <= 4.

A third command is interleaved too as the floor: msgspec imported the way the CLI imports
it (``cli/startup.py``: without ``typing_extensions``). The wire format needs msgspec, so
no ``status`` that decodes with it can start faster than that.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TASK_FILE = '[tasks.hello]\ncommand = "true"\n'
START_TIMEOUT = 30.0


def venv_bin() -> Path:
    """The folder of this interpreter, where the ``taskflow`` script is installed too."""
    return Path(sys.executable).parent


@contextmanager
def running_daemon(workdir: Path) -> Iterator[str]:
    """A real ``taskflowd`` on a fresh socket; stopped (SIGTERM, then SIGKILL) on exit."""
    tasks = workdir / "tasks"
    tasks.mkdir()
    (tasks / "hello.toml").write_text(TASK_FILE)
    socket = f"/tmp/tf-bench-{os.getpid()}.sock"
    argv = [sys.executable, "-m", "taskflow.daemon.main", "--state-dir", str(workdir / "state"),
            "--socket", socket, "--tasks", str(tasks)]
    log = open(workdir / "daemon.log", "wb")  # noqa: SIM115 - closed below
    daemon = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_answering(socket, daemon)
        yield socket
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=15)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        log.close()


def wait_until_answering(socket: str, daemon: subprocess.Popen[bytes]) -> None:
    """Poll ``status`` until the daemon answers; fail early if it exited."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise SystemExit(f"taskflowd exited with {daemon.returncode} before answering")
        probe = subprocess.run(status_command(socket), capture_output=True)
        if probe.returncode == 0:
            return
        time.sleep(0.1)
    raise SystemExit(f"taskflowd did not answer on {socket} within {START_TIMEOUT:.0f} s")


def status_command(socket: str) -> list[str]:
    return [str(venv_bin() / "taskflow"), "--socket", socket, "status", "--json"]


def wall_ms(argv: list[str]) -> float:
    """Wall time of one run of ``argv`` in ms; a failing run aborts the benchmark."""
    started = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise SystemExit(f"{shlex.join(argv)} failed ({done.returncode}): {done.stderr.decode()}")
    return elapsed


def p90(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=10, method="inclusive")[-1]


def measure(socket: str, rounds: int) -> None:
    baseline = [sys.executable, "-c", "pass"]
    floor = [sys.executable, "-c", "from taskflow.cli.startup import import_msgspec_lightly as f; f()"]
    status = status_command(socket)
    for argv in (baseline, floor, status):  # warm the page cache and .pyc files; not counted
        wall_ms(argv)
    base_ms: list[float] = []
    floor_ms: list[float] = []
    status_ms: list[float] = []
    for _ in range(rounds):
        base_ms.append(wall_ms(baseline))
        status_ms.append(wall_ms(status))
        floor_ms.append(wall_ms(floor))
    print(f"{rounds} interleaved runs each")
    for label, argv, samples in (("python -c pass", baseline, base_ms),
                                 ("status --json", status, status_ms),
                                 ("floor (msgspec)", floor, floor_ms)):
        print(f"  {label:<15} median {statistics.median(samples):6.1f} ms   "
              f"p90 {p90(samples):6.1f} ms   ({shlex.join(argv)})")
    base = statistics.median(base_ms)
    print(f"  ratio of medians: {statistics.median(status_ms) / base:.2f} (target <= 4); "
          f"floor {statistics.median(floor_ms) / base:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--rounds", type=int, default=30, help="runs of each command")
    parser.add_argument("--socket", help="use this running daemon instead of starting one")
    args = parser.parse_args()
    print("command:", shlex.join([sys.executable, *sys.argv]))
    if args.socket:
        measure(args.socket, args.rounds)
        return 0
    with tempfile.TemporaryDirectory(prefix="tf-bench-") as workdir, \
            running_daemon(Path(workdir)) as socket:
        measure(socket, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
