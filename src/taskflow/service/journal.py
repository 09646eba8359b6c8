"""The daemon's journal, readably: ``journalctl -o json`` objects turned into log lines. Pure.

The daemon logs one line per record to stderr, as text (``info taskflow.engine: message
[run ID]``) or as JSON (``--log-format json``); journald adds the time, the priority and the
pid. Both become the same ``JournalEntry``, shown as ``2026-12-03 06:14:01 info
taskflow.engine: message [run ID]``; systemd's own lines about the unit ("Started …") come
through with ``systemd`` as their source.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import msgspec

#: syslog priorities (journald's PRIORITY) as the daemon's level names
_PRIORITY_LEVELS = {0: "critical", 1: "critical", 2: "critical", 3: "error", 4: "warning",
                    5: "info", 6: "info", 7: "debug"}
_LEVELS = ("debug", "info", "warning", "error", "critical")
_TEXT_LINE = re.compile(r"^(debug|info|warning|error|critical) ([\w.-]+): (.*?)(?: \[run ([0-9A-Z]{26})\])?$")


class JournalEntry(msgspec.Struct, kw_only=True):
    """One journal line of the unit."""

    time: datetime | None = None
    level: str = "info"
    source: str = "taskflowd"  # the program that wrote it: taskflowd, systemd, ...
    message: str = ""
    logger: str | None = None
    run_id: str | None = None
    pid: int | None = None
    exception: str | None = None


def parse_entry(line: str) -> JournalEntry | None:
    """One line of ``journalctl -o json`` as an entry; None for a line that is not one."""
    try:
        raw = msgspec.json.decode(line)
    except msgspec.DecodeError:
        return None
    if not isinstance(raw, dict):
        return None
    message = _text(raw.get("MESSAGE"))
    priority = _int(raw.get("PRIORITY"))
    entry = JournalEntry(
        time=_time(raw.get("__REALTIME_TIMESTAMP")),
        level=_PRIORITY_LEVELS.get(6 if priority is None else priority, "info"),
        source=_text(raw.get("SYSLOG_IDENTIFIER")) or _text(raw.get("_COMM")) or "taskflowd",
        message=message,
        pid=_int(raw.get("_PID")),
    )
    return _daemon_record(entry, message)


def _daemon_record(entry: JournalEntry, message: str) -> JournalEntry:
    """``entry`` with the level, logger and run of the daemon's own log line, when it is one."""
    stripped = message.strip()
    if stripped.startswith("{"):
        try:
            record = msgspec.json.decode(stripped)
        except msgspec.DecodeError:
            record = None
        if isinstance(record, dict) and "message" in record:
            level = str(record.get("level", entry.level))
            return msgspec.structs.replace(
                entry,
                level=level if level in _LEVELS else entry.level,
                message=str(record["message"]),
                logger=_text(record.get("logger")) or None,
                run_id=_text(record.get("run_id")) or None,
                exception=_text(record.get("exception")) or None,
            )
    # Text format: the record's first line, then its traceback, if any, on the lines after.
    first, _, rest = message.partition("\n")
    match = _TEXT_LINE.match(first)
    if match is not None:
        level, logger, text, run_id = match.groups()
        return msgspec.structs.replace(entry, level=level, logger=logger, message=text, run_id=run_id,
                                       exception=rest or None)
    return entry


def format_entry(entry: JournalEntry) -> str:
    """``2026-12-03 06:14:01 info taskflow.engine: message [run ID]``, in the local zone."""
    when = entry.time.astimezone().strftime("%Y-%m-%d %H:%M:%S") if entry.time else "-"
    who = entry.logger or entry.source
    line = f"{when} {entry.level} {who}: {entry.message}"
    if entry.run_id:
        line += f" [run {entry.run_id}]"
    if entry.exception:
        line += "\n" + "\n".join(f"    {part}" for part in entry.exception.splitlines())
    return line


def _text(value: Any) -> str:
    """journald gives a field as a string, or as a list of bytes when it is not UTF-8."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(b, int) for b in value):
        return bytes(b & 0xFF for b in value).decode("utf-8", errors="replace")
    return "" if value is None else str(value)


def _int(value: Any) -> int | None:
    text = _text(value)
    return int(text) if text.isdigit() else None


def _time(value: Any) -> datetime | None:
    micros = _int(value)
    return None if micros is None else datetime.fromtimestamp(micros / 1_000_000, UTC)
