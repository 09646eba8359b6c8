"""What the ``taskflow web`` tests drive: a ``taskflow web`` process and a browser tab on it.

The dashboard is drawn by xterm.js on a canvas, so there is no DOM text to read. The test
browser therefore gets textual.js with one addition (``expose_terminals``): each xterm
``Terminal`` is pushed to ``window.__taskflowTerminals`` when it opens, and
``Dashboard.screen_text`` reads the rows of its buffer — exactly what the canvas shows.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("TASKFLOW_CHROMIUM", "/usr/bin/chromium")
TIMEOUT = 20.0

#: Where textual.js opens each terminal; the test hook goes right after it.
TERMINAL_OPEN = "this.terminal.open(e)"
EXPOSE_TERMINAL = ",(window.__taskflowTerminals=window.__taskflowTerminals||[]).push(this.terminal)"

SCREEN_TEXT_JS = """() => {
  const terminals = window.__taskflowTerminals || [];
  if (!terminals.length) return "";
  const terminal = terminals[terminals.length - 1];
  const buffer = terminal.buffer.active;
  const rows = [];
  for (let y = 0; y < terminal.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    rows.push(line ? line.translateToString(true) : "");
  }
  return rows.join("\\n");
}"""

WEB_TASKS = """
[tasks.hello]
description = "Say hello"
command = "echo hello"

[tasks.gate]
description = "Hold until the release gate opens"
command = "while [ ! -e $WORK/gate-open ]; do sleep 0.05; done; echo through"

[tasks.nightly]
description = "Nightly maintenance"
[tasks.nightly.children.backup]
command = "echo backup"
[tasks.nightly.children.verify]
command = "echo verify"
depends_on = ["backup"]
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def taskflow_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "taskflow.cli.main", *args]


class WebProcess:
    """One ``taskflow web`` in its own process group (its served TUIs are its children)."""

    def __init__(self, socket_path: str, workdir: Path, *extra: str, host: str = "127.0.0.1") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = workdir / f"web-{self.port}.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                taskflow_argv("--socket", socket_path, "web", "--bind", f"{host}:{self.port}", *extra),
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                # HOME: no user config file of this machine picks the metrics port or theme.
                env={**os.environ, "TEXTUAL_ANIMATIONS": "none", "HOME": str(workdir)},
            )
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"taskflow web exited {self.proc.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        raise AssertionError(f"taskflow web did not answer within {TIMEOUT}s:\n{self.output()}")

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM (textual-serve closes every session), then make sure the group is gone."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # any served TUI left behind
        except ProcessLookupError:
            pass
        if self.proc.poll() is None:
            self.proc.wait(5)


def expose_terminals(route: Any) -> None:
    answer = route.fetch()
    script = answer.text()
    if TERMINAL_OPEN not in script:
        pytest.fail(f"textual-serve's textual.js no longer contains {TERMINAL_OPEN!r}; update the test hook")
    route.fulfill(response=answer, body=script.replace(TERMINAL_OPEN, TERMINAL_OPEN + EXPOSE_TERMINAL, 1))


class Dashboard:
    """One browser tab on the served dashboard."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def screen_text(self) -> str:
        return str(self.page.evaluate(SCREEN_TEXT_JS))

    def wait_for(self, check: Callable[[str], bool], what: str, timeout: float = TIMEOUT) -> str:
        """Poll the screen until ``check(text)`` holds; fail with the last screen if not."""
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen_text()
            if check(text):
                return text
            self.page.wait_for_timeout(50)
        raise AssertionError(f"the page never showed {what}; last screen:\n{text}")

    def wait_for_text(self, *needles: str, timeout: float = TIMEOUT) -> str:
        return self.wait_for(lambda text: all(n in text for n in needles), " and ".join(map(repr, needles)), timeout)

    def press(self, *keys: str) -> None:
        self.page.locator(".xterm-helper-textarea").focus()
        for key in keys:
            self.page.keyboard.press(key)
