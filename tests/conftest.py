"""Suite-wide settings. Area fixtures live in each area's own conftest.py."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("ci")
os.environ.setdefault("TZ", "UTC")
