"""Reading a config file's YAML, safely: bounded in size and nesting, plain YAML only,
no key given twice, a ConfigError (never another exception) for anything else."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError
from ..io.files import printable, read_regular_file, unicode_problem

#: A job config is a few kilobytes; with the nesting limit below, the limit keeps
#: loading under a second whatever the document (libyaml's parser reads 32 KB of
#: deep lists in 0.1 s; PyYAML's own, for errors and where libyaml is missing, in 0.8 s).
MAX_CONFIG_BYTES = 32 * 1024
#: Deepest ``[``/``{`` nesting accepted: a config needs 3; PyYAML's parser slows
#: down quadratically with it.
MAX_FLOW_DEPTH = 16
_SHOWN_CHARS = 80


def short_text(value: Any) -> str:
    """``str(value)``, printable on one line and cut short, for messages."""
    text = "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in printable(str(value))
    )
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


class _NoDuplicateKeys:
    """A YAML constructor refusing a key given twice in one mapping (the second would
    silently replace the first)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # unhashable: the base class says so
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {short_text(key)!r} is given twice", key_node.start_mark
                )
        return super().construct_mapping(node, deep=deep)


def read_config_text(path: Path) -> str:
    if unicode_problem(str(path)):
        raise ConfigError(f"{printable(str(path))}: the config path is not valid UTF-8; rename it")
    if not os.path.lexists(path):
        raise ConfigError(f"{path}: config file not found")
    try:
        return read_regular_file(path, MAX_CONFIG_BYTES, "the size of a config file", follow=True).decode("utf-8")
    except ValueError as exc:  # UnicodeDecodeError too
        raise ConfigError(f"{path}: cannot read config file ({exc})") from None


def _flow_depth(text: str) -> int:
    """Deepest nesting of ``[`` and ``{`` (brackets in quoted strings count too: a
    config has no reason to hold dozens of unbalanced ones)."""
    depth = deepest = 0
    for match in re.finditer(r"[\[\]{}]", text):
        depth = depth + 1 if match.group() in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest


class _YamlLoader(_NoDuplicateKeys, yaml.SafeLoader):
    """``yaml.safe_load``'s loader, refusing duplicate keys."""


class _FastYamlLoader(_NoDuplicateKeys, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The same on libyaml's parser (ten times faster) where PyYAML has it."""


def parse_yaml(path: Path, text: str) -> Any:
    if _flow_depth(text) > MAX_FLOW_DEPTH:
        raise ConfigError(f"{path}: invalid YAML (nested more than {MAX_FLOW_DEPTH} levels deep)")
    try:
        return yaml.load(text, Loader=_FastYamlLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError:
        pass  # read again by PyYAML's own parser: it reads lone surrogates, and its messages say more
    except RecursionError:
        raise ConfigError(f"{path}: invalid YAML (nested too deeply)") from None
    try:
        return yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        hint = "; only plain YAML is accepted, no Python tags" if "tag" in problem else ""
        raise ConfigError(f"{path}:{where}: invalid YAML ({short_text(problem)}){hint}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid YAML (nested too deeply)") from None
