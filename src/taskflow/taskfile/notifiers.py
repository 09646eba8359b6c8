"""Checker for the daemon config's ``[notifiers.NAME]`` tables, offline, key by key.

Nothing is contacted: whether a webhook answers or an SMTP relay accepts mail is a question
for the running daemon (which logs it). What the text can tell is checked here: exactly one
channel per notifier, an ``http(s)://`` URL, ``host:port`` for SMTP, known event names.
"""

from __future__ import annotations

import re
from typing import Any

from taskflow.model.notifications import NOTIFY_EVENTS, EmailSettings, NotifierConfig
from taskflow.taskfile import fields as f
from taskflow.taskfile.fields import INVALID
from taskflow.taskfile.problems import Problems, child_path

_CHANNELS = ("command", "webhook", "email")
_KEYS = (*_CHANNELS, "headers", "on", "tasks", "tags", "timeout", "retries", "quiet_for")
_EMAIL_KEYS = ("to", "sender", "smtp", "sendmail", "starttls", "username", "password_file")
_URL_RE = re.compile(r"^https?://[^\s/]+\S*$")
_HOST_PORT_RE = re.compile(r"^[^\s:]+:\d{1,5}$")


def as_notifiers(value: Any, path: str, problems: Problems) -> dict[str, NotifierConfig] | Any:
    """``[notifiers.oncall] webhook = "https://…"`` and its siblings, by name."""
    table = f.as_table(value, path, problems)
    if table is INVALID:
        return INVALID
    out: dict[str, NotifierConfig] = {}
    ok = True
    for name, body in table.items():
        item = child_path(path, str(name))
        if f.as_name(name, item, problems, what="notifier") is INVALID:
            ok = False
            continue
        notifier = _as_notifier(str(name), body, item, problems)
        if notifier is INVALID:
            ok = False
        else:
            out[str(name)] = notifier
    return out if ok else INVALID


def _as_notifier(name: str, value: Any, path: str, problems: Problems) -> NotifierConfig | Any:
    table = f.as_table(value, path, problems)
    if table is INVALID:
        return INVALID
    problems.unknown_keys(path, table, _KEYS)
    channels = [key for key in _CHANNELS if key in table]
    if len(channels) != 1:
        found = ", ".join(channels) if channels else "none"
        problems.add(path, f"needs exactly one of command, webhook, email (found: {found})")
        return INVALID
    kind = channels[0]
    fields: dict[str, Any] = {"name": name, "kind": kind}
    at = child_path(path, kind)
    if kind == "command":
        fields["command"] = f.as_str(table["command"], at, problems)
    elif kind == "webhook":
        url = f.as_str(table["webhook"], at, problems)
        if url is not INVALID and not _URL_RE.match(url):
            problems.add(at, f"must be an http:// or https:// URL, got {url!r}")
            url = INVALID
        fields["webhook"] = url
    else:
        fields["email"] = _as_email(table["email"], at, problems)
    if "headers" in table:
        fields["headers"] = _as_headers(table["headers"], child_path(path, "headers"), problems)
    if "on" in table:
        on = table["on"]
        events = f.as_str_list([on] if isinstance(on, str) else on, child_path(path, "on"), problems)
        if events is not INVALID:
            for i, event in enumerate(events):
                if f.as_choice(event, child_path(child_path(path, "on"), i), problems, NOTIFY_EVENTS) is INVALID:
                    events = INVALID
                    break
        fields["on"] = events
    for key in ("tasks", "tags"):
        if key in table:
            raw = table[key]
            fields[key] = f.as_str_list([raw] if isinstance(raw, str) else raw, child_path(path, key), problems)
    if "timeout" in table:
        fields["timeout"] = f.as_duration(table["timeout"], child_path(path, "timeout"), problems, positive=True)
    if "quiet_for" in table:
        fields["quiet_for"] = f.as_duration(table["quiet_for"], child_path(path, "quiet_for"), problems)
    if "retries" in table:
        fields["retries"] = f.as_int(table["retries"], child_path(path, "retries"), problems, low=0, high=20)
    if any(v is INVALID for v in fields.values()) or set(table) - set(_KEYS):
        return INVALID
    return NotifierConfig(**fields)


def _as_headers(value: Any, path: str, problems: Problems) -> dict[str, str] | Any:
    table = f.as_table(value, path, problems)
    if table is INVALID:
        return INVALID
    ok = all(f.as_str(v, child_path(path, str(k)), problems) is not INVALID for k, v in table.items())
    return {str(k): v for k, v in table.items()} if ok else INVALID


def _as_email(value: Any, path: str, problems: Problems) -> EmailSettings | Any:
    table = f.as_table(value, path, problems)
    if table is INVALID:
        return INVALID
    problems.unknown_keys(path, table, _EMAIL_KEYS)
    if "to" not in table:
        problems.add(path, "needs `to`, the addresses to write to")
        return INVALID
    to = table["to"]
    fields: dict[str, Any] = {
        "to": f.as_str_list([to] if isinstance(to, str) else to, child_path(path, "to"), problems)
    }
    for key in ("sender", "sendmail", "username", "password_file"):
        if key in table:
            fields[key] = f.as_str(table[key], child_path(path, key), problems)
    if "smtp" in table:
        smtp = f.as_str(table["smtp"], child_path(path, "smtp"), problems)
        if smtp is not INVALID and not _HOST_PORT_RE.match(smtp):
            problems.add(child_path(path, "smtp"), f"must be host:port, got {smtp!r}")
            smtp = INVALID
        fields["smtp"] = smtp
    if "starttls" in table:
        fields["starttls"] = f.as_bool(table["starttls"], child_path(path, "starttls"), problems)
    if any(v is INVALID for v in fields.values()) or set(table) - set(_EMAIL_KEYS):
        return INVALID
    return EmailSettings(**fields)
