"""The strict YAML-to-dataclass conversion behind ``config.load_config``.

Dataclass fields are the schema: unknown keys, wrong types and values refused
by a field's ``check`` raise ConfigError naming ``file: dotted.key``. Field
metadata: ``check`` (value -> problem or None), ``model`` (a model name or
folder), ``yaml`` (False: not a YAML key), ``settings`` (a mapping of
name -> type for free-form settings such as generation overrides).
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any, Literal, Union

from .errors import ConfigError


def kind_of(value: Any) -> str:
    """How a YAML value is described in messages."""
    return {dict: "a mapping", list: "a list", str: "a string"}.get(type(value), type(value).__name__)


class StrictLoader:
    """Turns parsed YAML into dataclasses, with errors naming ``file: dotted.key``."""

    def __init__(self, path: Path, forbidden: dict[str, str] | None = None) -> None:
        self.path = path
        self.forbidden = forbidden or {}
        self.base = path.resolve().parent

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.path}: {key}: {message}")

    def build(self, cls: type, data: Any, prefix: str) -> Any:
        if not isinstance(data, dict):
            raise self.fail(prefix.rstrip(".") or "(top level)", f"must be a mapping, not {kind_of(data)}")
        known = {f.name: f for f in fields(cls) if f.metadata.get("yaml", True)}
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        for key, value in data.items():
            name = f"{prefix}{key}"
            if key in self.forbidden:
                raise self.fail(name, self.forbidden[key])
            if key not in known:
                raise self.fail(name, _unknown_key_message(str(key), known))
            metadata = known[key].metadata
            if metadata.get("model"):
                converted = self.model(value, name)
            elif "settings" in metadata:
                converted = self.settings(value, name, metadata["settings"])
            else:
                converted = self.convert(value, hints[key], name)
            check = known[key].metadata.get("check")
            problem = check(converted) if check else None
            if problem:
                raise self.fail(name, f"{problem} (got {value!r})")
            values[key] = converted
        return cls(**values)

    def convert(self, value: Any, hint: Any, key: str) -> Any:
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin in (Union, types.UnionType):
            if value is None and type(None) in args:
                return None
            (inner,) = [a for a in args if a is not type(None)]
            return self.convert(value, inner, key)
        if is_dataclass(hint):
            return self.build(hint, {} if value is None else value, f"{key}.")
        if origin is Literal:
            if value not in args:
                choices = ", ".join(repr(a) for a in args)
                raise self.fail(key, f"must be one of {choices} (got {value!r})")
            return value
        if origin is tuple:
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list):
                raise self.fail(key, f"must be a list, not {kind_of(value)}")
            return tuple(self.convert(v, args[0], f"{key}[{i}]") for i, v in enumerate(value))
        if hint is Path:
            if not isinstance(value, str) or not value.strip():
                raise self.fail(key, f"must be a path string (got {value!r})")
            return (self.base / Path(value).expanduser()).resolve()
        return _scalar(value, hint, lambda msg: self.fail(key, msg))

    def model(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a hub id like 'org/name' or a local folder (got {value!r})")
        value = value.strip()
        looks_local = value.startswith(("/", "./", "../", "~")) or value in (".", "..")
        candidate = (self.base / Path(value).expanduser()).resolve()
        if looks_local or candidate.is_dir():
            if not candidate.is_dir():
                raise self.fail(key, f"local model folder {candidate} does not exist")
            return str(candidate)
        if not re.fullmatch(r"[\w.-]+(?:/[\w.-]+)?", value):
            raise self.fail(
                key, f"{value!r} is neither a hub id like 'org/name' nor an existing local folder"
            )
        return value

    def settings(self, value: Any, key: str, schema: dict[str, type]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a mapping of settings, not {kind_of(value)}")
        settings = {}
        for name, setting in value.items():
            if name not in schema:
                raise self.fail(f"{key}.{name}", _unknown_key_message(str(name), schema))
            kind = schema[name]
            settings[name] = _scalar(setting, kind, lambda msg, n=name: self.fail(f"{key}.{n}", msg))
            if kind in (int, float) and settings[name] < 0:
                raise self.fail(f"{key}.{name}", f"must be 0 or more (got {setting!r})")
        return settings


def _scalar(value: Any, kind: type, fail: Any) -> Any:
    if kind is bool:
        if not isinstance(value, bool):
            raise fail(f"must be true or false (got {value!r})")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail(f"must be a whole number (got {value!r})")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise fail(f"must be a number (got {value!r})")
        return float(value)
    if kind is str:
        if not isinstance(value, str) or not value:
            raise fail(f"must be a non-empty string (got {value!r})")
        return value
    raise TypeError(f"unsupported config type {kind}")  # a bug in this module


def _unknown_key_message(key: str, known: Any) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key; {hint}known keys: {', '.join(sorted(known))}"
