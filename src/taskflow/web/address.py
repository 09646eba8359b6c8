"""Where ``taskflow web`` listens: parsing ``--bind`` and telling loopback from the rest.

The dashboard has no login of its own, so anything but a loopback address needs the
operator to say ``--public``; a host name other than ``localhost`` is not resolved here and
counts as public (what it resolves to can change after the check).
"""

from __future__ import annotations

from typing import NamedTuple

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_BIND = f"{DEFAULT_HOST}:{DEFAULT_PORT}"


class BindError(ValueError):
    """``--bind`` is not ``HOST:PORT``, ``HOST``, ``:PORT`` or ``[IPv6]:PORT``."""


class BindAddress(NamedTuple):
    host: str
    port: int

    @property
    def is_loopback(self) -> bool:
        """Only this machine can connect: ``localhost`` or a loopback IP (127.0.0.0/8, ::1)."""
        import ipaddress  # only when serving: `taskflow --help` loads this module's caller

        if self.host.lower() == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False  # a host name: whatever it resolves to is not ours to trust

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` as a browser on this machine would type it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def parse_bind(text: str) -> BindAddress:
    """``127.0.0.1:8080``, ``0.0.0.0``, ``:9000``, ``[::1]:8080`` -> host and port."""
    text = text.strip()
    host, port_text = text, ""
    if text.startswith("["):  # [IPv6]:PORT or [IPv6]
        end = text.find("]")
        rest = text[end + 1:] if end >= 0 else ":"
        if end < 0 or (rest and not rest.startswith(":")):
            raise BindError(f"--bind {text!r}: expected [IPV6]:PORT")
        host, port_text = text[1:end], rest[1:]
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    elif text.count(":") > 1:
        host = text  # a bare IPv6 address
    host = host or DEFAULT_HOST
    port = DEFAULT_PORT
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise BindError(f"--bind {text!r}: the port must be a number from 1 to 65535")
        port = int(port_text)
    return BindAddress(host, port)
