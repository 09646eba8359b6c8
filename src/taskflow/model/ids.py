"""Run ids are ULIDs: sortable by creation time, unique without coordination.

Monotonic within a process: ids made in the same millisecond increase (the random part is
incremented), so a run tree planned in one go sorts in plan order — parents before children,
children in file order.
"""

from __future__ import annotations

import os
import threading
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_MAX = (1 << 80) - 1
_lock = threading.Lock()
_last_ms = -1
_last_random = 0


def new_ulid(now: float | None = None) -> str:
    """A 26-character ULID: 48 bits of milliseconds, 80 random bits."""
    global _last_ms, _last_random
    ms = int((time.time() if now is None else now) * 1000)
    with _lock:
        if ms <= _last_ms and _last_random < _RANDOM_MAX:
            ms, random = _last_ms, _last_random + 1
        else:
            random = int.from_bytes(os.urandom(10), "big") >> 1  # headroom for increments
        _last_ms, _last_random = ms, random
    value = (ms << 80) | random
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))
