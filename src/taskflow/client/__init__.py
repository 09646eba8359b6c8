"""Clients of ``taskflowd``: a blocking one for the CLI and an asyncio one for the TUI.

Every name is loaded on first use (PEP 562): ``import taskflow.client.paths`` (what
``taskflow bridge`` needs on every SSH connection) must not import msgspec and the protocol,
and ``from taskflow.client import Client`` (every CLI call) must not import asyncio.
"""

from __future__ import annotations

from taskflow._lazy import lazy_exports

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: on the bridge's path
if TYPE_CHECKING:
    from taskflow.client.aio import AsyncClient, ConnectionState
    from taskflow.client.blocking import Client
    from taskflow.client.errors import ClientError, DaemonUnreachable
    from taskflow.client.paths import default_socket_path, resolve_socket_path

__all__ = [
    "AsyncClient",
    "Client",
    "ClientError",
    "ConnectionState",
    "DaemonUnreachable",
    "default_socket_path",
    "resolve_socket_path",
]

#: Where each public name lives.
_HOMES = {
    "AsyncClient": "aio",
    "ConnectionState": "aio",
    "Client": "blocking",
    "ClientError": "errors",
    "DaemonUnreachable": "errors",
    "default_socket_path": "paths",
    "resolve_socket_path": "paths",
}

__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__, globals())
