"""The SSH transport: the system ``ssh`` running ``taskflow bridge`` on the far host.

ssh's stdin and stdout are both one end of a ``socketpair``; the client keeps the other end
and speaks its usual frames on it, so the blocking client (timeouts on ``recv``) and the
asyncio client (``open_unix_connection(sock=...)``) need no second code path. Running the
user's own ``ssh`` is the point: ``~/.ssh/config``, the agent, ``ProxyJump`` and known hosts
all apply, and the remote daemon gives the SSH user's role by its peer credentials.

When the link dies, ssh's stderr says why (``Connection refused``, ``Permission denied
(publickey)``, or the bridge's own ``taskflow: cannot reach taskflowd at ...``), and
``why_lost`` turns it into the one sentence the user sees.
"""

from __future__ import annotations

import socket
import subprocess

from taskflow.client.hosts import Host, ssh_argv

#: How long to wait for ssh to exit (and say why) once the link has closed.
EXIT_WAIT = 3.0


class SshTransport:
    """One ``ssh ... taskflow bridge`` process and our end of its stdin/stdout."""

    def __init__(self, host: Host, sock: socket.socket, process: subprocess.Popen[bytes]) -> None:
        self.host = host
        self.sock = sock
        self.process = process

    @classmethod
    def spawn(cls, host: Host, socket_path: str | None = None) -> SshTransport:
        """Start ssh for ``host``; raises ``OSError`` when no ``ssh`` can be run."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            process = subprocess.Popen(ssh_argv(host, socket_path), stdin=theirs.fileno(), stdout=theirs.fileno(),
                                       stderr=subprocess.PIPE, close_fds=True)
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        return cls(host, ours, process)

    @property
    def label(self) -> str:
        return f"{self.host.name} ({self.host.ssh})"

    def why_lost(self) -> str:
        """One sentence for a link that closed or never answered: ssh's or the bridge's
        last words when it has ended, else that the host is silent."""
        try:
            code = self.process.wait(EXIT_WAIT)
        except subprocess.TimeoutExpired:
            self.close()
            return f"host {self.label} did not answer in time over ssh"
        said = self._stderr_line()
        if said.startswith("taskflow: "):
            return f"host {self.host.name}: {said.removeprefix('taskflow: ')}"
        if code == 255:  # ssh's own failure: no connection, no authentication
            return f"cannot reach host {self.label} over ssh: {said or 'ssh failed'}"
        if code == 127 or "not found" in said:
            return (f"host {self.label} has no taskflow command on its PATH "
                    f"(ssh exited {code}{': ' + said if said else ''})")
        return f"lost the connection to taskflowd on host {self.label}" + (f": {said}" if said else "")

    def _stderr_line(self) -> str:
        """The last non-empty line ssh wrote on stderr (without the noise of a closed link)."""
        assert self.process.stderr is not None
        try:
            text = self.process.stderr.read().decode(errors="replace")
        except (OSError, ValueError):
            return ""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        useful = [line for line in lines if not line.startswith("Warning: Permanently added")]
        return useful[-1].rstrip(".") if useful else ""

    def abandon(self) -> None:
        """Close our end and end ssh now, without waiting for it (the asyncio client: its loop
        must not block). The bridge on the far side sees the connection drop and exits."""
        self.sock.close()
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.process.stderr is not None:
            self.process.stderr.close()

    def close(self) -> None:
        """Close our end (ssh sees EOF, the bridge exits) and reap ssh."""
        self.sock.close()
        if self.process.poll() is None:
            try:
                self.process.wait(EXIT_WAIT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr is not None:
            self.process.stderr.close()
