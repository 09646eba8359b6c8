"""Lazy public names for packages that must import fast (PEP 562).

``taskflow``, ``taskflow.model`` and ``taskflow.protocol`` re-export many names, but a
one-shot CLI call needs only a few; each name's module is imported on first use.
"""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: this is on the CLI's path
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, MutableMapping, Sequence
    from typing import Any


def lazy_exports(
    package: str, homes: Mapping[str, str], public: Sequence[str], namespace: MutableMapping[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: ``homes`` maps a public name to its
    module, absolute (``taskflow.pytask``) or relative to the package (``run``)."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = home if home.startswith("taskflow.") else f"{package}.{home}"
        value = getattr(import_module(module), name)
        namespace[name] = value  # later look-ups skip this hook
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *public})

    return __getattr__, __dir__
