"""Suite-wide settings. Area fixtures live in each area's own conftest.py; the real daemon
they share is ``daemon_process.DaemonProcess`` (this folder is put on ``sys.path`` for it)."""

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

# Locally every run explores new examples; in CI (CI=true) the examples are fixed so a
# landing never depends on luck. Soak the properties with SCHED_EXAMPLES=5000 and the like.
settings.register_profile(
    "default",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
    derandomize=bool(os.environ.get("CI")),
)
settings.load_profile("default")
sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("TZ", "UTC")
