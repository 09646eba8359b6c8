"""When to look at a running attempt again: often while it is young, rarely once it is old.

Most of an attempt's surprises (a crash, a runaway allocation, a burst of output) come early,
and a host running hundreds of long tasks should not pay for four looks a second at each.
So the interval between samples grows with the attempt's age — ``age × AGE_SHARE``, never
below the executor's ``sample_interval`` — up to ``OLD_INTERVAL``. What must stay timely
caps it lower: an attempt with a memory limit (a fast hog must be KILLed within a second of
passing it), a Python task (its progress is read by the sampler) and an attempt whose output
no keeper caps (the sampler is then the only cap) are looked at at least every
``WATCHED_INTERVAL``. An attempt being stopped is looked at every ``sample_interval``, so
it settles as soon as its tree is gone.

``SampleSchedule`` keeps the due times of all attempts of one executor in a heap, so the
executor needs one timer, armed for the earliest due attempt, whatever their number.
"""

from __future__ import annotations

import heapq
import itertools
from typing import Generic, TypeVar

AGE_SHARE = 1 / 4  # interval as a share of the attempt's age: ~3 looks per doubling of age
OLD_INTERVAL = 5.0  # seconds: the rarest an attempt is looked at
WATCHED_INTERVAL = 0.5  # seconds: the rarest for memory limits, progress, keeper-less output
BATCH = 0.01  # seconds: attempts due this close together are sampled in one timer call

T = TypeVar("T")


def next_interval(base: float, age: float, *, watched: bool, stopping: bool) -> float:
    """Seconds until the next look at an attempt ``age`` seconds old."""
    if stopping:
        return base
    cap = max(base, WATCHED_INTERVAL if watched else OLD_INTERVAL)
    return min(cap, max(base, age * AGE_SHARE))


class SampleSchedule(Generic[T]):
    """Due times (loop clock) of the items to sample; re-scheduling an item replaces its entry."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, T]] = []
        self._entry: dict[int, int] = {}  # id(item) -> sequence number of its live entry
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._entry)

    def put(self, item: T, due: float) -> None:
        """Sample ``item`` at ``due`` (instead of whenever it was due before)."""
        seq = next(self._seq)
        self._entry[id(item)] = seq
        heapq.heappush(self._heap, (due, seq, item))

    def drop(self, item: T) -> None:
        """Do not sample ``item`` any more (its heap entry is skipped when it comes up)."""
        self._entry.pop(id(item), None)

    def clear(self) -> None:
        self._heap.clear()
        self._entry.clear()

    def first(self) -> float | None:
        """The earliest due time, None when nothing is scheduled."""
        self._skip_stale()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float) -> list[T]:
        """Take every item due by ``now`` (+ ``BATCH``) off the schedule."""
        items: list[T] = []
        while True:
            self._skip_stale()
            if not self._heap or self._heap[0][0] > now + BATCH:
                return items
            _, _, item = heapq.heappop(self._heap)
            del self._entry[id(item)]
            items.append(item)

    def _skip_stale(self) -> None:
        heap = self._heap
        while heap and self._entry.get(id(heap[0][2])) != heap[0][1]:
            heapq.heappop(heap)
