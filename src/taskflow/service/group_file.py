"""Groups in a tree's own ``etc/group`` (install ``--root DIR``), as ``groupadd --system`` would.

Pure text in, text out: adding a group that is there changes nothing, so a re-run is safe.
A new group gets the highest free gid of the system range (``SYS_GID_MIN``–``SYS_GID_MAX``,
100–999 unless the tree's ``etc/login.defs`` says otherwise), as ``groupadd --system`` picks.
"""

from __future__ import annotations

SYSTEM_GID_RANGE = (100, 999)


def group_names(text: str) -> list[str]:
    """The names in a ``group`` (or ``gshadow``) file."""
    return [line.split(":", 1)[0] for line in text.splitlines() if line.strip() and not line.startswith("#")]


def system_gid_range(login_defs: str | None) -> tuple[int, int]:
    """``SYS_GID_MIN`` and ``SYS_GID_MAX`` from a ``login.defs`` text, else the defaults."""
    low, high = SYSTEM_GID_RANGE
    for line in (login_defs or "").splitlines():
        words = line.split()
        if len(words) == 2 and words[1].isdigit():
            if words[0] == "SYS_GID_MIN":
                low = int(words[1])
            elif words[0] == "SYS_GID_MAX":
                high = int(words[1])
    return low, high


def add_group(text: str, name: str, *, gid_range: tuple[int, int] = SYSTEM_GID_RANGE) -> str:
    """``text`` (a ``group`` file) with ``name`` in it; unchanged when it is there already."""
    if name in group_names(text):
        return text
    used = set()
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 3 and fields[2].isdigit():
            used.add(int(fields[2]))
    low, high = gid_range
    gid = next((g for g in range(high, low - 1, -1) if g not in used), None)
    if gid is None:
        raise ValueError(f"no free system gid between {low} and {high}")
    return _append(text, f"{name}:x:{gid}:")


def add_shadow_group(text: str, name: str) -> str:
    """``text`` (a ``gshadow`` file) with ``name`` in it (no password, no members)."""
    return text if name in group_names(text) else _append(text, f"{name}:!::")


def remove_group(text: str, name: str) -> str:
    """``text`` (a ``group`` or ``gshadow`` file) without ``name``'s line."""
    kept = [line for line in text.splitlines(keepends=True) if line.split(":", 1)[0] != name]
    return "".join(kept)


def _append(text: str, line: str) -> str:
    if text and not text.endswith("\n"):
        text += "\n"
    return text + line + "\n"
