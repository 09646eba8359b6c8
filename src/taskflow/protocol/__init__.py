"""The taskflow wire protocol: framing, message Structs, views and events.

Shared by the daemon and every client; imports nothing but msgspec and the model, so the CLI
can use it without loading asyncio.

Every name is loaded from its submodule on first access (PEP 562): ``from taskflow.protocol
import Status`` loads the status request and its view, not every event and model Struct.
That keeps ``taskflow status --json``, polled by monitoring, within a few interpreter
start-ups; ``tests/protocol/test_protocol_import_cost.py`` guards what it loads.

The public names are listed once, in ``__init__.pyi``: type checkers read that stub instead
of this file, and ``stub_exports`` builds ``__getattr__``, ``__dir__`` and ``__all__`` from
it. That is the layout of scientific-python's ``lazy-loader`` (``attach_stub``), done with
our helper instead. Measured here with ``-X importtime``: ``lazy-loader`` 0.6 cost about
1.2 ms (0.6 ms its own module, 0.6 ms reading the stub), ``stub_exports`` 0.4 ms, the
three hand-kept lists it replaces 0.2 ms; end to end, all three sit within the noise of a
35 ms ``status`` start-up. So the helper we already had does it, without one more run-time
dependency on every CLI call.
"""

from taskflow._lazy import stub_exports

__getattr__, __dir__, __all__ = stub_exports(__name__, __file__, globals())
