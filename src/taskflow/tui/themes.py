"""Themes from TOML files: the built-in ones shipped in ``themes/`` and the user's own.

A theme file is a flat table of Textual ``Theme`` fields plus a ``[variables]`` table for
taskflow's own colours (``state-running``, ``breaker-open``...). Every file is validated;
all problems are gathered into one list so the app can report them in ONE notification and
carry on with a built-in theme, as Posting does.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import Theme

import taskflow
from taskflow.tui.glyphs import DEFAULT_STATE_COLOURS

DEFAULT_THEME = "taskflow-dark"
_COLOUR_FIELDS = ("primary", "secondary", "warning", "error", "success", "accent",
                  "foreground", "background", "surface", "panel", "boost")
_OTHER_FIELDS = {"name": str, "dark": bool, "luminosity_spread": float, "text_alpha": float}
_ALLOWED = set(_COLOUR_FIELDS) | set(_OTHER_FIELDS) | {"variables"}

# Used when no theme file can be found at all (a broken install): the app must still start.
FALLBACK_THEME = Theme(
    name=DEFAULT_THEME,
    primary="#7aa2f7",
    secondary="#bb9af7",
    accent="#ff9e64",
    warning="#e0af68",
    error="#f7768e",
    success="#9ece6a",
    foreground="#c0caf5",
    background="#1a1b26",
    surface="#24283b",
    panel="#2f3549",
    dark=True,
    variables=dict(DEFAULT_STATE_COLOURS),
)


@dataclass
class ThemeLoad:
    """Result of loading theme folders: good themes by name, and every problem found."""

    themes: dict[str, Theme] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def builtin_theme_dirs() -> list[Path]:
    """Where the shipped themes live: inside the wheel, else the source tree's ``themes/``."""
    package = Path(taskflow.__file__).resolve().parent
    candidates = [package / "themes", package.parents[1] / "themes"]
    return [path for path in candidates if path.is_dir()]


def user_theme_dir(env: dict[str, str] | None = None) -> Path:
    """``$TASKFLOW_THEMES_DIR``, else ``~/.config/taskflow/themes``."""
    env = dict(os.environ) if env is None else env
    if env.get("TASKFLOW_THEMES_DIR"):
        return Path(env["TASKFLOW_THEMES_DIR"])
    config = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "taskflow" / "themes"


def parse_theme(data: dict[str, object], source: str) -> Theme:
    """Build a ``Theme`` from one decoded TOML table; raises ``ValueError`` naming the key."""
    unknown = sorted(set(data) - _ALLOWED)
    if unknown:
        raise ValueError(f"{source}: unknown key {unknown[0]!r}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{source}: 'name' must be a non-empty string")
    if "primary" not in data:
        raise ValueError(f"{source}: 'primary' colour is required")
    kwargs: dict[str, object] = {"name": name}
    for key in _COLOUR_FIELDS:
        if key in data:
            kwargs[key] = _colour(data[key], f"{source}: {key}")
    for key, kind in _OTHER_FIELDS.items():
        if key in data and key != "name":
            value = data[key]
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, kind):
                raise ValueError(f"{source}: {key!r} must be a {kind.__name__}")
            kwargs[key] = value
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise ValueError(f"{source}: 'variables' must be a table")
    checked: dict[str, str] = {}
    for key, value in variables.items():
        if not isinstance(value, str):
            raise ValueError(f"{source}: variables.{key} must be a string")
        if key in DEFAULT_STATE_COLOURS:
            _colour(value, f"{source}: variables.{key}")
        checked[key] = value
    kwargs["variables"] = {**DEFAULT_STATE_COLOURS, **checked}
    known = {f.name for f in fields(Theme)}
    return Theme(**{k: v for k, v in kwargs.items() if k in known})  # type: ignore[arg-type]


def _colour(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where} must be a colour string like \"#7aa2f7\"")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ValueError(f"{where}: {value!r} is not a colour") from None
    return value


def load_theme_dir(folder: Path, into: ThemeLoad) -> None:
    """Load every ``*.toml`` in ``folder`` into ``into``; later folders override earlier names."""
    for path in sorted(folder.glob("*.toml")):
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
            theme = parse_theme(data, path.name)
        except tomllib.TOMLDecodeError as exc:
            into.errors.append(f"{path.name}: not valid TOML ({exc})")
            continue
        except (ValueError, OSError) as exc:
            into.errors.append(str(exc))
            continue
        into.themes[theme.name] = theme


def load_themes(env: dict[str, str] | None = None) -> ThemeLoad:
    """Built-in themes, then the user's; a missing user folder is not an error."""
    result = ThemeLoad()
    dirs = builtin_theme_dirs()
    for folder in reversed(dirs):  # the packaged copy wins over the source tree's
        load_theme_dir(folder, result)
    result.themes.setdefault(DEFAULT_THEME, FALLBACK_THEME)
    user = user_theme_dir(env)
    try:
        present = user.is_dir()
    except OSError as exc:  # e.g. a home directory this user may not read
        result.errors.append(f"{user}: cannot be read ({exc.strerror or exc})")
        present = False
    if present:
        load_theme_dir(user, result)
    return result
