"""The SQLite state store: runs, attempts, task toggles, breakers, schedules, audit.

One file in WAL mode, one group-committing writer, read-only reader connections, schema
migrations keyed on ``PRAGMA user_version``. See ``docs/store.md``.
"""

from taskflow.store.errors import StoreError
from taskflow.store.retention import Pruned
from taskflow.store.schema import MIGRATIONS, Migration
from taskflow.store.store import Store
from taskflow.store.writer import WriterStats

__all__ = ["MIGRATIONS", "Migration", "Pruned", "Store", "StoreError", "WriterStats"]
