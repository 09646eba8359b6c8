"""Start-up cost of a one-shot command: what every ``taskflow`` call pays before it works.

Monitoring loops and SSH sessions call ``taskflow status --json`` over and over, so its
start-up is most of its cost (issue 11 measures it against ``python -c pass``).
"""

from __future__ import annotations

import sys


def import_msgspec_lightly() -> None:
    """Import msgspec without ``typing_extensions``, which it only prefers, never needs.

    msgspec takes ``get_type_hints``, ``Required`` and ``NotRequired`` from
    ``typing_extensions`` when it is installed (Textual brings it), and that import (with
    ``inspect`` and ``ast`` behind it) is about a third of msgspec's import time. On
    Python >= 3.11 the ``typing`` versions do the same for every type the protocol uses, and
    msgspec falls back to them by itself when ``typing_extensions`` cannot be imported. So it
    is hidden for the duration of msgspec's import only; later imports (Textual's) get it.
    """
    if "msgspec" in sys.modules or "typing_extensions" in sys.modules:
        return
    sys.modules["typing_extensions"] = None  # type: ignore[assignment]  # "import fails"
    try:
        import msgspec  # noqa: F401  - imported for its side effect on sys.modules
    finally:
        del sys.modules["typing_extensions"]
