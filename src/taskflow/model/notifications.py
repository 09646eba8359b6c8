"""Notifiers: who hears about failures, recoveries and breakers (``[notifiers.NAME]``).

A notifier is one channel — a ``command`` (the event as JSON on stdin), a ``webhook`` (an
HTTP POST of the same JSON) or ``email`` (SMTP, or the local ``sendmail``) — plus which
events it wants (``on``) and whose (``tasks`` globs, ``tags``; neither: every top-level run).
The daemon delivers in the background; the engine never waits for a notifier.
"""

from __future__ import annotations

from typing import Literal

import msgspec

#: What a notifier can be told about.
NotifyEvent = Literal["failed", "recovered", "breaker_opened", "breaker_closed", "late"]
NOTIFY_EVENTS: tuple[NotifyEvent, ...] = ("failed", "recovered", "breaker_opened", "breaker_closed", "late")
#: What a notifier hears when its ``on`` is not given.
DEFAULT_EVENTS: tuple[NotifyEvent, ...] = ("failed", "recovered", "breaker_opened", "breaker_closed", "late")

ChannelKind = Literal["command", "webhook", "email"]


class EmailSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``email = { to = [...], sender = "...", smtp = "host:port" }``; without ``smtp`` the
    message goes to ``sendmail -t -i`` (the local MTA)."""

    to: tuple[str, ...]
    sender: str = "taskflowd@localhost"
    smtp: str | None = None  # "host:port"; None: sendmail
    sendmail: str = "/usr/sbin/sendmail"
    starttls: bool = False
    username: str | None = None
    password_file: str | None = None  # a file holding the SMTP password (never the password itself)


class NotifierConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One ``[notifiers.NAME]`` table: exactly one of ``command``, ``webhook``, ``email``."""

    name: str
    kind: ChannelKind
    command: str | None = None  # run by /bin/sh; the event JSON on stdin, TASKFLOW_* variables
    webhook: str | None = None  # http(s) URL
    headers: dict[str, str] = {}  # extra webhook headers (e.g. an Authorization for a chat hook)
    email: EmailSettings | None = None
    on: tuple[NotifyEvent, ...] = DEFAULT_EVENTS
    tasks: tuple[str, ...] = ()  # task-name globs; leaf runs of matching tasks count too
    tags: tuple[str, ...] = ()  # tasks carrying any of these tags
    timeout: float = 10.0  # seconds one delivery may take
    retries: int = 3  # further tries after a failed delivery, with backoff
    # A notifier that keeps failing is logged once per this many seconds, not per event.
    quiet_for: float = 300.0
