"""Model families: the one place that knows how each kind of model is fed.

From a model's ``config.json`` (``model_type``, ``architectures``,
``is_encoder_decoder``, ``task_specific_params``), its vocabulary's language-code
tokens and its generation config's own forced token, ``detect_family`` says what kind
of model it is, or why the job cannot drive it; the tokenizer's class only says how the
source code gets in. ``frame`` says, for one request (source and target language, the
config's overrides), what goes in and what is forced out:

- NLLB-200, M2M100 (``model_type: m2m_100``), mBART-50 (``mbart``): the source tagged
  with its code (``fra_Latn``, ``__fr__``, ``fr_XX``), by the tokenizer's ``src_lang``
  (or, for a generic re-saved tokenizer, put first by id); the target code forced as the
  first generated token. mBART-25 (``mbart`` with mBART-25's codes only): the target code
  is the decoder's start token. An ``m2m_100`` model without codes is refused.
- MADLAD-400 (T5 with ``<2xx>`` tokens), multi-target Marian (``>>xxx<<`` tokens):
  the target token written before the text.
- Any model whose config has a task prefix (T5, FLAN-T5: ``summarize: ``,
  ``translate English to German: ``): that prefix.
- Marian, BART, BARThez, Pegasus, mT5 without prefixes: the text as it is.
- Where the framing forces no token, the checkpoint's own ``forced_bos_token_id``
  (bart-large-cnn's ``<s>``) is the framing's forced token.
- Decoder-only (instruct) models: the text inside a prompt, through the tokenizer's
  chat template (``models.prompts``); a base model only with a plain prompt template.

Both engines (transformers and CTranslate2) apply exactly the same ``Framing``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from typing import Any, Literal, Mapping

from ..errors import ConfigError
from .checkpoint import own_forced_token, untag_template, vocabulary_codes
from .kinds import is_decoder_only, refuse_unsupported, unsupported_model
from .language_codes import code_tag, individual_language, pick_code, standard
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

TargetBy = Literal["none", "forced_bos", "decoder_start", "text"]

#: The families with language-code tokens: whether the source is tagged, how the target is given.
_CODED: dict[str, tuple[bool, TargetBy]] = {
    "nllb": (True, "forced_bos"),
    "m2m100": (True, "forced_bos"),
    "mbart50": (True, "forced_bos"),
    "mbart25": (True, "decoder_start"),
    "madlad": (False, "text"),
    "marian-multi": (False, "text"),
}

#: One code of each coded family, for messages.
_EXAMPLES = {"nllb": "eng_Latn", "m2m100": "__en__", "mbart50": "en_XX", "madlad": "<2en>", "marian-multi": ">>eng<<"}

#: Model types whose vocabulary may hold a coded family's codes, the families tried in
#: order, and whether a model of that type without any is refused (every ``m2m_100``
#: model is multilingual; an ``mbart`` without codes is BARThez-like, fed as it is).
_BY_MODEL_TYPE: dict[str, tuple[tuple[str, ...], bool]] = {
    "m2m_100": (("nllb", "m2m100"), True),
    "nllb-moe": (("nllb",), True),
    "mbart": (("mbart50",), False),
    "marian": (("marian-multi",), False),
    **{t5: (("madlad",), False) for t5 in ("t5", "mt5", "umt5", "longt5")},
}

#: Code tokens that only mBART-50 has (transformers' MBart50Tokenizer codes less MBartTokenizer's).
_MBART50_ONLY = frozenset(
    "af_ZA az_AZ bn_IN fa_IR gl_ES he_IL hr_HR id_ID ka_GE km_KH mk_MK ml_IN mn_MN mr_IN pl_PL "
    "ps_AF pt_XX sl_SI sv_SE sw_KE ta_IN te_IN th_TH tl_XX uk_UA ur_PK xh_ZA".split()
)


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
    ``target_prefix``): the target code, or the checkpoint's own forced token."""
    forced_by_model: bool = False
    """``forced_first`` is the checkpoint's own ``forced_bos_token_id``."""
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
        if self.first_token and self.first_token != self.source_code:
            parts.append(f"input starts with {self.first_token}")
        if self.text_prefix:
            parts.append(f"input starts {self.text_prefix!r}" if not self.first_token else f"then {self.text_prefix!r}")
        if self.decoder_start:
            parts.append(f"decoder starts with {self.decoder_start}")
        if self.forced_first:
            own = " (the model's forced_bos_token_id)" if self.forced_by_model else ""
            parts.append(f"first output token forced to {self.forced_first}{own}")
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
    source_by_id: bool = False
    """Its tokenizer is generic (no ``src_lang``): the source code is put first by id."""
    own_forced: str | None = None
    """The token its checkpoint forces first (``forced_bos_token_id``), if any."""


def detect_family(config: Mapping[str, Any], tokenizer: Any, role: Role, spec: ModelSpec) -> ModelFamily:
    """The family of the model of ``config.json`` and ``tokenizer`` in ``role``;
    ConfigError naming ``spec``'s config key for one the job cannot drive."""
    refuse_unsupported(config, spec)
    where = f"{spec.config_key}: {spec.label()}"
    family = _family(config, tokenizer, where)
    if role == "summarization" and family.name in TRANSLATION_ONLY:
        raise ConfigError(
            f"{where}: a translation model ({family.name}), not a summariser: it would rewrite "
            "each article in its own language; choose a summarisation model"
        )
    if family.decoder_only:
        return family
    if family.source_by_id:
        untag_template(tokenizer, family.codes)
    return replace(family, own_forced=own_forced_token(spec, tokenizer, where))


def _family(config: Mapping[str, Any], tokenizer: Any, where: str) -> ModelFamily:
    """The family from the model type and the vocabulary's language codes."""
    model_type = str(config.get("model_type"))
    if is_decoder_only(config):
        return ModelFamily(model_type, decoder_only=True, chat=bool(getattr(tokenizer, "chat_template", None)))
    prefixes = _task_prefixes(config)
    candidates, multilingual = _BY_MODEL_TYPE.get(model_type, ((), False))
    for name in candidates:
        codes = vocabulary_codes(tokenizer, name)
        if len(codes) > (1 if name == "madlad" else 0):
            break
    else:
        if multilingual:
            examples = ", ".join(_EXAMPLES[candidate] for candidate in candidates)
            raise ConfigError(
                f"{where}: a multilingual model (model_type {model_type}) whose tokenizer has no "
                f"language-code tokens ({examples}...): the job cannot tell it which language to read "
                "and write; give it the tokenizer files it was trained with"
            )
        pair = _declared_pair(tokenizer) if model_type == "marian" else None
        return ModelFamily(model_type, task_prefixes=prefixes, pair=pair)
    if name == "mbart50" and not _is_mbart50(codes, tokenizer, config):
        name = "mbart25"
    source_tagged, target_by = _CODED[name]
    by_id = source_tagged and not isinstance(getattr(type(tokenizer), "src_lang", None), property)
    if by_id and target_by == "decoder_start":
        raise ConfigError(
            f"{where}: an mBART-25 model whose tokenizer class is generic ({type(tokenizer).__name__}): "
            "mBART-25 reads its language code after the text, which only its own tokenizer writes; "
            'set "tokenizer_class": "MBartTokenizer" in its tokenizer_config.json'
        )
    return ModelFamily(name, codes, source_tagged, target_by, prefixes, source_by_id=by_id)


def _is_mbart50(codes: tuple[str, ...], tokenizer: Any, config: Mapping[str, Any]) -> bool:
    """An mBART model is mBART-50 when its vocabulary has codes only mBART-50 has, or its
    tokenizer (class or ``config.json``'s ``tokenizer_class``) says so; else mBART-25."""
    named = {type(tokenizer).__name__.removesuffix("Fast"), str(config.get("tokenizer_class")).removesuffix("Fast")}
    return bool(_MBART50_ONLY.intersection(codes)) or "MBart50Tokenizer" in named


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
    found = [individual_language(getattr(tokenizer, name, None)) for name in ("source_lang", "target_lang")]
    return (found[0], found[1]) if found[0] and found[1] else None


def code_for(family: ModelFamily, language: str) -> str | None:
    """The token of ``family``'s tokenizer for ``language`` (ISO 639-1, e.g. ``fr``);
    None when it has none (``models.language_codes.pick_code`` decides)."""
    return pick_code(family.name, family.codes, language)


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
    pair = (standard(direction.source)[0], standard(direction.target)[0])
    if role == "translation" and family.pair and family.pair != pair:
        raise ConfigError(
            f"{where}: translates {family.pair[0]} into {family.pair[1]} (its tokenizer says so), "
            f"not {direction.source} into {direction.target}; choose a model for this pair"
        )
    source = codes.resolve("source_code", choice.source_code, direction.source) if family.source_tagged else None
    target = codes.resolve("target_code", choice.target_code, direction.target) if family.target_by != "none" else None
    prefix = choice.prefix if choice.prefix is not None else _task_prefix(family, role, direction, spec)
    forced = target if family.target_by == "forced_bos" else family.own_forced
    return Framing(
        family.name,
        source_code=source,
        src_lang=_tokenizer_language(family, source) if source and not family.source_by_id else None,
        first_token=target if family.target_by == "text" else source if family.source_by_id else None,
        text_prefix=prefix,
        forced_first=forced,
        forced_by_model=forced is not None and family.target_by != "forced_bos",
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
    system, prompt, chat = prompt_for(role, direction.source, direction.target, choice, chat=family.chat, where=where)
    return Framing(family.name, system=system, prompt=prompt, chat=chat)


def _tokenizer_language(family: ModelFamily, code: str) -> str:
    """The tokenizer's ``src_lang`` value for the token ``code``."""
    return code_tag("m2m100", code) if family.name == "m2m100" else code


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
