"""Model families: the one place that knows how each kind of model is fed.

From a model's ``config.json`` (``model_type``, ``architectures``,
``is_encoder_decoder``, ``task_specific_params``) and its tokenizer (class,
language-code tokens), ``detect_family`` says what kind of model it is, or why
the job cannot drive it; ``frame`` says, for one request (source and target
language, the config's overrides), what goes in and what is forced out:

- NLLB-200, M2M100, mBART-50: the source tagged with its code (``fra_Latn``,
  ``__fr__``, ``fr_XX``) through the tokenizer's ``src_lang``; the target code
  forced as the first generated token. mBART-25 tokenizers (``MBartTokenizer``
  with codes): the target code is the decoder's start token.
- MADLAD-400 (T5 with ``<2xx>`` tokens), multi-target Marian (``>>xxx<<``
  tokens): the target token written before the text.
- Any model whose config has a task prefix (T5, FLAN-T5: ``summarize: ``,
  ``translate English to German: ``): that prefix.
- Marian, BART, BARThez, Pegasus, mT5 without prefixes: the text as it is.
- Decoder-only (instruct) models: the text inside a prompt, through the tokenizer's
  chat template (``models.prompts``); a base model only with a plain prompt template.

Both engines (transformers and CTranslate2) apply the same ``Framing``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from typing import Any, Literal, Mapping

from ..errors import ConfigError
from .kinds import is_decoder_only, refuse_unsupported, unsupported_model
from .loading import FramingChoice, ModelSpec, Role, setting_key
from .prompts import prompt_fingerprint, prompt_for

__all__ = [
    "Direction",
    "Framing",
    "ModelFamily",
    "code_for",
    "detect_family",
    "frame",
    "is_decoder_only",
    "refuse_unsupported",
    "unsupported_model",
]

#: Families that translate and nothing else: refused as summarisers (they would copy or
#: "translate" an article into its own language).
TRANSLATION_ONLY = frozenset({"nllb", "m2m100", "madlad", "marian", "marian-multi"})

#: How each family's language-code tokens look; group 1 is the language tag.
_CODE_PATTERNS = {
    "nllb": r"([a-z]{3}_[A-Z][a-z]{3})",
    "m2m100": r"__([a-z]{2,3}(?:_[A-Za-z]+)?)__",
    "mbart50": r"([a-z]{2})_[A-Z]{2}",
    "mbart25": r"([a-z]{2})_[A-Z]{2}",
    "madlad": r"<2([a-z]{2,3}(?:[_-][A-Za-z0-9]+)*)>",
    "marian-multi": r">>([a-z]{2,3}(?:_[A-Za-z]+)*)<<",
}

TargetBy = Literal["none", "forced_bos", "decoder_start", "text"]


@dataclass(frozen=True)
class Direction:
    """What one request asks for: text in ``source`` written in ``target`` (ISO 639-1
    codes; a summary's target is its source), with its config entry's overrides."""

    source: str
    target: str
    choice: FramingChoice = FramingChoice()


@dataclass(frozen=True)
class Framing:
    """How one request goes in and what is forced out (the same on every engine)."""

    family: str
    source_code: str | None = None
    """The token the input is tagged with (by the tokenizer: see ``src_lang``)."""
    src_lang: str | None = None
    """What the tokenizer's ``src_lang`` is set to so that it tags the input with
    ``source_code`` (M2M100 names ``__fr__`` ``fr``; the others name the token itself)."""
    first_token: str | None = None
    """The token put first in the input, by its id (MADLAD ``<2en>``, Marian ``>>eng<<``):
    the same ids whatever the tokenizer version makes of the space after a special token."""
    text_prefix: str = ""
    """Written before the text (a task prefix: ``summarize: ``)."""
    forced_first: str | None = None
    """The token forced as the first generated one (``forced_bos_token_id``; CTranslate2's
    ``target_prefix``)."""
    decoder_start: str | None = None
    """The token the decoder starts from, when the framing decides it."""
    system: str | None = None
    """A decoder-only model's system message (``""``: none)."""
    prompt: str | None = None
    """A decoder-only model's user message (or plain prompt), with ``{text}``; None for
    sequence-to-sequence models."""
    chat: bool = False
    """The prompt goes through the tokenizer's chat template."""

    @property
    def prompt_id(self) -> str | None:
        """A short hash of the prompt, for meta files (None without one)."""
        return None if self.prompt is None else prompt_fingerprint(self.system or "", self.prompt, self.chat)

    def describe(self) -> str:
        """In words, for ``check`` and ``inspect``."""
        parts = [self.family]
        if self.prompt is not None:
            kind = "chat template" if self.chat else "plain prompt"
            parts.append(f"{kind}, prompt {self.prompt_id}")
        if self.source_code:
            parts.append(f"source tagged {self.source_code}")
        if self.first_token:
            parts.append(f"input starts with {self.first_token}")
        if self.text_prefix:
            parts.append(f"input starts {self.text_prefix!r}" if not self.first_token else f"then {self.text_prefix!r}")
        if self.decoder_start:
            parts.append(f"decoder starts with {self.decoder_start}")
        if self.forced_first:
            parts.append(f"first output token forced to {self.forced_first}")
        if len(parts) == 1:
            parts.append("text as it is")
        return ", ".join(parts)


@dataclass(frozen=True)
class ModelFamily:
    """What ``detect_family`` found out about a model."""

    name: str
    """``nllb``, ``m2m100``, ``mbart50``, ``mbart25``, ``madlad``, ``marian-multi``,
    ``marian``, or the model type of a model fed its text as it is (``bart``, ``t5``...)."""
    codes: tuple[str, ...] = ()
    """The language-code tokens its tokenizer knows."""
    source_tagged: bool = False
    target_by: TargetBy = "none"
    task_prefixes: tuple[tuple[str, str], ...] = ()
    """``task_specific_params`` prefixes: task (``summarization``, ``translation_en_to_de``) -> prefix."""
    pair: tuple[str, str] | None = None
    """The one direction a Marian tokenizer declares (``source_lang``, ``target_lang``)."""
    decoder_only: bool = False
    """A causal language model: the text goes in a prompt (``models.prompts``)."""
    chat: bool = False
    """Its tokenizer has a chat template."""


def detect_family(config: Mapping[str, Any], tokenizer: Any, role: Role, spec: ModelSpec) -> ModelFamily:
    """The family of the model of ``config.json`` and ``tokenizer`` in ``role``;
    ConfigError naming ``spec``'s config key for one the job cannot drive."""
    refuse_unsupported(config, spec)
    where = f"{spec.config_key}: {spec.label()}"
    family = _family(config, tokenizer)
    if role == "summarization" and family.name in TRANSLATION_ONLY:
        raise ConfigError(
            f"{where}: a translation model ({family.name}), not a summariser: it would rewrite "
            "each article in its own language; choose a summarisation model"
        )
    return family


def _family(config: Mapping[str, Any], tokenizer: Any) -> ModelFamily:
    kind = type(tokenizer).__name__.removesuffix("Fast")
    model_type = str(config.get("model_type"))
    if is_decoder_only(config):
        return ModelFamily(model_type, decoder_only=True, chat=bool(getattr(tokenizer, "chat_template", None)))
    prefixes = _task_prefixes(config)
    name, source_tagged, target_by = {
        "NllbTokenizer": ("nllb", True, "forced_bos"),
        "M2M100Tokenizer": ("m2m100", True, "forced_bos"),
        "MBart50Tokenizer": ("mbart50", True, "forced_bos"),
        "MBartTokenizer": ("mbart25", True, "decoder_start"),
    }.get(kind, (None, False, "none"))
    if name is None and kind == "MarianTokenizer" and getattr(tokenizer, "supported_language_codes", None):
        name, target_by = "marian-multi", "text"
    if name is None and model_type in ("t5", "mt5", "umt5", "longt5") and len(_codes(tokenizer, "madlad")) > 1:
        name, target_by = "madlad", "text"
    if name is None:
        pair = _declared_pair(tokenizer) if kind == "MarianTokenizer" else None
        return ModelFamily("marian" if kind == "MarianTokenizer" else model_type, task_prefixes=prefixes, pair=pair)
    return ModelFamily(name, _codes(tokenizer, name), source_tagged, target_by, prefixes)  # type: ignore[arg-type]


def _codes(tokenizer: Any, family: str) -> tuple[str, ...]:
    pattern = re.compile(_CODE_PATTERNS[family])
    candidates = set(tokenizer.get_vocab())
    for name in ("lang_code_to_id", "lang_code_to_token"):  # mBART: code -> id; M2M100: fr -> __fr__
        known = getattr(tokenizer, name, None)
        if isinstance(known, dict):
            candidates |= {str(token) for token in (known if name == "lang_code_to_id" else known.values())}
    unknown = getattr(tokenizer, "unk_token_id", None)
    return tuple(
        sorted(
            token
            for token in candidates
            if pattern.fullmatch(token) and tokenizer.convert_tokens_to_ids(token) != unknown
        )
    )


def _task_prefixes(config: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    params = config.get("task_specific_params")
    if not isinstance(params, dict):
        return ()
    return tuple(
        sorted(
            (task, value["prefix"])
            for task, value in params.items()
            if isinstance(value, dict) and isinstance(value.get("prefix"), str)
        )
    )


def _declared_pair(tokenizer: Any) -> tuple[str, str] | None:
    """A Marian tokenizer's ``source_lang`` and ``target_lang``, when both name one language."""
    found = [_individual_language(getattr(tokenizer, name, None)) for name in ("source_lang", "target_lang")]
    return (found[0], found[1]) if found[0] and found[1] else None


def _individual_language(tag: Any) -> str | None:
    """``tag`` as an ISO 639-1 code when it names one language (``fr``, ``fra``), else None
    (group codes such as ``roa`` or ``mul``)."""
    if not isinstance(tag, str) or not re.fullmatch(r"[a-z]{2,3}", tag):
        return None
    language = _standard(tag)[0]
    return language if len(language) == 2 else None


def _standard(tag: str) -> tuple[str, str | None]:
    """(language, script) of a code's tag, the language as ISO 639-1 where one exists
    (``fra_Latn`` -> (``fr``, ``Latn``), ``arb`` -> (``ar``, None))."""
    import langcodes

    try:
        parsed = langcodes.Language.get(langcodes.standardize_tag(tag.replace("_", "-"), macro=True))
    except (ValueError, LookupError):
        return tag, None
    return str(parsed.language or tag), parsed.script


#: Macrolanguages whose codes several individual languages share, and the one a news
#: article in that language is written in (Persian: Iranian Persian, not Dari).
_PREFERRED = {"fa": "pes", "no": "nob", "nb": "nob"}


def code_for(family: ModelFamily, language: str) -> str | None:
    """The token of ``family``'s tokenizer for ``language`` (ISO 639-1, e.g. ``fr``);
    None when it has none. Several candidates (``zho_Hans``/``zho_Hant``) are decided by
    the language's usual script, then by its own three-letter code; a tie stays None."""
    import langcodes

    pattern = re.compile(_CODE_PATTERNS[family.name])
    wanted, wanted_script = _standard(language)
    tagged = [(code, pattern.fullmatch(code).group(1)) for code in family.codes]  # type: ignore[union-attr]
    preferred = _PREFERRED.get(wanted)
    matches = [(code, tag) for code, tag in tagged if tag.split("_")[0] == preferred]
    matches = matches or [(code, tag) for code, tag in tagged if _standard(tag)[0] == wanted]
    if len(matches) > 1:
        try:
            likely = wanted_script or langcodes.Language.get(wanted).maximize().script
            alpha3 = langcodes.Language.get(wanted).to_alpha3()
        except (ValueError, LookupError):
            likely, alpha3 = None, None
        for keep in (
            lambda tag: _standard(tag)[1] in (None, likely),
            lambda tag: tag.split("_")[0] in (wanted, alpha3),
            lambda tag: tag in (wanted, alpha3),  # >>fr<< before >>fr_BE<<, >>fr_CA<<
        ):
            narrowed = [(code, tag) for code, tag in matches if keep(tag)]
            matches = narrowed or matches
    return matches[0][0] if len(matches) == 1 else None


def frame(family: ModelFamily, role: Role, direction: Direction, spec: ModelSpec) -> Framing:
    """How a request in ``direction`` is framed for ``family``; ConfigError naming the key
    to set when the model has no code for a language, or an override does not fit it."""
    choice = direction.choice
    if choice.entry:
        spec = replace(spec, config_key=choice.entry)  # name the entry that asked, not the engine's first
    where = f"{spec.config_key}: {spec.label()}"
    if family.decoder_only:
        return _prompted(family, role, direction, spec)
    codes = _CodeLookup(family, spec)
    for setting, given, takes in (
        ("source_code", choice.source_code, family.source_tagged),
        ("target_code", choice.target_code, family.target_by != "none"),
    ):
        if given is not None and not takes:
            side = setting.split("_")[0]
            raise ConfigError(
                f"{setting_key(spec.config_key, setting)}: {spec.label()} takes no {side} language "
                f"code ({family.name} models are fed without one); delete the line"
            )
    pair = (_standard(direction.source)[0], _standard(direction.target)[0])
    if role == "translation" and family.pair and family.pair != pair:
        raise ConfigError(
            f"{where}: translates {family.pair[0]} into {family.pair[1]} (its tokenizer says so), "
            f"not {direction.source} into {direction.target}; choose a model for this pair"
        )
    source = codes.resolve("source_code", choice.source_code, direction.source) if family.source_tagged else None
    target = codes.resolve("target_code", choice.target_code, direction.target) if family.target_by != "none" else None
    prefix = choice.prefix if choice.prefix is not None else _task_prefix(family, role, direction, spec)
    return Framing(
        family.name,
        source_code=source,
        src_lang=_tokenizer_language(family, source) if source else None,
        first_token=target if family.target_by == "text" else None,
        text_prefix=prefix,
        forced_first=target if family.target_by == "forced_bos" else None,
        decoder_start=target if family.target_by == "decoder_start" else None,
    )


def _prompted(family: ModelFamily, role: Role, direction: Direction, spec: ModelSpec) -> Framing:
    """A decoder-only model's framing: its prompt (codes and task prefixes do not apply)."""
    choice = direction.choice
    for setting in ("source_code", "target_code", "prefix"):
        if getattr(choice, setting) is not None:
            raise ConfigError(
                f"{setting_key(spec.config_key, setting)}: {spec.label()} is an instruct (decoder-only) "
                f"model, asked through its prompt ({spec.config_key.split('.')[0]}.prompt); delete the line"
            )
    where = f"{spec.config_key}: {spec.label()}"
    system, prompt = prompt_for(role, direction.source, direction.target, choice, chat=family.chat, where=where)
    return Framing(family.name, system=system, prompt=prompt, chat=family.chat)


def _tokenizer_language(family: ModelFamily, code: str) -> str:
    """The tokenizer's ``src_lang`` value for the token ``code``."""
    if family.name == "m2m100":
        return re.fullmatch(_CODE_PATTERNS["m2m100"], code).group(1)  # type: ignore[union-attr]
    return code


class _CodeLookup:
    """A family's codes, for one model entry's messages."""

    def __init__(self, family: ModelFamily, spec: ModelSpec) -> None:
        self.family, self.spec = family, spec

    def resolve(self, setting: str, override: str | None, language: str) -> str:
        """The override, if the tokenizer knows it, else the code for ``language``."""
        key = setting_key(self.spec.config_key, setting)
        if override is not None:
            if override not in self.family.codes:
                close = difflib.get_close_matches(override, self.family.codes, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise ConfigError(
                    f"{key}: the tokenizer of {self.spec.label()} has no code {override!r}; "
                    f"{hint}its codes look like {self._examples}"
                )
            return override
        code = code_for(self.family, language)
        if code is None:
            side = "source" if setting == "source_code" else "target"
            raise ConfigError(
                f"{self.spec.config_key}: {self.spec.label()} has no {self.family.name} code for the "
                f"{side} language {language!r}; set {key} to one of its codes ({self._examples}) "
                "if one fits, or choose another model"
            )
        return code

    @property
    def _examples(self) -> str:
        shown = self.family.codes[:4]
        return ", ".join(shown) + (", ..." if len(self.family.codes) > len(shown) else "")


def _task_prefix(family: ModelFamily, role: Role, direction: Direction, spec: ModelSpec) -> str:
    """The model's own task prefix (``task_specific_params``) for this request."""
    prefixes = dict(family.task_prefixes)
    if role == "summarization":
        return prefixes.get("summarization", "")
    task = f"translation_{direction.source}_to_{direction.target}"
    if task in prefixes:
        return prefixes[task]
    trained = sorted(t.removeprefix("translation_").replace("_to_", "->") for t in prefixes if t.startswith("translation_"))
    if trained:
        raise ConfigError(
            f"{spec.config_key}: {spec.label()}: its config has translation prefixes for "
            f"{', '.join(trained)} only, none for {direction.source}->{direction.target}; if it was "
            f"trained on this pair, set {setting_key(spec.config_key, 'prefix')} to the prefix it "
            "expects ('' for none)"
        )
    return ""
