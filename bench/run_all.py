"""Run every benchmark once, in sequence (``make bench``). Each prints its own command line,
baselines and ratios; see docs/benchmarks.md for what they measure and the last figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = [
    ["store_bench.py", "--repeat", "3"],
    ["engine_bench.py", "--repeat", "3"],
    ["event_latency_bench.py", "--busy"],
    ["daemon_event_bench.py"],
    ["cli_startup_bench.py"],
    ["tui_bench.py"],
]


def main() -> int:
    failed = 0
    for script, *args in BENCHES:
        print(f"\n=== {script} {' '.join(args)}", flush=True)
        failed += subprocess.run([sys.executable, str(HERE / script), *args]).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
