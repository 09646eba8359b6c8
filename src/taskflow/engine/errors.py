"""Errors the engine reports to whoever asked (the daemon maps them onto protocol errors)."""

from __future__ import annotations


class EngineError(Exception):
    """A refused request. ``code`` is one of the protocol's error codes
    (``not_found``, ``conflict``, ``bad_request``, ``forbidden``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
