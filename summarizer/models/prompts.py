"""The prompts instruct (decoder-only) models are given, and how they are rendered.

``prompt_for`` decides the messages of one request: the config's ``prompt``
fields where set, else the defaults below, written in the language of the output
(French or English; other output languages get the English prompt naming the
language). ``render`` puts a text into them through the tokenizer's chat template
(thinking switched off where the template has the switch, as Qwen3's does), or
into a plain template for a model without one.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..errors import ConfigError
from ..text.language import english_name
from .loading import FramingChoice, Role

#: Where the text goes in a filled prompt (a literal ``{{text}}`` in a config stays ``{text}``).
TEXT_MARKER = "\x00text\x00"

_SUMMARY = {
    "fr": (
        "Tu es un journaliste qui résume des articles de presse. Tu écris en français, "
        "fidèlement : tu n'ajoutes aucun nom, chiffre ni date absent de l'article.",
        "Résume l'article suivant en deux ou trois phrases, en français. "
        "Réponds uniquement par le résumé.\n\n{text}",
    ),
    "en": (
        "You are a journalist who summarises news articles. You write in {target_language}, "
        "faithfully: you add no name, figure or date that the article does not contain.",
        "Summarise the following article in two or three sentences, in {target_language}. "
        "Reply with the summary only.\n\n{text}",
    ),
}
_TRANSLATION = {
    "fr": (
        "Tu es un traducteur professionnel. Tu traduis fidèlement en français, sans rien "
        "ajouter, résumer ni commenter.",
        "Traduis ce texte en français. Réponds uniquement par la traduction.\n\n{text}",
    ),
    "en": (
        "You are a professional translator. You translate from {source_language} into "
        "{target_language} faithfully, without adding, summarising or commenting.",
        "Translate this {source_language} text into {target_language}. Reply with the "
        "translation only.\n\n{text}",
    ),
}


def prompt_for(role: Role, source: str, target: str, choice: FramingChoice, *, chat: bool, where: str) -> tuple[str, str]:
    """(system message, user message or plain template) for a request from ``source``
    into ``target``, with ``TEXT_MARKER`` where the text goes; ConfigError naming the key to set when a
    model without a chat template has no ``template``."""
    values = {
        "source": source,
        "target": target,
        "source_language": english_name(source),
        "target_language": english_name(target),
        "text": TEXT_MARKER,
    }
    section = where.split(".", 1)[0]
    if not chat:
        if choice.template is None:
            raise ConfigError(
                f"{where}: has no chat template (a base model, not an instruct one); set "
                f"{section}.prompt.template to a plain prompt with {{text}}, or choose an instruct model"
            )
        return "", choice.template.format(**values)
    defaults = _SUMMARY if role == "summarization" else _TRANSLATION
    default_system, default_user = defaults.get(target, defaults["en"])
    system = default_system if choice.system is None else choice.system
    user = default_user if choice.user is None else choice.user
    return system.format(**values), user.format(**values)


def prompt_fingerprint(system: str, user: str, chat: bool) -> str:
    """A short hash of a prompt (meta files and ``inspect`` name prompts by it)."""
    blob = f"{int(chat)}\0{system}\0{user}".encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:12]


def render(tokenizer: Any, system: str, user: str, text: str, *, chat: bool) -> str:
    """The prompt for ``text``: its chat template with a generation prompt (thinking off),
    or the plain template filled in."""
    filled = user.replace(TEXT_MARKER, text, 1)
    if not chat:
        return filled
    messages = [{"role": "user", "content": filled}]
    if system:
        messages.insert(0, {"role": "system", "content": system})
    try:
        return tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True, enable_thinking=False
        )
    except Exception as exc:  # noqa: BLE001 - jinja's TemplateError: templates without a system role
        if not system or "system" not in str(exc).lower():
            raise
        merged = [{"role": "user", "content": f"{system}\n\n{filled}"}]
        return tokenizer.apply_chat_template(
            merged, tokenize=False, add_generation_prompt=True, enable_thinking=False
        )


def has_thinking_switch(tokenizer: Any) -> bool:
    """Whether the chat template can think before answering (and is told not to)."""
    return "enable_thinking" in str(getattr(tokenizer, "chat_template", None) or "")


def end_of_turn_token(tokenizer: Any) -> str | None:
    """The token the chat template ends an assistant turn with (``<|im_end|>``,
    ``<end_of_turn>``, ``<|eot_id|>``), found by rendering one reply."""
    marker = "XyZzY"
    try:
        rendered = tokenizer.apply_chat_template(
            [{"role": "user", "content": "a"}, {"role": "assistant", "content": marker}], tokenize=False
        )
    except Exception:  # noqa: BLE001 - a template that refuses this exchange: no end token found
        return None
    after = rendered.split(marker, 1)[-1] if marker in rendered else ""
    ids = tokenizer(after, add_special_tokens=False)["input_ids"] if after.strip() else []
    special = set(getattr(tokenizer, "all_special_ids", []) or [])
    for token_id in ids:
        if token_id in special or tokenizer.convert_ids_to_tokens(token_id) in tokenizer.get_added_vocab():
            return tokenizer.convert_ids_to_tokens(token_id)
    return None

