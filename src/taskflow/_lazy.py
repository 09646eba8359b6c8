"""Lazy public names for packages that must import fast (PEP 562).

``taskflow``, ``taskflow.model`` and ``taskflow.protocol`` re-export many names, but a
one-shot CLI call needs only a few; each name's module is imported on first use.
``stub_exports`` takes the names from the package's ``__init__.pyi``, the one list that type
checkers read too; ``lazy_exports`` takes them from a mapping.
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


#: The stub's leading docstring, so that prose in it is never read as an import.
_STUB_DOCSTRING_PATTERN = r'\A\s*(?:"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\')'


def stub_exports(
    package: str, init_file: str, namespace: MutableMapping[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for ``package``, from the ``from M import
    N as N`` lines of the ``__init__.pyi`` beside ``init_file``.

    ``N as N`` is a stub's way to re-export ``N`` (PEP 484); a plain ``from M import N``
    would be private to type checkers, so it is refused rather than made public here only.
    The stub is read on every import of the package with one regular expression: ``re`` is
    loaded anyway (argparse and typing need it), where ``ast`` cost ``taskflow status`` 3 ms
    of its start-up once msgspec stopped loading it (``cli/startup.py``). The stub is written
    by us and kept formatted by ruff, so its imports are the plain forms matched here; a test
    checks the names agree with what ``ast`` reads.
    """
    import re  # here, not at the top: ``taskflow`` itself imports this module

    with open(init_file.removesuffix(".py") + ".pyi", encoding="utf-8") as stub:
        text = re.sub(_STUB_DOCSTRING_PATTERN, "", stub.read(), count=1)
    homes: dict[str, str] = {}
    for module, names in re.findall(r"^from[ \t]+(\S+)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)", text, re.M):
        if module.startswith(".."):
            raise ImportError(f"{package} stub: import from a module of this package or by full name")
        for alias in names.strip("()").split(","):
            name, _, asname = alias.split("#")[0].strip().partition(" as ")
            if not name:
                continue  # a trailing comma
            if asname.strip() != name.strip():
                raise ImportError(f"{package} stub: write `{name.strip()} as {name.strip()}` to export it")
            homes[name.strip()] = module.removeprefix(".")  # lazy_exports resolves a relative one
    public = list(homes)
    return (*lazy_exports(package, homes, public, namespace), public)
