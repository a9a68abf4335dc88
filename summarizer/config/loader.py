"""Loading a config file: strict YAML-to-dataclass conversion and cross-key checks.

Dataclass fields are the schema: unknown keys, wrong types and values refused
by a field's ``check`` raise ConfigError naming ``file: dotted.key``. Field
metadata: ``check`` (value -> problem or None), ``model`` (a model name or
folder), ``yaml`` (False: not a YAML key), ``settings`` (a mapping of
name -> type for free-form settings such as generation overrides).
"""

from __future__ import annotations

import difflib
import math
import os
import re
import types
import typing
from dataclasses import replace
from dataclasses import MISSING, fields, is_dataclass
from pathlib import Path
from typing import Any, Literal, Union

from ..errors import ConfigError
from ..io.files import unicode_problem
from .checks import parquet_unavailable
from .defaults import GENERATION_MAXIMA
from .parsing import parse_yaml, read_config_text, short_text
from .sections import JobConfig, ReportsConfig, is_gguf_model, is_local_model



def kind_of(value: Any) -> str:
    """How a YAML value is described in messages."""
    return {dict: "a mapping", list: "a list", str: "a string"}.get(type(value), type(value).__name__)


def shown(value: Any) -> str:
    """A value as quoted in messages: short, and never expanded (a YAML alias bomb
    is a small document whose lists, printed, would fill the memory)."""
    if isinstance(value, (dict, list, tuple, set)):
        return kind_of(value)
    return short_text(repr(value))


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
            name = f"{prefix}{short_text(key)}"
            if key in self.forbidden:
                raise self.fail(name, self.forbidden[key])
            if key not in known:
                raise self.fail(name, _unknown_key_message(str(key), known))
            metadata = known[key].metadata
            if metadata.get("model"):
                converted = self.model(value, name)
            elif "settings" in metadata:
                converted = self.settings(value, name, metadata["settings"])
            elif "choices" in metadata:
                converted = self.choices(value, name, metadata["choices"], metadata["key_check"])
            elif metadata.get("text") and value == "":
                converted = ""  # an empty text means "none" (a prefix)
            else:
                converted = self.convert(value, hints[key], name)
            check = known[key].metadata.get("check")
            problem = check(converted) if check else None
            if problem:
                raise self.fail(name, f"{problem} (got {shown(value)})")
            values[key] = converted
        missing = [
            f.name
            for f in fields(cls)
            if f.name not in values and f.default is MISSING and f.default_factory is MISSING
        ]
        if missing:
            raise self.fail(f"{prefix}{missing[0]}", "required key missing")
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
                raise self.fail(key, f"must be one of {choices} (got {shown(value)})")
            return value
        if origin is tuple:
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list):
                raise self.fail(key, f"must be a list, not {kind_of(value)}")
            return tuple(self.convert(v, args[0], f"{key}[{i}]") for i, v in enumerate(value))
        if hint is Path:
            if not isinstance(value, str) or not value.strip():
                raise self.fail(key, f"must be a path string (got {shown(value)})")
            return self.resolve_path(value, key)
        return _scalar(value, hint, lambda msg: self.fail(key, msg))

    def resolve_path(self, value: str, key: str) -> Path:
        """``value`` as an absolute path, relative to the config's folder."""
        if "\0" in value or unicode_problem(value):
            raise self.fail(key, f"must be a path without NUL bytes, in valid Unicode (got {shown(value)})")
        try:
            return (self.base / Path(value).expanduser()).resolve()
        except (OSError, RuntimeError, ValueError) as exc:
            raise self.fail(key, f"is not a usable path ({exc}) (got {shown(value)})") from None

    def model(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a hub id like 'org/name' or a local folder (got {shown(value)})")
        value = value.strip()
        looks_local = value.startswith(("/", "./", "../", "~")) or value in (".", "..")
        candidate = self.resolve_path(value, key)
        if is_gguf_model(value):  # a model in one file (models.gguf)
            if not os.path.isfile(candidate):
                raise self.fail(key, f"GGUF file {candidate} does not exist")
            return str(candidate)
        if looks_local or os.path.isdir(candidate):
            if not os.path.isdir(candidate):
                raise self.fail(key, f"local model folder {candidate} does not exist")
            return str(candidate)
        if len(value) > 96 or not re.fullmatch(r"[\w.-]+(?:/[\w.-]+)?", value, re.ASCII):
            raise self.fail(
                key, f"{shown(value)} is neither a hub id like 'org/name' nor an existing local folder"
            )
        return value

    def choices(self, value: Any, key: str, cls: type, key_check: Any) -> dict[str, Any]:
        """A mapping of names to ``cls`` entries; a plain string is the entry's ``model``."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a mapping such as {{fr: org/model}}, not {kind_of(value)}")
        choices = {}
        for name, entry in value.items():
            where = f"{key}.{name}"
            problem = key_check(name) if isinstance(name, str) else "must be a language code"
            if problem:
                raise self.fail(where, problem)
            if isinstance(entry, str):
                entry = {"model": entry}
            choices[name] = self.build(cls, entry, f"{where}.")
        return choices

    def settings(self, value: Any, key: str, schema: dict[str, type]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a mapping of settings, not {kind_of(value)}")
        settings = {}
        for name, setting in value.items():
            if name not in schema:
                raise self.fail(f"{key}.{short_text(name)}", _unknown_key_message(short_text(name), schema))
            kind = schema[name]
            settings[name] = _scalar(setting, kind, lambda msg, n=name: self.fail(f"{key}.{n}", msg))
            if kind in (int, float) and settings[name] < 0:
                raise self.fail(f"{key}.{name}", f"must be 0 or more (got {shown(setting)})")
            if kind in (int, float) and settings[name] > GENERATION_MAXIMA.get(name, math.inf):
                raise self.fail(f"{key}.{name}", f"must be at most {GENERATION_MAXIMA[name]:g} (got {shown(setting)})")
        return settings


def _scalar(value: Any, kind: type, fail: Any) -> Any:
    if kind is bool:
        if not isinstance(value, bool):
            raise fail(f"must be true or false (got {shown(value)})")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail(f"must be a whole number (got {shown(value)})")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise fail(f"must be a number (got {shown(value)})")
        if isinstance(value, int):
            value = _int_as_float(value, fail)
        if not math.isfinite(value):
            raise fail(f"must be a finite number (got {shown(value)})")
        return float(value)
    if kind is str:
        if not isinstance(value, str) or not value:
            raise fail(f"must be a non-empty string (got {shown(value)})")
        if unicode_problem(value):
            raise fail(f"must be valid Unicode text (got {shown(value)})")
        return value
    raise TypeError(f"unsupported config type {kind}")  # a bug in this module


def _int_as_float(value: int, fail: Any) -> float:
    try:
        return float(value)
    except OverflowError:
        raise fail(f"must be a finite number (got {shown(value)})") from None


#: Keys people bring from transformers' own examples, with what this job uses instead.
_KEY_HINTS = {
    "src_lang": "the source code is each article's own language's code, found by the job; to "
    "override it, set source_code (the model entry's key, e.g. translation.source_code: fra_Latn)",
    "tgt_lang": "the target code comes from translation.target; to override it, set "
    "target_code (e.g. translation.target_code: eng_Latn)",
    "forced_bos_token_id": "the job forces the target language's code itself; to override "
    "it, set the model entry's target_code (e.g. translation.target_code: eng_Latn)",
    "decoder_start_token_id": "the job starts the decoder as the model's family needs; to "
    "force the output language, set the model entry's target_code",
}


def _unknown_key_message(key: str, known: Any) -> str:
    if key in _KEY_HINTS:
        return f"unknown key: {_KEY_HINTS[key]}"
    close = difflib.get_close_matches(key, list(known), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key; {hint}known keys: {', '.join(sorted(known))}"


#: YAML keys refused on purpose, with the reason given to the user.
FORBIDDEN_KEYS = {
    "trust_remote_code": "not supported: code shipped with a hub model is never run; "
    "choose a model that works without it",
}


def load_config(path: str | Path) -> JobConfig:
    """Read, validate and return the job configuration in ``path``.

    Raises ConfigError (naming the file and key) for unreadable or oversized
    files, invalid YAML, Python tags, duplicate keys, unknown keys, wrong types
    and impossible values, quickly whatever the document holds.
    """
    path = Path(path)
    data = parse_yaml(path, read_config_text(path))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections, not {kind_of(data)}")
    config = StrictLoader(path, FORBIDDEN_KEYS).build(JobConfig, data, "")
    config = replace(config, source=path.resolve())
    _check_consistency(config, path, data)
    return config


def reports_of(path: str | Path) -> ReportsConfig | None:
    """The ``reports`` section of a config that fails to load, when its file parses and the
    section names a folder: a failed night is then recorded there, not silent. A section
    that is itself wrong keeps only its folder (and prunes nothing)."""
    path = Path(path)
    try:
        data = parse_yaml(path, read_config_text(path))
        section = data.get("reports") if isinstance(data, dict) else None
        if not isinstance(section, dict) or not isinstance(section.get("dir"), str) or not section["dir"].strip():
            return None
        loader = StrictLoader(path)
        try:
            return loader.build(ReportsConfig, section, "reports.")
        except ConfigError:
            return ReportsConfig(dir=loader.resolve_path(section["dir"], "reports.dir"), keep_runs=100_000)
    except (ConfigError, OSError, ValueError):
        return None


def _generation_problems(gen: dict[str, Any]) -> list[tuple[str, str]]:
    """Values transformers would refuse at the first generate() (of every article)."""
    problems = []
    for key in ("num_beams", "max_new_tokens"):
        if key in gen and gen[key] < 1:
            problems.append((key, f"must be at least 1 (got {gen[key]})"))
    if "temperature" in gen and gen["temperature"] <= 0:
        problems.append(("temperature", "must be greater than 0 (use do_sample: false for greedy)"))
    if "top_p" in gen and not 0 < gen["top_p"] <= 1:
        problems.append(("top_p", f"must be in (0, 1] (got {gen['top_p']})"))
    if "repetition_penalty" in gen and gen["repetition_penalty"] <= 0:
        problems.append(("repetition_penalty", f"must be greater than 0; 1 means no penalty (got {gen['repetition_penalty']})"))
    return problems


def _check_generation(path: Path, where: str, gen: dict[str, Any]) -> None:
    for key, problem in _generation_problems(gen):
        raise ConfigError(f"{path}: {where}.{key}: {problem}")
    low, high = gen.get("min_new_tokens"), gen.get("max_new_tokens")
    if low is not None and high is not None and low > high:
        raise ConfigError(f"{path}: {where}.min_new_tokens: {low} is more than max_new_tokens {high}")


def _check_consistency(config: JobConfig, path: Path, raw: dict[str, Any]) -> None:
    """Checks that involve more than one key."""
    for index, pattern in enumerate(config.cleaning.drop_line_patterns):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(
                f"{path}: cleaning.drop_line_patterns[{index}]: invalid regex {pattern!r} ({exc})"
            ) from None
    for section in ("summarization", "translation"):
        settings = getattr(config, section)
        single = ("model", "revision", "convert_pickle_weights", "source_code", "target_code", "prefix")
        in_the_way = [key for key in single if getattr(settings, key) is not None]
        if settings.allow_pickle_weights:  # false is what every entry has anyway
            in_the_way.insert(2, "allow_pickle_weights")
        if settings.models and in_the_way:
            if "model" in in_the_way:
                raise ConfigError(
                    f"{path}: {section}.models: give either {section}.model (one model) or "
                    f"{section}.models (one per language), not both"
                )
            keys = ", ".join(f"{section}.{key}" for key in in_the_way)
            raise ConfigError(
                f"{path}: {keys}: {'is' if len(in_the_way) == 1 else 'are'} for {section}.model, which "
                f"{section}.models replaces; move {'it' if len(in_the_way) == 1 else 'them'} into each "
                f"entry of {section}.models (e.g. {section}.models.fr.{in_the_way[0]})"
            )
        generations = {f"{section}.generation": settings.generation}
        generations.update(
            {f"{section}.models.{lang}.generation": c.generation for lang, c in settings.models.items()}
        )
        for where, gen in generations.items():
            _check_generation(path, where, gen)
    parquet_problem = parquet_unavailable() if config.reports.export == "parquet" else None
    if parquet_problem:
        raise ConfigError(f"{path}: reports.export: {parquet_problem} or set reports.export: jsonl")
    _check_generation(path, "quality.retry_generation", config.quality.retry_generation)
    _check_generation(path, "quality.faithfulness_retry_generation", config.quality.faithfulness_retry_generation)
    quality = config.quality
    if quality.length_ratio_min > quality.length_ratio_max:
        raise ConfigError(
            f"{path}: quality.length_ratio_min: {quality.length_ratio_min:g} is more than "
            f"quality.length_ratio_max ({quality.length_ratio_max:g}); no translation could pass"
        )
    tr = config.translation
    if tr.target is not None and "target_language" in raw.get("translation", {}):
        raise ConfigError(
            f"{path}: translation.target: give target or its older name target_language, not both"
        )
    if "default" in tr.models:
        raise ConfigError(
            f"{path}: translation.models.default: translation models are per source language; "
            "a default has no meaning here"
        )
    summ = config.summarization
    limit, out = summ.max_input_tokens, summ.generation.get("max_new_tokens")
    if summ.long_input == "chunk" and limit and out and out * 2 > limit:
        raise ConfigError(
            f"{path}: summarization.generation.max_new_tokens: {out} is more than half of "
            f"max_input_tokens ({limit}), so chunk summaries could never be merged; lower it"
        )
    check_own_folders(config, path)
    if tr.pack_tokens > tr.max_input_tokens:
        raise ConfigError(
            f"{path}: translation.pack_tokens: {tr.pack_tokens} is more than "
            f"translation.max_input_tokens ({tr.max_input_tokens}); lower it"
        )


def check_own_folders(config: JobConfig, path: Path) -> None:
    """The job's own folders must not be inside its inputs: it would read its digests (and
    mirrored outputs) back as articles."""
    for key, folder in (("reports.dir", config.reports.dir), ("outputs.dir", config.outputs.dir)):
        if folder is None:
            continue
        for index, source in enumerate(config.inputs.paths):
            if folder == source or source in folder.parents:
                raise ConfigError(
                    f"{path}: {key}: {folder} is inside inputs.paths[{index}] ({source}); the job would "
                    f"read its own files back as articles: put {key} outside the input folders"
                )


def revision_warnings(config: JobConfig) -> list[str]:
    """One line per hub model whose revision can move (a branch, a PR ref, or none)."""
    warnings = []
    for section, choices in (
        ("summarization", config.summarizers()),
        ("translation", config.translators()),
    ):
        for language, choice in choices.items():
            if is_local_model(choice.model):
                continue
            revision = choice.revision
            if revision is None or not re.fullmatch(r"[0-9a-f]{40}", revision):
                key = f"{section}.models.{language}" if getattr(config, section).models else section
                what = "no revision (the moving main branch)" if revision is None else f"{revision!r}"
                warnings.append(
                    f"{key}.revision: {what} can change under you; pin a commit hash "
                    "(`summarizer fetch` prints it)"
                )
    return warnings
