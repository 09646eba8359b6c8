"""Delivering one notice: a command, a webhook or an email. Each raises ``DeliveryFailed``
with one sentence, or returns; each is bounded by the notifier's ``timeout``.

Webhook and SMTP use the standard library (``urllib.request``, ``smtplib``) in a worker
thread; a command and ``sendmail`` are child processes in their own session, killed with
their group at the timeout.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import smtplib
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage

from taskflow import __version__
from taskflow.daemon.notifications.routing import Notice, summary
from taskflow.model.notifications import EmailSettings, NotifierConfig

SHELL = "/bin/sh"
#: Variables a notifier command inherits from the daemon; the rest is the notice's own.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "USER", "LOGNAME")


class DeliveryFailed(Exception):
    """A notice did not get through; the message is one sentence for the log."""


async def deliver(notifier: NotifierConfig, notice: Notice) -> None:
    payload = json.dumps({"notifier": notifier.name, **notice.body}, default=str).encode()
    if notifier.command is not None:
        await _run_command(notifier, notice, payload)
    elif notifier.webhook is not None:
        await asyncio.to_thread(_post, notifier, payload)
    elif notifier.email is not None:
        await _send_email(notifier, notifier.email, notice, payload)


async def _run_command(notifier: NotifierConfig, notice: Notice, payload: bytes) -> None:
    assert notifier.command is not None
    env = {key: os.environ[key] for key in _INHERITED if key in os.environ}
    env.update(notice.env, TASKFLOW_NOTIFIER=notifier.name)
    await _child([SHELL, "-c", notifier.command], payload, env, notifier.timeout, "command")


async def _child(argv: list[str], stdin: bytes, env: dict[str, str], timeout: float, what: str) -> None:
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE, env=env, start_new_session=True,
        )
    except OSError as exc:
        raise DeliveryFailed(f"{what} could not start: {exc.strerror or exc}") from None
    try:
        _, err = await asyncio.wait_for(proc.communicate(stdin), timeout)
    except TimeoutError:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        await proc.wait()
        raise DeliveryFailed(f"{what} did not finish within {timeout:g} s and was killed") from None
    if proc.returncode != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-1:] if err else []
        detail = f": {tail[0][:200]}" if tail else ""
        raise DeliveryFailed(f"{what} exited {proc.returncode}{detail}")


def _post(notifier: NotifierConfig, payload: bytes) -> None:
    assert notifier.webhook is not None
    headers = {"Content-Type": "application/json", "User-Agent": f"taskflowd/{__version__}", **notifier.headers}
    request = urllib.request.Request(notifier.webhook, data=payload, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=notifier.timeout) as response:
            response.read(65536)
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"webhook answered HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryFailed(f"webhook unreachable: {reason}") from None


async def _send_email(notifier: NotifierConfig, email: EmailSettings, notice: Notice, payload: bytes) -> None:
    message = EmailMessage()
    message["Subject"] = notice.subject
    message["From"] = email.sender
    message["To"] = ", ".join(email.to)
    message["X-Taskflow-Event"] = notice.event
    message.set_content(summary(notice) + "\n\n" + json.dumps(json.loads(payload), indent=2) + "\n")
    if email.smtp is None:
        env = {key: os.environ[key] for key in _INHERITED if key in os.environ}
        await _child([email.sendmail, "-t", "-i"], message.as_bytes(), env, notifier.timeout, "sendmail")
        return
    await asyncio.to_thread(_smtp, email, message, notifier.timeout)


def _smtp(email: EmailSettings, message: EmailMessage, timeout: float) -> None:
    assert email.smtp is not None
    host, _, port = email.smtp.rpartition(":")
    try:
        with smtplib.SMTP(host, int(port), timeout=timeout) as smtp:
            if email.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if email.username is not None:
                password = ""
                if email.password_file is not None:
                    with open(email.password_file, encoding="utf-8") as f:
                        password = f.read().strip()
                smtp.login(email.username, password)
            smtp.send_message(message)
    except smtplib.SMTPException as exc:
        raise DeliveryFailed(f"SMTP {email.smtp} refused the mail: {exc}") from None
    except OSError as exc:
        raise DeliveryFailed(f"SMTP {email.smtp} unreachable: {exc.strerror or exc}") from None
