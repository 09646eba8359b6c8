"""What the TUI costs an SSH session: bytes per second on the terminal, key → screen latency.

The real ``taskflow tui`` runs against a real ``taskflowd`` inside a pseudo-terminal of
80×24 (``pty.fork``): the pty master receives exactly what ssh would carry on its stdout.
The bench reads it continuously, timestamps every chunk, and measures:

- bytes/s while idle (nothing running, the Tasks tree focused), in 3 windows;
- bytes/s while a task prints 2,000 lines/s into the log pane shown, in 3 windows (and
  with that pane maximized, ``l``);
- key → screen: from writing a key to the pty to the chunk in which the change it causes
  appears (the detail pane's ``Task · NAME`` title for ↑/↓ in the Tasks tree, idle and
  while streaming; a view's own title for ``1``–``4``, the view switches).

Figures are medians (windows, presses) with p99 and max for latencies; targets: idle
≤ 300 B/s, streaming ≤ 15 KB/s, key → screen p99 ≤ 150 ms, view switch ≤ 100 ms.
``--colors 256`` runs it as most ssh sessions do (``COLORTERM`` is not forwarded by default);
the default, truecolor, is the larger case. ``--ssh`` runs the TUI through a real ssh session
instead: a private ``sshd`` (Debian's openssh-server) on 127.0.0.1 with its own config, host
key and a throw-away client key, and the system ``ssh -tt`` in the pty, so the bytes counted
are what ssh writes to its stdout and every key goes through the ssh connection and back
(needs root for the private sshd to log in as; without sshd it says so and skips).

    .venv/bin/python bench/tui_bytes_bench.py [--seconds 5] [--presses 40] [--colors truecolor|256] [--ssh]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import pwd
import re
import shlex
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

from daemon_launch import BIN, start_taskflowd, stop_taskflowd

from taskflow.client import Client
from taskflow.protocol import Cancel, TriggerTask

COLS, ROWS = 80, 24
LINES_PER_SECOND = 2000
LEAVES = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"]
KEYS = {"down": b"\x1b[B", "up": b"\x1b[A", "tab": b"\t", "shift+tab": b"\x1b[Z"}
VIEW_TITLES = {"2": "History ·", "3": "Circuit breakers", "4": "Audit log", "1": "Task ·"}
# Escape sequences (CSI, OSC, charset, keypad) removed before searching for text.
ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=!$ ]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]")

STREAMER = (
    "import sys, time\n"
    "n = 0\n"
    "t = time.monotonic()\n"
    "while True:\n"
    f"    for _ in range({LINES_PER_SECOND // 20}):\n"
    "        n += 1\n"
    "        sys.stdout.write(f'{n:08d} INFO worker-3 processing item {n} of batch 17: ok\\n')\n"
    "    sys.stdout.flush()\n"
    "    t += 0.05\n"
    "    time.sleep(max(0.0, t - time.monotonic()))\n"
)


def tasks_file() -> str:
    lines = [f'[tasks.{name}]\ncommand = "true"\n' for name in LEAVES]
    lines.append(f"[tasks.stream]\ncommand = [{sys.executable!r}, \"-c\", {STREAMER!r}]\n")
    return "\n".join(lines)


class Terminal:
    """A program in a pty of ``cols``×``rows``; every chunk it writes, with the time read."""

    def __init__(self, argv: list[str], env: dict[str, str], cols: int = COLS, rows: int = ROWS) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child: the pty is its controlling terminal
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.execve(argv[0], argv, env)
        self.pid, self.fd = pid, fd
        self.chunks: list[tuple[float, bytes]] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            now = time.monotonic()
            with self._lock:
                self.chunks.append((now, data))

    def send(self, data: bytes) -> float:
        sent = time.monotonic()
        os.write(self.fd, data)
        return sent

    def bytes_between(self, start: float, end: float) -> int:
        with self._lock:
            return sum(len(d) for t, d in self.chunks if start <= t < end)

    def wait_for(self, text: str, since: float, timeout: float = 5.0) -> float | None:
        """When ``text`` first showed in what was written after ``since`` (None: never)."""
        needle = text.encode()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                after = [(t, d) for t, d in self.chunks if t >= since]
            raw = b""
            for at, data in after:
                raw += data
                if needle in ESCAPES.sub(b"", raw):
                    return at
            time.sleep(0.002)
        return None

    def close(self) -> None:
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        os.close(self.fd)


def quiet(term: Terminal, seconds: float = 0.5, timeout: float = 10.0) -> None:
    """Wait until the screen has stopped changing for ``seconds`` (start-up, a view switch)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = time.monotonic()
        if term.bytes_between(now - seconds, now + 1) == 0:
            return
        time.sleep(0.05)


def rate_windows(term: Terminal, seconds: float, windows: int = 3) -> list[float]:
    rates = []
    for _ in range(windows):
        start = time.monotonic()
        time.sleep(seconds)
        rates.append(term.bytes_between(start, start + seconds) / seconds)
    return rates


def tree_presses(term: Terminal, presses: int, cursor: int = 0) -> tuple[list[float], int]:
    """↓ through the task leaves and back ↑, timing each until its ``Task · NAME`` shows."""
    latencies: list[float] = []
    direction = 1
    for _ in range(presses):
        if not 0 <= cursor + direction < len(LEAVES):
            direction = -direction
        cursor += direction
        sent = term.send(KEYS["down" if direction > 0 else "up"])
        seen = term.wait_for(f"Task · {LEAVES[cursor]}", sent)
        latencies.append(float("inf") if seen is None else seen - sent)
        time.sleep(0.05)  # a person's pace, not a key repeat
    return latencies, cursor


def view_switches(term: Terminal, rounds: int) -> list[float]:
    latencies = []
    for _ in range(rounds):
        for key, title in VIEW_TITLES.items():
            sent = term.send(key.encode())
            seen = term.wait_for(title, sent)
            latencies.append(float("inf") if seen is None else seen - sent)
            quiet(term, 0.2)
    return latencies


def summary(latencies: list[float]) -> str:
    ms = sorted(x * 1000 for x in latencies)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"median {statistics.median(ms):.0f} ms, p99 {p99:.0f} ms, max {ms[-1]:.0f} ms over {len(ms)}"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def tui_argv(sock: str) -> list[str]:
    return [str(BIN / "taskflow"), "--socket", sock, "tui"]


SSHD = "/usr/sbin/sshd"


def start_sshd(work: Path) -> tuple[subprocess.Popen[bytes], list[str]]:
    """A private sshd on a free 127.0.0.1 port; returns it and the ``ssh`` argv prefix that
    logs into it as this (root) user with a throw-away key."""
    keys = work / "ssh"
    keys.mkdir(mode=0o700)
    for name in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys / name)], check=True)
    (keys / "authorized_keys").write_text((keys / "client.pub").read_text())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = keys / "sshd_config"
    config.write_text(f"Port {port}\nListenAddress 127.0.0.1\nHostKey {keys / 'host'}\n"
                      f"AuthorizedKeysFile {keys / 'authorized_keys'}\nPermitRootLogin prohibit-password\n"
                      f"PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
                      f"StrictModes no\nPidFile {keys / 'sshd.pid'}\n")
    Path("/run/sshd").mkdir(exist_ok=True)
    sshd = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stderr=open(keys / "sshd.log", "wb"))  # noqa: SIM115 - the process keeps it
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    ssh = ["/usr/bin/ssh", "-tt", "-p", str(port), "-i", str(keys / "client"), "-o", "StrictHostKeyChecking=no",
           "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes",
           f"{pwd.getpwuid(os.getuid()).pw_name}@127.0.0.1"]
    return sshd, ssh


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each byte-counting window")
    parser.add_argument("--presses", type=int, default=40)
    parser.add_argument("--switch-rounds", type=int, default=5, help="rounds of 2 3 4 1")
    parser.add_argument("--colors", choices=["truecolor", "256"], default="truecolor")
    parser.add_argument("--ssh", action="store_true", help="through a local sshd (when installed)")
    args = parser.parse_args()
    if args.ssh and (not Path(SSHD).exists() or os.getuid() != 0):
        why = f"{SSHD} is not installed" if not Path(SSHD).exists() else "the private sshd needs root"
        print(f"--ssh: {why}; skipped (a pty carries exactly what ssh's stdout would)")
        return 0

    work = Path(tempfile.mkdtemp(prefix="taskflow-bytes-bench-"))
    (work / "tasks").mkdir()
    (work / "tasks" / "bench.toml").write_text(tasks_file())
    (work / "home").mkdir()
    sock = f"/tmp/tf-bytes-bench-{os.getpid()}.sock"
    daemon, _ = start_taskflowd(work / "state", sock, work / "tasks")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work / "home"),
        "XDG_CONFIG_HOME": str(work / "home" / ".config"), "LANG": "C.UTF-8",
        "TERM": "xterm-256color", "TASKFLOW_THEMES_DIR": str(work / "home" / "themes"),
    }
    if args.colors == "truecolor":
        env["COLORTERM"] = "truecolor"
    sshd = None
    argv = tui_argv(sock)
    if args.ssh:  # the same TUI, started by sshd on the far side of a real ssh session
        sshd, ssh = start_sshd(work)
        remote = " ".join(shlex.quote(w) for w in ["env", *(f"{k}={v}" for k, v in env.items() if k != "TERM"), *argv])
        argv = [*ssh, remote]
    term = Terminal(argv, env)
    stream_run = None
    try:
        started = time.monotonic()
        if term.wait_for(f"Task · {LEAVES[0]}", started, timeout=30) is None:
            raise SystemExit("the TUI did not show its first task within 30 s")
        first = term.bytes_between(started, time.monotonic() + 1)
        quiet(term, 1.0)
        via = "through ssh -tt to a local sshd, counted on ssh's stdout" if args.ssh else "in a pty"
        print(f"terminal {COLS}x{ROWS}, {args.colors} colours, TERM=xterm-256color, {via}; first screen {first:,} bytes")

        idle_keys, cursor = tree_presses(term, args.presses)
        quiet(term, 1.0)
        idle = rate_windows(term, args.seconds)
        switches = view_switches(term, args.switch_rounds)
        quiet(term, 1.0)

        with Client.connect(sock, timeout=10) as client:
            stream_run = client.call(TriggerTask(task="stream")).id
        if term.wait_for("stream running", time.monotonic() - 1, timeout=15) is None:
            raise SystemExit("the stream run did not show in the run tree within 15 s")
        term.send(KEYS["tab"])  # the run tree: its cursor is on the newest run, the stream
        if term.wait_for("INFO worker-3", time.monotonic(), timeout=15) is None:
            raise SystemExit("the stream's output did not show in the log pane within 15 s")
        term.send(KEYS["shift+tab"])  # back to the Tasks tree; the log pane goes on following
        time.sleep(1.0)
        streaming = rate_windows(term, args.seconds)
        stream_keys, _ = tree_presses(term, args.presses, cursor)
        term.send(b"l")  # the log pane maximized: the largest area a streaming log repaints
        time.sleep(1.0)
        maximized = rate_windows(term, args.seconds)

        idle_rate, stream_rate = statistics.median(idle), statistics.median(streaming)
        keys = idle_keys + stream_keys
        p99 = sorted(keys)[min(len(keys) - 1, int(len(keys) * 0.99))]
        print(f"idle: {idle_rate:,.0f} B/s (median of {', '.join(f'{r:,.0f}' for r in idle)});"
              f" target <= 300 B/s: {verdict(idle_rate <= 300)}")
        print(f"streaming {LINES_PER_SECOND:,} lines/s into the log pane: {stream_rate:,.0f} B/s"
              f" (median of {', '.join(f'{r:,.0f}' for r in streaming)}); target <= 15,000 B/s:"
              f" {verdict(stream_rate <= 15_000)}")
        print(f"  the same with the log pane maximized ({COLS}x{ROWS - 3}): {statistics.median(maximized):,.0f} B/s"
              f" (median of {', '.join(f'{r:,.0f}' for r in maximized)})")
        print(f"key -> screen, Tasks tree idle: {summary(idle_keys)}")
        print(f"key -> screen, Tasks tree while streaming: {summary(stream_keys)}")
        print(f"key -> screen p99 over both: {p99 * 1000:.0f} ms; target <= 150 ms: {verdict(p99 <= 0.150)}")
        print(f"view switch (keys 2 3 4 1) -> the view's title on screen: {summary(switches)};"
              f" target median <= 100 ms: {verdict(statistics.median(switches) <= 0.100)}")
    finally:
        term.close()
        if stream_run is not None:
            try:
                with Client.connect(sock, timeout=10) as client:
                    client.call(Cancel(run_id=stream_run))
            except Exception:  # the daemon is stopped next anyway
                pass
        stop_taskflowd(daemon)
        if sshd is not None:
            sshd.terminate()
            sshd.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
