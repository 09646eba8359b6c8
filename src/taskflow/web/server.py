"""``DashboardServer``: textual-serve's ``Server`` with taskflow's page, ``/health`` and ``/metrics``.

textual-serve (Textualize) serves ``/`` (the page), ``/ws`` (one TUI process per browser
connection, its screen relayed over the websocket) and ``/static``. On top of that:

- the page is taskflow's own template (``templates/app_index.html``): every URL in it is
  relative, so it works through ``ssh -L`` on another local port or behind a proxy under a
  path, no font is fetched from the internet, and a bar under the dashboard says whether
  it is read-only and links the daemon's health and metrics;
- ``/health`` answers the daemon's ``Health`` and ``Status`` as JSON (200 when healthy,
  503 otherwise);
- ``/metrics`` relays the daemon's Prometheus exposition, which the daemon serves only on
  its own loopback (``metrics_port``), so a browser elsewhere can read it through here.

Routes are added in ``on_startup``, textual-serve's hook that receives the aiohttp app:
aiohttp freezes the router only after its start-up handlers ran. On shutdown (SIGTERM,
Ctrl-C) every open session is ended at once, which quits its TUI; otherwise aiohttp would
wait up to a minute for browsers to hang up.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp
import aiohttp_jinja2
from aiohttp import web
from textual_serve.server import Server

from taskflow.web.address import BindAddress
from taskflow.web.health import encode_report, read_health
from taskflow.web.served import dashboard_command

TEMPLATES = Path(__file__).resolve().parent / "templates"
METRICS_TIMEOUT = 5.0
#: How long shutdown waits for the sessions' TUIs to quit.
SESSION_STOP_TIMEOUT = 5.0


class DashboardServer(Server):
    """The dashboard of the daemon on ``socket_path``, served on ``bind``."""

    def __init__(
        self,
        socket_path: str,
        bind: BindAddress,
        *,
        read_only: bool = True,
        theme: str | None = None,
        metrics_port: int | None = None,
        title: str = "taskflow",
    ) -> None:
        super().__init__(
            dashboard_command(socket_path, read_only=read_only, theme=theme),
            host=bind.host,
            port=bind.port,
            title=title,
            public_url=bind.url,
            templates_path=TEMPLATES,
        )
        self.socket_path = socket_path
        self.bind = bind
        self.read_only = read_only
        self.metrics_port = metrics_port
        self._sessions: set[asyncio.Task[object]] = set()

    @property
    def metrics_url(self) -> str | None:
        """Where the daemon serves its metrics, when its config says so."""
        return None if self.metrics_port is None else f"http://127.0.0.1:{self.metrics_port}/metrics"

    async def on_startup(self, app: web.Application) -> None:
        app.router.add_get("/health", self.handle_health, name="health")
        app.router.add_get("/metrics", self.handle_metrics, name="metrics")
        aiohttp_jinja2.get_env(app).globals["taskflow"] = {
            "read_only": self.read_only,
            "metrics": self.metrics_port is not None,
        }
        mode = "read-only" if self.read_only else "actions allowed"
        print(f"taskflow web: serving the dashboard of {self.socket_path} on {self.public_url} ({mode}); "
              f"health at {self.public_url}/health; Ctrl-C stops", file=sys.stderr, flush=True)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One browser session (textual-serve runs its TUI), remembered so shutdown can end it."""
        session = asyncio.current_task()
        if session is not None:
            self._sessions.add(session)
        try:
            return await super().handle_websocket(request)
        finally:
            if session is not None:
                self._sessions.discard(session)

    async def on_shutdown(self, app: web.Application) -> None:
        """End every session now: textual-serve then tells its TUI to quit and waits for it."""
        sessions = list(self._sessions)
        for session in sessions:
            session.cancel()
        if sessions:
            await asyncio.wait(sessions, timeout=SESSION_STOP_TIMEOUT)

    async def handle_health(self, request: web.Request) -> web.Response:
        report = await asyncio.to_thread(read_health, self.socket_path)
        return web.Response(body=encode_report(report), status=200 if report.ok else 503,
                            content_type="application/json")

    async def handle_metrics(self, request: web.Request) -> web.Response:
        url = self.metrics_url
        if url is None:
            return web.Response(status=404, text="No metrics to relay: set metrics_port in the daemon's config "
                                                 "(extra metrics); taskflow web reads it from the same config "
                                                 "file, or give it --metrics-port.\n")
        try:
            timeout = aiohttp.ClientTimeout(total=METRICS_TIMEOUT)
            async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as upstream:
                body = await upstream.read()
                content_type = upstream.headers.get("Content-Type", "text/plain; charset=utf-8")
                return web.Response(body=body, status=upstream.status, headers={"Content-Type": content_type})
        except (aiohttp.ClientError, TimeoutError) as exc:
            return web.Response(status=502, text=f"The daemon's metrics at {url} did not answer ({exc or 'timeout'}).\n")
