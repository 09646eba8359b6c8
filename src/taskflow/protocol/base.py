"""The base of every message body: a strict, tagged msgspec Struct.

``tag=True`` puts the class name in a ``type`` field, so one decoder can tell every message
apart; ``forbid_unknown_fields`` makes a typo or a newer peer's field an error, not a
silently dropped value. Subclasses must repeat ``kw_only=True`` (msgspec does not inherit it).
"""

from __future__ import annotations

import msgspec


class Body(msgspec.Struct, tag=True, tag_field="type", forbid_unknown_fields=True, kw_only=True):
    """Anything that travels as a frame body or inside one as a tagged value."""
