"""Retention: prune old run trees with their output, and old audit entries, hourly.

The first pass runs a minute after start, then one each hour. The policy is read on each
pass, so a reloaded config applies from the next one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from taskflow.model import RetentionConfig
    from taskflow.store import Store

log = logging.getLogger(__name__)

FIRST_PASS_AFTER = 60.0
PASS_EVERY = 3600.0


async def prune_periodically(store: Store, policy: Callable[[], RetentionConfig], outputs_under: Path) -> None:
    """Prune until cancelled; a failed pass is logged and tried again at the next one."""
    await asyncio.sleep(FIRST_PASS_AFTER)
    while True:
        try:
            pruned = await store.prune(policy(), outputs_under=outputs_under)
            if pruned.roots or pruned.audit_entries:
                log.info("retention pruned %d run trees and %d audit entries", pruned.roots, pruned.audit_entries)
        except Exception:
            log.exception("retention failed; will try again")
        await asyncio.sleep(PASS_EVERY)
