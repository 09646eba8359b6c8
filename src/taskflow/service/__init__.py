"""``taskflow service``: install, inspect and remove taskflowd's systemd unit.

The folder reads in the order things happen:

- ``layout`` — where a system unit (root) or a user unit (XDG folders) puts each file,
  optionally below ``--root DIR``;
- ``unit_file`` — the unit, the hardening drop-in and the example task, rendered from the
  templates this installation ships (``shipped``);
- ``observe`` — what is on disk now (files, groups, folders);
- ``plan`` — pure: from the layout, the rendered files and the observation, the list of
  ``steps`` an install or uninstall takes (what ``--dry-run`` prints);
- ``apply`` — carries the steps out; every ``systemctl``, ``journalctl``,
  ``systemd-analyze``, ``groupadd`` and ``groupdel`` runs through ``systemd_commands``,
  whose command lines ``command_lines`` builds;
- ``unit_state`` and ``journal`` — reading ``systemctl show`` and the journal for
  ``service status`` and ``service logs``.

Nothing here talks to the daemon: the CLI (``taskflow.cli.service``) does, through the client.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Why a service action cannot go on, as one sentence for the user."""
