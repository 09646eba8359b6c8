"""Errors a client raises; each message is one sentence fit to print as is."""

from __future__ import annotations

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
    if isinstance(exc, FileNotFoundError):
        why = "no such socket"
    elif isinstance(exc, ConnectionRefusedError):
        why = "connection refused"
    elif isinstance(exc, PermissionError):
        return DaemonUnreachable(
            f"cannot reach taskflowd at {path}: permission denied; "
            "is your user in the socket's group (taskflow)?"
        )
    elif isinstance(exc, TimeoutError):
        return DaemonUnreachable(f"taskflowd at {path} did not answer in time; is it overloaded or stuck?")
    else:
        why = (exc.strerror or str(exc)).lower()
    return DaemonUnreachable(
        f"cannot reach taskflowd at {path}: {why}; is it running? (systemctl status taskflowd)"
    )
