"""Errors a client raises; each message is one sentence fit to print as is."""

from __future__ import annotations

from taskflow.client.reasons import unreachable_reason
from taskflow.protocol.replies import ErrorCode


class ClientError(Exception):
    """The daemon answered ``Error{code, message}``, or the conversation broke down."""

    def __init__(self, code: ErrorCode | str, message: str) -> None:
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message

    def __str__(self) -> str:
        return self.message


class DaemonUnreachable(ClientError):
    """No daemon answers on the socket, or the connection to it was lost."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.UNAVAILABLE, message)


def unreachable(path: str, exc: OSError) -> DaemonUnreachable:
    """Explain why connecting to ``path`` failed, with what to check next."""
    return DaemonUnreachable(unreachable_reason(path, exc))
