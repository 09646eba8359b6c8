"""What this installation ships for the unit, and the ``taskflowd`` it runs from.

The unit template is the repository's ``taskflowd.service`` and the hardening drop-in is
``examples/systemd/hardening.conf``; the wheel carries both in this package (pyproject's
``force-include``), and a checkout (an editable install) reads them where they are.
"""

from __future__ import annotations

import os
import shutil
import sysconfig
from pathlib import Path

from taskflow.service import ServiceError

#: name inside the package → its source in a checkout, relative to the repository root
_SHIPPED = {
    "taskflowd.service": "taskflowd.service",
    "hardening.conf": "examples/systemd/hardening.conf",
}


def shipped_file(name: str) -> Path:
    """Where this installation keeps ``name`` (see ``_SHIPPED``)."""
    packaged = Path(__file__).with_name(name)
    if packaged.is_file():
        return packaged
    checkout = Path(__file__).resolve().parents[3] / _SHIPPED[name]  # src/taskflow/service → root
    if checkout.is_file():
        return checkout
    raise ServiceError(f"this installation of taskflow has no {name} (looked in {packaged.parent} "
                       f"and {checkout.parent}); reinstall it")


def unit_template() -> str:
    return shipped_file("taskflowd.service").read_text(encoding="utf-8")


def hardening_template() -> str:
    return shipped_file("hardening.conf").read_text(encoding="utf-8")


def scripts_dir() -> str:
    """Where this environment's console scripts are (``/opt/taskflow/bin`` for that venv)."""
    return sysconfig.get_path("scripts")


def default_taskflowd() -> str:
    """The ``taskflowd`` of the environment this ``taskflow`` runs from."""
    beside = os.path.join(scripts_dir(), "taskflowd")
    if os.access(beside, os.X_OK):
        return beside
    found = shutil.which("taskflowd")
    if found is not None:
        return os.path.abspath(found)
    raise ServiceError(f"no taskflowd next to this taskflow ({scripts_dir()}) nor on PATH; "
                       "pass --taskflowd PATH")


def this_cli() -> str:
    """This environment's ``taskflow`` command."""
    return os.path.join(scripts_dir(), "taskflow")
