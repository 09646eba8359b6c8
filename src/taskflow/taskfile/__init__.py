"""Task files and the daemon config: reading, checking and resolving them, offline.

``load_paths`` turns files and folders into a ``TaskSet`` (every error collected, each naming
file, key path and reason); ``load_file`` and ``merge`` are its two halves, kept apart so the
daemon can reload one changed file. ``load_config`` reads ``taskflow.toml``. Nothing here
touches asyncio, Textual or the daemon: ``taskflow validate`` runs this in milliseconds.
"""

from taskflow.taskfile.config import ConfigError, default_tasks_dir, load_config
from taskflow.taskfile.loader import (
    CONFIG_FILE_NAME,
    Discovery,
    FileResult,
    discover,
    load_file,
    load_paths,
    merge,
)

__all__ = [
    "CONFIG_FILE_NAME",
    "ConfigError",
    "Discovery",
    "FileResult",
    "default_tasks_dir",
    "discover",
    "load_config",
    "load_file",
    "load_paths",
    "merge",
]
