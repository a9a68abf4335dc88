"""The prompts instruct (decoder-only) models are given, and how they are rendered.

``prompt_for`` decides the messages of one request: the config's ``prompt``
fields where set, else the defaults below, written in the language of the output
(French or English; other output languages get the English prompt naming the
language). ``prompt_parts`` renders them, with a marker in place of the text, through
the model's chat template (thinking switched off where the template has the switch,
as Qwen3's does) or a plain template: an article never goes through a template, and
is tokenized as text between the parts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from ..text.language import english_name
from .chat_template import Conversation, chat_template_source, render_conversations, template_variables
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


def prompt_for(
    role: Role, source: str, target: str, choice: FramingChoice, *, chat: bool, where: str
) -> tuple[str, str, bool]:
    """(system message, user message or plain template, whether it goes through the chat
    template) for a request from ``source`` into ``target``, with ``TEXT_MARKER`` where the
    text goes. A configured ``template`` is a plain prompt whatever the model has (the way
    round a chat template that cannot be used); ConfigError naming the key to set when a
    model without a chat template has none."""
    values = {
        "source": source,
        "target": target,
        "source_language": english_name(source),
        "target_language": english_name(target),
        "text": TEXT_MARKER,
    }
    section = where.split(".", 1)[0]
    if choice.template is not None:
        return "", choice.template.format(**values), False
    if not chat:
        raise ConfigError(
            f"{where}: has no chat template (a base model, not an instruct one); set "
            f"{section}.prompt.template to a plain prompt with {{text}}, or choose an instruct model"
        )
    defaults = _SUMMARY if role == "summarization" else _TRANSLATION
    default_system, default_user = defaults.get(target, defaults["en"])
    system = default_system if choice.system is None else choice.system
    user = default_user if choice.user is None else choice.user
    return system.format(**values), user.format(**values), True


def prompt_fingerprint(system: str, user: str, chat: bool) -> str:
    """A short hash of a prompt (meta files and ``inspect`` name prompts by it)."""
    blob = f"{int(chat)}\0{system}\0{user}".encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:12]


@dataclass(frozen=True)
class PromptParts:
    """A rendered prompt around the place of the text: the text itself never goes
    through the template, and is tokenized as text between these two (``models.tokens``)."""

    before: str
    after: str
    """Up to where the model's reply begins."""
    reply_end: str | None = None
    """What the template writes after an assistant's reply (its end-of-turn markup)."""
    folded: bool = False
    """The system message went into the user turn (the template refused it on its own)."""
    header_added: bool = False
    """The template writes no generation prompt: the job added the assistant's turn header,
    as the template writes it before an assistant's reply."""


def prompt_parts(tokenizer: Any, system: str, user: str, *, chat: bool, where: str) -> PromptParts:
    """The prompt of ``system`` and ``user`` (``TEXT_MARKER`` where the text goes) for
    ``tokenizer``: through its chat template (thinking off) in the job's bounded sandbox
    (``models.chat_template``), or the plain template as it is. ConfigError naming
    ``where`` when the template cannot render it, writes no turn for the reply, or
    changes the text it is given; the key to set is ``prompt.template``."""
    if not chat:
        before, _, after = user.partition(TEXT_MARKER)
        return PromptParts(before, after)
    section = where.split(".", 1)[0]
    fix = f"set {section}.prompt.template to a plain prompt with {{text}} to feed it without its chat template, or choose another model"
    template = chat_template_source(tokenizer)
    if template is None:
        raise ConfigError(f"{where}: has no chat template; {fix}")
    variants = [(("system", system), ("user", user))] if system else []
    variants.append((("user", f"{system}\n\n{user}" if system else user),))
    conversations = [
        conversation
        for messages in variants
        for conversation in (
            Conversation(messages, True),
            Conversation(messages, False),
            Conversation((*messages, ("assistant", _REPLY_MARKER)), False),
        )
    ]
    rendered = render_conversations(template, template_variables(tokenizer), conversations)
    errors = []
    for number, (prompt, bare, replied) in enumerate(zip(rendered[::3], rendered[1::3], rendered[2::3])):
        if prompt.text is None:
            errors.append(prompt.error)
            continue
        reply_end = _reply_end(replied.text)
        text, header_added = prompt.text, False
        if bare.text == prompt.text:  # add_generation_prompt changes nothing
            header = _reply_header(bare.text, replied.text)
            if header is None:
                errors.append(
                    "it writes no turn for the model's reply (add_generation_prompt changes nothing), so every "
                    "reply would start with the template's own markup"
                )
                continue
            text, header_added = bare.text + header, bool(header)  # "": the reply follows the prompt (Mistral)
        if text.count(TEXT_MARKER) != 1:
            raise ConfigError(f"{where}: its chat template does not pass the prompt through as it is given; {fix}")
        before, _, after = text.partition(TEXT_MARKER)
        return PromptParts(before, after, reply_end, folded=number > 0 and bool(system), header_added=header_added)
    raise ConfigError(f"{where}: its chat template cannot render the job's prompt ({errors[-1]}); {fix}")


def _without_trailing_spaces(header: str) -> str:
    """A turn header as a prompt ends with it: the spaces before the reply are the reply's
    own first token (``[/INST] `` is written ``[/INST]``; newlines stay)."""
    return header.rstrip(" \t")


#: Stands for a reply when the template is asked how it writes one.
_REPLY_MARKER = "\x00reply\x00"


def _reply_header(bare: str, replied: str | None) -> str | None:
    """What the template writes between a conversation and an assistant's reply to it
    (``""``: nothing); None when the reply does not follow the conversation as rendered."""
    if replied is None or not replied.startswith(bare) or _REPLY_MARKER not in replied:
        return None
    return _without_trailing_spaces(replied[len(bare) : replied.index(_REPLY_MARKER)])


def _reply_end(replied: str | None) -> str | None:
    """What the template writes after an assistant's reply."""
    if replied is None or _REPLY_MARKER not in replied:
        return None
    return replied.split(_REPLY_MARKER, 1)[1] or None
