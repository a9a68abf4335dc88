"""The ``prompt`` of a model section: how an instruct (decoder-only) model is asked.

Empty fields take the job's defaults (``models.prompts``), in French or English
by the language of the output. Placeholders: ``{text}`` (the article or chunk,
required exactly once in ``user`` and ``template``), ``{source_language}`` and
``{target_language}`` (English names, e.g. ``French``), ``{source}`` and
``{target}`` (ISO 639-1 codes).
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any

from .checks import check as _check

PLACEHOLDERS = ("text", "source_language", "target_language", "source", "target")
_MAX_PROMPT_CHARS = 4000


def _prompt_text(value: Any, *, needs_text: bool) -> str | None:
    if value is None:
        return None
    if len(value) > _MAX_PROMPT_CHARS:
        return f"must be at most {_MAX_PROMPT_CHARS} characters"
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(value) if name is not None]
    except ValueError as exc:
        return f"is not a valid template ({exc}; write {{{{ and }}}} for literal braces)"
    for name, spec, conversion in fields:
        if spec or conversion:  # {text!r}, {text:.1}, {target_language:>300000000}
            written = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            return f"has {written}: write placeholders bare ({{{name}}}), without a conversion or a format"
    names = [name for name, _, _ in fields]
    unknown = sorted({name for name in names if name not in PLACEHOLDERS})
    if unknown:
        known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        return f"has an unknown placeholder {{{unknown[0]}}} (known: {known})"
    if needs_text and names.count("text") != 1:
        return "must contain {text} (where the article goes) exactly once"
    if not needs_text and "text" in names:
        return "must not contain {text} (the article goes in the user message)"
    return None


def _system(value: Any) -> str | None:
    return _prompt_text(value, needs_text=False)


def _with_text(value: Any) -> str | None:
    return _prompt_text(value, needs_text=True)


@dataclass(frozen=True)
class PromptConfig:
    """How an instruct (decoder-only) model is asked for this section's task; ignored
    for sequence-to-sequence models. Changing a prompt redoes the articles it serves."""

    system: str | None = field(default=None, metadata={"text": True, **_check(_system)})
    """The system message. Empty: the default for the task and output language;
    ``""``: none."""

    user: str | None = field(default=None, metadata=_check(_with_text))
    """The user message, with ``{text}`` where the article (or chunk) goes. Empty: the
    default for the task and output language."""

    template: str | None = field(default=None, metadata=_check(_with_text))
    """A plain prompt, with ``{text}``, that the model continues: for a model without a
    chat template (a base model, refused unless this is set), or in place of a chat
    template that cannot be used (``system`` and ``user`` are then not used)."""
