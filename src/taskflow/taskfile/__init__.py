"""taskfile layer."""
