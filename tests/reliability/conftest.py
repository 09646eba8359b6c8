"""The kill-9 suite's helpers (``kill9_workload``) live next to it."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
