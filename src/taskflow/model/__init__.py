"""The domain model: task specs, runs, attempts, breakers, audit entries, configuration.

Pure data (msgspec Structs) with no I/O; every other layer speaks in these types.

Names are loaded from their submodule on first access (PEP 562), so that a light client
asking for ``Role`` does not pay for building every Struct and enum of the model: ``taskflow
status --json`` runs on every monitoring poll and its start-up is most of its cost. The
public names are listed once, in ``__init__.pyi``, for type checkers and for ``stub_exports``
alike (``taskflow.protocol``'s docstring says why that way).
"""

from taskflow._lazy import stub_exports

__getattr__, __dir__, __all__ = stub_exports(__name__, __file__, globals())
