"""Artifacts: the files an attempt left in ``TASKFLOW_OUTPUT_DIR``, listed and read in chunks.

An attempt's folder holds its own output files too (``stdout``, ``stderr``, the status and
result files); those are logs, read with ``ReadLogs``, and are not listed here. A file is
read in chunks of at most 512 KiB so that no reply exceeds a frame, whatever its size.
"""

from __future__ import annotations

from datetime import datetime

from taskflow.protocol.daemon_views import View
from taskflow.protocol.request_base import Request

#: The largest ``ReadArtifact`` chunk the daemon sends (a frame is 1 MiB).
ARTIFACT_CHUNK = 512 * 1024
#: Files one ``ArtifactList`` names at most (a frame's worth of paths).
ARTIFACT_LIST_LIMIT = 5000


class ArtifactFile(View):
    path: str  # relative to the attempt's output folder, "/"-separated
    size: int
    modified_at: datetime


class ArtifactList(View):
    """``truncated``: more files than ``ARTIFACT_LIST_LIMIT``; the first ones by path are listed."""

    run_id: str
    attempt: int  # 0: the run has no attempt
    files: list[ArtifactFile] = []
    truncated: bool = False


class ArtifactChunk(View):
    run_id: str
    attempt: int
    path: str
    data: bytes
    offset: int
    size: int  # the whole file's size
    eof: bool


class ListArtifacts(Request[ArtifactList], kw_only=True):
    """The artifacts of one attempt of a run (``attempt=None``: its latest)."""

    run_id: str
    attempt: int | None = None


class ReadArtifact(Request[ArtifactChunk], kw_only=True):
    """Up to ``max_bytes`` of one artifact from ``offset``."""

    run_id: str
    path: str
    attempt: int | None = None
    offset: int = 0
    max_bytes: int = ARTIFACT_CHUNK
