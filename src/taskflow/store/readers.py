"""Read-only connections, so queries never wait behind (or block) the writer.

In WAL mode a reader sees the last committed snapshot while the writer appends; each
connection is marked ``query_only`` so a stray write through it fails loudly. Connections
are handed out one caller at a time from a small pool.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import aiosqlite

from taskflow.store.errors import StoreError


class ReaderPool:
    """A fixed set of read-only aiosqlite connections."""

    def __init__(self, path: str, conns: list[aiosqlite.Connection]) -> None:
        self._path = path
        self._conns = conns
        self._idle: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        for conn in conns:
            self._idle.put_nowait(conn)

    @classmethod
    async def open(cls, path: str, count: int) -> ReaderPool:
        conns: list[aiosqlite.Connection] = []
        try:
            for _ in range(max(1, count)):
                conn = await aiosqlite.connect(path, isolation_level=None, timeout=30.0)
                conns.append(conn)
                await conn.execute("PRAGMA query_only = ON")
        except sqlite3.Error as exc:
            for conn in conns:
                await conn.close()
            raise StoreError(f"state database {path} could not be opened for reading: {exc}") from exc
        return cls(path, conns)

    async def fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of one query, in one hop to the connection's thread."""
        conn = await self._idle.get()
        try:
            return list(await conn.execute_fetchall(sql, params))
        except sqlite3.Error as exc:
            raise StoreError(f"could not read state database {self._path}: {exc}") from exc
        finally:
            self._idle.put_nowait(conn)

    async def close(self) -> None:
        for conn in self._conns:
            await conn.close()
