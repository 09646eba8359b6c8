"""Reading a task file's bytes into plain Python data (TOML or YAML), reporting syntax errors.

Both formats end as the same dicts, lists and scalars, so everything after this module is
format-blind. YAML is read with YAML 1.2 booleans (only ``true``/``false``): under PyYAML's
default YAML 1.1 rules the retry key ``on`` would silently become ``True``.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from taskflow.taskfile.problems import Problems, child_path

TOML_SUFFIXES = (".toml",)
YAML_SUFFIXES = (".yaml", ".yml")


def read_document(path: Path, problems: Problems) -> dict[str, Any] | None:
    """The top-level table of ``path``, or None when it cannot be read or parsed."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.add("", f"cannot read file: {exc.strerror or exc}")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.add("", f"file is not valid UTF-8 (line {line})")
        return None
    if path.suffix.lower() in YAML_SUFFIXES:
        data = _read_yaml(text, problems)
    else:
        data = _read_toml(text, problems)
    if data is None:
        return None
    if not isinstance(data, dict):
        problems.add("", "expected a table (mapping) at the top level")
        return None
    return data


def _read_toml(text: str, problems: Problems) -> dict[str, Any] | None:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already ends with "(at line N, column M)".
        problems.add("", f"invalid TOML: {exc}")
        return None


def _read_yaml(text: str, problems: Problems) -> Any:
    try:
        import yaml
    except ImportError:
        problems.add("", "YAML task files need PyYAML: install taskflowd[yaml]")
        return None
    loader = _yaml_loader_class(yaml)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}
        _report_duplicate_keys(node, "", problems, yaml)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        problems.add("", f"invalid YAML: {_describe_yaml_error(exc)}")
        return None
    except yaml.YAMLError as exc:
        problems.add("", f"invalid YAML: {exc}")
        return None
    finally:
        loader.dispose()


def _describe_yaml_error(exc: Any) -> str:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "syntax error"
    if mark is None:
        return str(problem)
    return f"{problem} (at line {mark.line + 1}, column {mark.column + 1})"


def _report_duplicate_keys(node: Any, path: str, problems: Problems, yaml: Any) -> None:
    """PyYAML keeps the last of two equal keys silently; a task file must not."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if isinstance(key, str) and key != "<<":
                line = key_node.start_mark.line + 1
                if key in seen:
                    problems.add(
                        child_path(path, key),
                        f"duplicate key (line {line}; first defined at line {seen[key]})",
                    )
                else:
                    seen[key] = line
                _report_duplicate_keys(value_node, child_path(path, key), problems, yaml)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _report_duplicate_keys(item, child_path(path, index), problems, yaml)


_LOADER: Any = None


def _yaml_loader_class(yaml: Any) -> Any:
    """A SafeLoader that resolves only ``true``/``false`` as booleans (YAML 1.2)."""
    global _LOADER
    if _LOADER is not None:
        return _LOADER

    class TaskFileLoader(yaml.SafeLoader):  # type: ignore[misc, name-defined]
        pass

    bool_tag = "tag:yaml.org,2002:bool"
    TaskFileLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != bool_tag]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    TaskFileLoader.add_implicit_resolver(
        bool_tag, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    _LOADER = TaskFileLoader
    return _LOADER
