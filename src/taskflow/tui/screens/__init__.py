"""The TUI's screens: the four views (modes), the modal dialogs, and what their keys do to
the daemon (``daemon_actions``)."""
