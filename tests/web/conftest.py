"""Fixtures for ``taskflow web``: a real daemon, a real ``taskflow web`` process on a free
loopback port, and a real headless Chromium (Debian's ``chromium``, driven by Playwright
through ``executable_path``: no browser is downloaded). Without Chromium or Playwright the
browser tests skip and say which is missing; ``.ci/run`` installs Chromium.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from daemon_process import DaemonProcess

sys.path.insert(0, str(Path(__file__).parent))

from served_dashboard import CHROMIUM, TIMEOUT, WEB_TASKS, Dashboard, WebProcess, expose_terminals


@pytest.fixture(scope="module")
def web_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    proc = DaemonProcess(tmp_path_factory.mktemp("web"), prefix="tf-web")
    proc.write_tasks(WEB_TASKS, "web.toml")
    proc.extra_args = ["--max-workers", "4"]
    try:
        proc.start(timeout=TIMEOUT)
        yield proc
    finally:
        proc.cleanup()


@pytest.fixture(scope="module")
def web(web_daemon: DaemonProcess) -> Iterator[WebProcess]:
    """``taskflow web`` with its defaults: read-only, loopback."""
    pytest.importorskip("textual_serve", reason="the web extra is not installed (pip install -e '.[test]')")
    server = WebProcess(web_daemon.socket, web_daemon.workdir)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium, or a skip saying what is missing."""
    if not (os.access(CHROMIUM, os.X_OK) or shutil.which(CHROMIUM)):
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium; .ci/run installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def open_dashboard(browser: Any) -> Iterator[Callable[[str], Dashboard]]:
    """Open a tab on a served URL (each tab is its own TUI process); closed afterwards."""
    pages: list[Any] = []

    def open_page(url: str) -> Dashboard:
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        pages.append(page)
        page.route("**/static/js/textual.js", expose_terminals)
        page.goto(url)
        return Dashboard(page)

    try:
        yield open_page
    finally:
        for page in pages:
            page.close()
