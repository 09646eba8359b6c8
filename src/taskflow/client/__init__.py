"""Clients of ``taskflowd``: a blocking one for the CLI and an asyncio one for the TUI.

``AsyncClient`` is loaded on first use so that ``import taskflow.client`` (every CLI call)
never imports asyncio.
"""

from typing import TYPE_CHECKING, Any

from taskflow.client.blocking import Client
from taskflow.client.errors import ClientError, DaemonUnreachable
from taskflow.client.paths import default_socket_path, resolve_socket_path

if TYPE_CHECKING:
    from taskflow.client.aio import AsyncClient, ConnectionState

__all__ = [
    "AsyncClient",
    "Client",
    "ClientError",
    "ConnectionState",
    "DaemonUnreachable",
    "default_socket_path",
    "resolve_socket_path",
]


def __getattr__(name: str) -> Any:
    if name in ("AsyncClient", "ConnectionState"):
        from taskflow.client import aio

        return getattr(aio, name)
    raise AttributeError(f"module 'taskflow.client' has no attribute {name!r}")
