"""The TUI's screens: the four views (modes) and the modal dialogs."""
