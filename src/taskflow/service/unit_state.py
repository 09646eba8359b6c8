"""The unit as systemd sees it, read from ``systemctl show`` (``service status``). Pure."""

from __future__ import annotations

import msgspec


class UnitState(msgspec.Struct, kw_only=True):
    """The properties of ``taskflowd.service`` that ``service status`` shows."""

    load_state: str = "unknown"  # loaded, not-found, bad-setting, masked
    active_state: str = "unknown"  # active, inactive, failed, activating, deactivating, reloading
    sub_state: str = ""  # running, dead, exited, auto-restart...
    unit_file_state: str = ""  # enabled, disabled, static...
    main_pid: int | None = None
    since: str | None = None  # systemd's own text, in this machine's zone
    fragment_path: str | None = None
    drop_in_paths: list[str] = []
    restarts: int = 0
    result: str = ""  # success, exit-code, signal, watchdog, timeout...
    invocation_id: str | None = None

    @property
    def running(self) -> bool:
        return self.active_state in ("active", "reloading")


def parse_show(text: str) -> UnitState:
    """``systemctl show --property=...`` output (``Key=value`` lines) as a ``UnitState``."""
    props = dict(line.partition("=")[::2] for line in text.splitlines() if "=" in line)
    pid = props.get("MainPID", "")
    restarts = props.get("NRestarts", "")
    return UnitState(
        load_state=props.get("LoadState") or "unknown",
        active_state=props.get("ActiveState") or "unknown",
        sub_state=props.get("SubState", ""),
        unit_file_state=props.get("UnitFileState", ""),
        main_pid=int(pid) if pid.isdigit() and pid != "0" else None,
        since=props.get("ActiveEnterTimestamp") or None,
        fragment_path=props.get("FragmentPath") or None,
        drop_in_paths=props.get("DropInPaths", "").split(),
        restarts=int(restarts) if restarts.isdigit() else 0,
        result=props.get("Result", ""),
        invocation_id=props.get("InvocationID") or None,
    )


def summary(state: UnitState) -> str:
    """One line: ``active (running) since …; enabled; pid 812`` or why it is not there."""
    if state.load_state == "not-found":
        return "not installed (systemd has no taskflowd.service; taskflow service install writes it)"
    parts = [f"{state.active_state} ({state.sub_state})" if state.sub_state else state.active_state]
    if state.since and state.running:
        parts[0] += f" since {state.since}"
    if state.unit_file_state:
        parts.append(state.unit_file_state)
    if state.main_pid is not None:
        parts.append(f"pid {state.main_pid}")
    if state.restarts:
        parts.append(f"restarted {state.restarts} time{'s' if state.restarts != 1 else ''}")
    if state.result and state.result != "success":
        parts.append(f"last result {state.result}")
    if state.load_state not in ("loaded", "unknown"):
        parts.append(f"load state {state.load_state}")
    return "; ".join(parts)
