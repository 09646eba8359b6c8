"""Reading an attempt's artifacts: the files it left in ``TASKFLOW_OUTPUT_DIR``.

Called in a worker thread (a big folder is many ``stat`` calls). Paths come from clients,
so every read is confined to the attempt's folder: no absolute path, no ``..``, no symlink
anywhere on the way (``O_NOFOLLOW`` on the file, a resolved-path check on its folders).
"""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime

from taskflow.engine.process.output import OWN_FILES
from taskflow.protocol.artifacts import ARTIFACT_LIST_LIMIT, ArtifactFile


class ArtifactError(Exception):
    """One sentence for the client: the path is not an artifact of this attempt."""


def list_artifacts(output_dir: str, limit: int = ARTIFACT_LIST_LIMIT) -> tuple[list[ArtifactFile], bool]:
    """Every regular file below ``output_dir`` but the attempt's own, by path; and whether
    more than ``limit`` were found (then only the first ``limit`` are returned)."""
    found: list[ArtifactFile] = []
    pending = [""]
    while pending:
        folder = pending.pop()
        try:
            entries = list(os.scandir(os.path.join(output_dir, folder) if folder else output_dir))
        except OSError:
            continue
        for entry in entries:
            relative = f"{folder}/{entry.name}" if folder else entry.name
            if not folder and entry.name in OWN_FILES:
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                pending.append(relative)
            elif stat.S_ISREG(info.st_mode):
                found.append(ArtifactFile(path=relative, size=info.st_size,
                                          modified_at=datetime.fromtimestamp(info.st_mtime, UTC)))
    found.sort(key=lambda f: f.path)
    return found[:limit], len(found) > limit


def read_artifact(output_dir: str, path: str, offset: int, limit: int) -> tuple[bytes, int]:
    """Up to ``limit`` bytes of the artifact ``path`` from ``offset``, and the file's size."""
    parts = path.split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\0" in path:
        raise ArtifactError(f"{path!r} is not an artifact path (relative, without . or ..)")
    if len(parts) == 1 and path in OWN_FILES:
        raise ArtifactError(f"{path} is the attempt's own file, not an artifact (read it with `taskflow logs`)")
    root = os.path.realpath(output_dir)
    folder = os.path.realpath(os.path.join(root, *parts[:-1]))
    if folder != root and not folder.startswith(root + os.sep):
        raise ArtifactError(f"{path} is outside the attempt's output folder")
    try:
        fd = os.open(os.path.join(folder, parts[-1]), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ArtifactError(f"no artifact {path}") from None
    except OSError as exc:
        raise ArtifactError(f"cannot read artifact {path}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ArtifactError(f"{path} is not a regular file")
        return os.pread(fd, max(0, limit), max(0, offset)), info.st_size
    finally:
        os.close(fd)
