"""The dashboard served to browsers (``taskflow web``, extra ``web``).

textual-serve runs one TUI process per browser connection and relays its screen over a
websocket; this package decides what that process is (the TUI, read-only unless actions
were allowed), where the server listens (loopback unless told otherwise), and adds the two
routes a browser user needs besides the dashboard: ``/health`` and ``/metrics``.

``address`` and ``served`` are plain Python; only ``server`` imports textual-serve, so the
CLI can check a bind address and say the extra is missing without it installed. Like the
TUI and the CLI, this package reaches the daemon only through ``taskflow.client``, and it
never imports Textual: the dashboard runs in the child processes, not here.
"""
