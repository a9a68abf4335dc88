"""The configuration reference (docs/configuration.md), rendered from the config dataclasses.

Each key's meaning is its field docstring (the string literal after the field, read with ``ast``),
its default the dataclass default, its bounds the field's ``check``. Regenerate with ``make docs``
(``python -m summarizer.config.reference > docs/configuration.md``); tests/test_docs.py checks it.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import typing
from dataclasses import MISSING, Field, fields, is_dataclass
from typing import Any, Literal

from . import checks
from .defaults import (
    DEFAULT_SUMMARIZER,
    DEFAULT_TRANSLATOR,
    GENERATION_KEYS,
    GENERATION_MAXIMA,
    KNOWN_SAFETENSORS_REVISIONS,
)
from .sections import JobConfig, ModelChoice

INTRO = """\
# Configuration

<!-- Generated from summarizer/config/sections.py, model_sections.py, prompts.py and cluster.py by `make docs`; do not edit. -->

A config is one YAML file; every section and key is optional and defaults to the values below
(`configs/default.yaml` spells them all out). Unknown keys are errors (a typo such as `num_beam` is
caught, with a suggestion), as are wrong types and impossible values; YAML tags such as
`!!python/object` are refused (`yaml.safe_load`), and so is `trust_remote_code`. Relative paths are
resolved against the config file's folder.

**A config either loads or exits 78 within a second, naming the key**, whatever the file holds: a
file over 32 KB, nesting deeper than 16 levels, a key given twice (the second would silently replace
the first), a value that is not valid Unicode, an infinite or NaN number, and every number outside
its bounds (each has one: `runtime.threads` at most the machine's cores, confidences in (0, 1],
`time_budget_minutes` at most a week, `length_ratio_min` not above `length_ratio_max`,
`generation.num_beams` at most 64, ...) are refused. An error message quotes a value only briefly,
so a YAML alias bomb costs nothing.

Shipped configs: `default.yaml` (quality: beam search, chunked long articles), `fast-cpu.yaml`
(greedy decoding, shorter summaries, long articles truncated to their lead), `gpu.yaml` (CUDA,
bfloat16, large batches), `multilingual.yaml` (French, German and Spanish articles; add a translator
under `translation.models` for any other language, the `default` summariser (XLSum) already covers
45), `ray.yaml` (the default models on a Ray cluster). How models and languages are chosen:
[models-and-languages.md](models-and-languages.md).
"""

GENERATION_INTRO = """\
`generation` keys start from the model's own `generation_config` (opus-mt ships `num_beams: 4`,
`max_length: 512`; BARThez ships `no_repeat_ngram_size: 3`) and override it key by key. Output
length is never allowed past the model's position table. Numbers must be 0 or more (`num_beams` and
`max_new_tokens` at least 1), `temperature` greater than 0 and `top_p` in (0, 1]; `min_new_tokens`
may not exceed `max_new_tokens`.
"""

PINNED_INTRO = """\
Popular models described, when they were pinned, as keeping only pickle weights on their main branch,
with the commit recorded for the hub's safetensors conversion pull request; used when the config names
the model without a `revision`. None of this could be checked against the hub from the machines this
project is built on: `summarizer fetch` verifies each pin and falls back when one is gone
([models and languages](models-and-languages.md)).
"""

# What each shared check in checks.py accepts, in words.
_CHECK_WORDS = {
    checks.positive: "greater than 0",
    checks.not_negative: "0 or more",
    checks.at_least_one: "1 or more",
    checks.fraction: "greater than 0 and at most 1",
    checks.at_most_cpus: "at most the machine's CPU cores",
}


def field_docs(cls: type) -> dict[str, str]:
    """Field name -> docstring, for ``cls`` and its dataclass bases (a subclass's wins)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not is_dataclass(klass):
            continue
        body = ast.parse(textwrap.dedent(inspect.getsource(klass))).body[0].body
        for node, after in zip(body, body[1:]):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                docs[node.target.id] = _prose(after.value.value)
    return docs


def _prose(text: str) -> str:
    """A docstring as one Markdown line: reST ``code`` becomes `code`."""
    return " ".join(inspect.cleandoc(text).split()).replace("``", "`")


def yaml_value(value: Any) -> str:
    """A default written the way YAML would take it: null, true, [a, b], {k: v}."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(yaml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {yaml_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def _default(f: Field) -> str:
    if f.default is not MISSING:
        return f"`{yaml_value(f.default)}`"
    if f.default_factory is not MISSING:
        return f"`{yaml_value(f.default_factory())}`"
    return "required"


def _number(limit: float) -> str:
    return f"{int(limit):,}" if float(limit).is_integer() else f"{limit:g}"


def bounds(f: Field) -> list[str]:
    """The shared checks of a field's metadata, in words (checks of its own are left out)."""
    combined = f.metadata.get("check")
    if combined is None:
        return []
    words = []
    for function in inspect.getclosurevars(combined).nonlocals.get("functions", ()):
        if function in _CHECK_WORDS:
            words.append(_CHECK_WORDS[function])
        elif function.__qualname__.startswith(f"{checks.at_most.__name__}.<locals>."):
            words.append(f"at most {_number(inspect.getclosurevars(function).nonlocals['limit'])}")
    return words


def _accepted(cls: type, f: Field) -> str:
    hint = typing.get_type_hints(cls)[f.name]
    literal = [a for a in (hint, *typing.get_args(hint)) if typing.get_origin(a) is Literal]
    words = [", ".join(f"`{v}`" for v in typing.get_args(literal[0]))] if literal else []
    words += bounds(f)
    return f" *Accepted:* {'; '.join(words)}." if words else ""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def key_table(cls: type, prefix: str) -> list[str]:
    """A ``key | default | meaning`` table of the YAML keys of ``cls``."""
    docs = field_docs(cls)
    rows = ["| key | default | meaning |", "| --- | --- | --- |"]
    for f in fields(cls):
        hint = typing.get_type_hints(cls)[f.name]
        if is_dataclass(hint) and prefix:  # a section's own group of keys (summarization.prompt)
            rows += key_table(hint, f"{prefix}{f.name}.")[2:]
        if not f.metadata.get("yaml", True) or is_dataclass(hint):
            continue
        meaning = docs.get(f.name, "") + _accepted(cls, f)
        rows.append(f"| `{prefix}{f.name}` | {_cell(_default(f))} | {_cell(meaning)} |")
    return rows


def sections() -> list[tuple[str, type]]:
    """(YAML name, dataclass) of each section of a job config, in JobConfig's order."""
    hints = typing.get_type_hints(JobConfig)
    return [(f.name, hints[f.name]) for f in fields(JobConfig) if is_dataclass(hints[f.name])]


def _section(heading: str, cls: type, table: list[str], note: str = "") -> list[str]:
    lines = [f"## {heading}", "", _prose(cls.__doc__ or ""), ""]
    return lines + ([note, ""] if note else []) + table + [""]


def render_reference() -> str:
    """The Markdown of docs/configuration.md."""
    out = [INTRO, *_section("Top level", JobConfig, key_table(JobConfig, ""))]
    defaults = {"summarization": DEFAULT_SUMMARIZER, "translation": DEFAULT_TRANSLATOR}
    for name, cls in sections():
        model = defaults.get(name)
        note = f"Without `model` or `models`: `{model}`, for the articles in `language`."
        out += _section(f"`{name}`", cls, key_table(cls, f"{name}."), note if model else "")
    out += _section(
        "Model entries (`summarization.models.LANG`, `translation.models.LANG`)",
        ModelChoice,
        key_table(ModelChoice, ""),
        "An entry is a hub id or folder (the `model` key alone), or a mapping of these keys.",
    )
    out += ["## Generation settings", "", GENERATION_INTRO, "| setting | type | at most |"]
    out.append("| --- | --- | --- |")
    for key, kind in GENERATION_KEYS.items():
        maximum = GENERATION_MAXIMA.get(key)
        out.append(f"| `{key}` | {kind.__name__} | {'' if maximum is None else _number(maximum)} |")
    out += ["", "## Pinned revisions", "", PINNED_INTRO, "| model | revision |", "| --- | --- |"]
    out += [f"| `{model}` | `{rev}` |" for model, rev in KNOWN_SAFETENSORS_REVISIONS.items()]
    return "\n".join(out) + "\n"

if __name__ == "__main__":
    print(render_reference(), end="")
