"""A run tree of any size, fetched a page at a time (``PageRunTree``) and put back together.

One ``ShowRun`` reply holds a tree of a few thousand runs at most (the frame limit is 1 MiB);
a page holds a bounded number of runs, in tree order (parents before children), so the tree
is rebuilt by linking each run to its parent.
"""

from __future__ import annotations

from taskflow.client import Client
from taskflow.model import RunTree
from taskflow.protocol import PageRunTree

PAGE = 500  # runs per request: about 400 KiB for leaves of short commands


def fetch_tree(client: Client, run_id: str) -> RunTree:
    """The whole tree below and including ``run_id``, attempts included."""
    nodes: list[RunTree] = []
    offset: int | None = 0
    while offset is not None:
        page = client.call(PageRunTree(run_id=run_id, offset=offset, limit=PAGE))
        nodes.extend(page.nodes)
        offset = page.next_offset
    return RunTree.linked(nodes)
