"""The one exception the store lets reach callers.

Every failure a person could see (a corrupt file, a newer schema, a full disk) becomes a
``StoreError`` whose message is one sentence naming the database, so the daemon and CLI can
print it as is instead of a traceback.
"""

from __future__ import annotations


class StoreError(Exception):
    """A state-database failure, phrased for the person running taskflow."""
