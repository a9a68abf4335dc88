"""Job configuration: one frozen dataclass per YAML section and a strict loader.

Every YAML key maps to a dataclass field documented below; unknown keys, wrong
types and out-of-range values are rejected with the file and the key's dotted
name, so a typo such as ``num_beam`` never passes silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from .config_loader import StrictLoader, kind_of
from .errors import ConfigError

#: Lines dropped from scraped French news by default (each is a Python regex
#: matched, case-insensitively, against the whole stripped line).
DEFAULT_DROP_LINE_PATTERNS: tuple[str, ...] = (
    r"(?:À|A) lire (?:aussi|également)\b.*",
    r"Lire (?:aussi|également)\b.*",
    r"(?:https?://|www\.)\S+",
    r"Publicité",
)

#: Popular models whose main branch holds only pickle weights, with the commit
#: of the hub's safetensors conversion (an open pull request) used when the
#: config names the model without a revision.
KNOWN_SAFETENSORS_REVISIONS: dict[str, str] = {
    # refs/pr/2, "Adding `safetensors` variant of this model"
    "moussaKam/barthez-orangesum-abstract": "d297ebaa84d61a069a0cd6922271c4a47ba2554e",
    # refs/pr/4, conversion of main b4a9a38
    "Helsinki-NLP/opus-mt-fr-en": "d1e0695bb7088571b5fdc25e950f415ad45c8ff1",
}

#: Generation settings that YAML may override, with their types. They are
#: applied key by key on top of the model's own ``generation_config``.
GENERATION_KEYS: dict[str, type] = {
    "num_beams": int,
    "max_new_tokens": int,
    "min_new_tokens": int,
    "no_repeat_ngram_size": int,
    "encoder_no_repeat_ngram_size": int,
    "length_penalty": float,
    "repetition_penalty": float,
    "early_stopping": bool,
    "do_sample": bool,
    "temperature": float,
    "top_k": int,
    "top_p": float,
}


def _positive(value: Any) -> str | None:
    return None if value is None or value > 0 else "must be greater than 0"


def _not_negative(value: Any) -> str | None:
    return None if value is None or value >= 0 else "must be 0 or more"


def _language_code(value: Any) -> str | None:
    ok = re.fullmatch(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?", value)
    return None if ok else "must be a language code such as 'fr' or 'en'"


def _extensions(value: tuple[str, ...]) -> str | None:
    bad = [ext for ext in value if not re.fullmatch(r"\.[A-Za-z0-9]+", ext)]
    return f"{bad[0]!r} is not an extension like '.txt'" if bad else None


def _check(check: Any) -> dict[str, Any]:
    return {"check": check}


@dataclass(frozen=True)
class InputsConfig:
    """Where articles are read from."""

    paths: tuple[Path, ...] = ()
    """Files or folders (read recursively) holding articles. Relative paths are
    resolved against the folder of the config file. ``--input`` replaces them."""

    extensions: tuple[str, ...] = field(
        default=(".txt", ".md", ".jsonl"), metadata=_check(_extensions)
    )
    """File extensions read as articles (``.txt``/``.md``: title line then body;
    ``.jsonl``: one article per line). Other files are ignored."""

    max_file_mb: float = field(default=25.0, metadata=_check(_positive))
    """Larger input files are refused (recorded as failed) without being read."""

    max_article_chars: int = field(default=200_000, metadata=_check(_positive))
    """Longer articles are refused (recorded as failed): about 50,000 tokens."""


@dataclass(frozen=True)
class OutputsConfig:
    """Where results are written."""

    dir: Path | None = None
    """Folder receiving the results, mirroring the input tree. Empty (the
    default) writes them next to each original. ``--output-dir`` replaces it."""


@dataclass(frozen=True)
class ReportsConfig:
    """What the run leaves for people and monitoring (see README, "Operating it")."""

    dir: Path | None = None
    """Folder for each run's ``report.json`` and the daily digests; empty: none written."""

    keep_runs: int = field(default=90, metadata=_check(_positive))
    """Run folders kept under ``dir``; older ones are deleted."""

    prometheus_file: Path | None = None
    """Prometheus textfile (e.g. in node_exporter's textfile folder); empty:
    ``summarizer.prom`` in ``dir`` when ``dir`` is set."""


@dataclass(frozen=True)
class HubConfig:
    """Where hub models are cached. ``run`` and ``check`` never download; ``fetch`` does."""

    cache_dir: Path | None = None
    """Model cache folder; empty: the Hugging Face default (``HF_HOME``, ~/.cache/huggingface)."""


@dataclass(frozen=True)
class RuntimeConfig:
    """How models run. None of these settings changes what is written."""

    device: Literal["auto", "cpu", "cuda"] = "auto"
    """``auto`` uses CUDA when available, else the CPU."""

    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    """``auto``: float32 on CPU, bfloat16 on CUDA where supported (else float16)."""

    threads: int | None = field(default=None, metadata=_check(_positive))
    """Torch CPU threads; empty keeps torch's default (one per core)."""

    batch_tokens: int = field(default=4096, metadata=_check(_positive))
    """Budget of padded input tokens per batch (batch size x longest input)."""

    max_batch_size: int = field(default=64, metadata=_check(_positive))
    """Upper bound on the number of inputs in one batch."""

    wave_articles: int = field(default=64, metadata=_check(_not_negative))
    """Articles processed together before their files are written. All segments
    of a wave share one length-sorted queue per model; finished waves are kept
    if the run is stopped. 0 puts the whole run in one wave."""

    time_budget_minutes: float | None = field(default=360.0, metadata=_check(_positive))
    """After this long the run stops cleanly, like on SIGTERM (exit 75), keeping
    what is finished and leaving the rest for the next run; empty: no limit."""


@dataclass(frozen=True)
class CleaningConfig:
    """What is removed from articles before they reach a model."""

    drop_line_patterns: tuple[str, ...] = DEFAULT_DROP_LINE_PATTERNS
    """Python regexes; a line whose stripped text fully matches one of them
    (case-insensitively) is dropped. The default drops "À lire aussi : …",
    "Lire aussi …", lines that are only a URL, and "Publicité"."""


@dataclass(frozen=True)
class SummarizationConfig:
    """The summarisation model and how it is used."""

    model: str = field(default="moussaKam/barthez-orangesum-abstract", metadata={"model": True})
    """Hub id (``org/name``) or a local folder (absolute, or starting with
    ``./``/``../``, relative to the config file) holding safetensors weights."""

    revision: str | None = None
    """Hub revision (commit hash, branch, tag or ``refs/pr/N``); ignored for local folders.
    Empty: the pinned safetensors revision for a model in KNOWN_SAFETENSORS_REVISIONS,
    else the main branch."""

    allow_pickle_weights: bool = False
    """Allow pickle weights (``pytorch_model.bin``) when a model has no
    safetensors. Pickle files can run code when loaded: only for models you trust."""

    max_input_tokens: int | None = field(default=None, metadata=_check(_positive))
    """Longest input given to the model, in its tokens; empty uses the model's
    own limit (its position embeddings or tokenizer maximum, else 512)."""

    long_input: Literal["chunk", "truncate"] = "chunk"
    """For articles over the limit: ``chunk`` summarises each chunk then the
    joined chunk summaries (recursively); ``truncate`` keeps the lead and records
    the number of dropped tokens."""

    generation: dict[str, Any] = field(
        default_factory=dict, metadata={"settings": GENERATION_KEYS}
    )
    """Overrides of the model's generation_config (see GENERATION_KEYS)."""

    def __post_init__(self) -> None:
        if self.revision is None and self.model in KNOWN_SAFETENSORS_REVISIONS:
            object.__setattr__(self, "revision", KNOWN_SAFETENSORS_REVISIONS[self.model])


@dataclass(frozen=True)
class TranslationConfig:
    """The translation model and how articles are cut for it."""

    model: str = field(default="Helsinki-NLP/opus-mt-fr-en", metadata={"model": True})
    """Hub id or local folder, as for ``summarization.model``."""

    revision: str | None = None
    """Hub revision, as for ``summarization.revision``."""

    allow_pickle_weights: bool = False
    """Allow pickle weights (``pytorch_model.bin``) when a model has no
    safetensors. Pickle files can run code when loaded: only for models you trust."""

    target_language: str = field(default="en", metadata=_check(_language_code))
    """Language the model translates into; used in output file names."""

    max_input_tokens: int = field(default=256, metadata=_check(_positive))
    """Hard limit per model input: a longer sentence is split at clause
    punctuation, then at word or character boundaries. Never truncated."""

    pack_tokens: int = field(default=64, metadata=_check(_positive))
    """Consecutive short sentences of a paragraph are packed into one input up
    to this many tokens (sentence-level models translate best this way)."""

    max_new_tokens_factor: float = field(default=2.0, metadata=_check(_positive))
    """When ``generation.max_new_tokens`` is not set, outputs are capped at
    factor x input tokens + margin, so a degenerate loop stops early."""

    max_new_tokens_margin: int = field(default=16, metadata=_check(_not_negative))
    """See ``max_new_tokens_factor``."""

    generation: dict[str, Any] = field(
        default_factory=dict, metadata={"settings": GENERATION_KEYS}
    )
    """Overrides of the model's generation_config (see GENERATION_KEYS)."""

    def __post_init__(self) -> None:
        if self.revision is None and self.model in KNOWN_SAFETENSORS_REVISIONS:
            object.__setattr__(self, "revision", KNOWN_SAFETENSORS_REVISIONS[self.model])


@dataclass(frozen=True)
class JobConfig:
    """A whole job: one YAML file."""

    language: str = field(default="fr", metadata=_check(_language_code))
    """Language of the articles: chooses sentence-splitting rules and names the summary file."""

    inputs: InputsConfig = field(default_factory=InputsConfig)
    outputs: OutputsConfig = field(default_factory=OutputsConfig)
    reports: ReportsConfig = field(default_factory=ReportsConfig)
    hub: HubConfig = field(default_factory=HubConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    cleaning: CleaningConfig = field(default_factory=CleaningConfig)
    summarization: SummarizationConfig = field(default_factory=SummarizationConfig)
    translation: TranslationConfig = field(default_factory=TranslationConfig)

    source: Path | None = field(default=None, metadata={"yaml": False})
    """The file this configuration was loaded from (not a YAML key)."""

    def with_overrides(
        self, *, input_paths: list[Path] | None = None, output_dir: Path | None = None
    ) -> JobConfig:
        """Return a copy with command-line overrides applied (paths already absolute)."""
        config = self
        if input_paths:
            config = replace(config, inputs=replace(config.inputs, paths=tuple(input_paths)))
        if output_dir is not None:
            config = replace(config, outputs=replace(config.outputs, dir=output_dir))
        return config


#: YAML keys refused on purpose, with the reason given to the user.
FORBIDDEN_KEYS = {
    "trust_remote_code": "not supported: code shipped with a hub model is never run; "
    "choose a model that works without it",
}


def revision_warnings(config: JobConfig) -> list[str]:
    """One line per hub model whose revision can move (a branch, a PR ref, or none)."""
    warnings = []
    for section in ("summarization", "translation"):
        settings = getattr(config, section)
        if is_local_model(settings.model):
            continue
        revision = settings.revision
        if revision is None or not re.fullmatch(r"[0-9a-f]{40}", revision):
            what = "no revision (the moving main branch)" if revision is None else f"{revision!r}"
            warnings.append(
                f"{section}.revision: {what} can change under you; pin a commit hash "
                f"(`summarizer fetch` prints it)"
            )
    return warnings


def is_local_model(model: str) -> bool:
    """True when a loaded config's model value names a local folder (it is then absolute)."""
    return Path(model).is_absolute()


def load_config(path: str | Path) -> JobConfig:
    """Read, validate and return the job configuration in ``path``.

    Raises ConfigError (naming the file and key) for unreadable files, invalid
    YAML, Python tags, unknown keys, wrong types and impossible values.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(
            f"{path}:{where}: invalid YAML ({problem}); only plain YAML is accepted, no Python tags"
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections, not {kind_of(data)}")
    config = StrictLoader(path, FORBIDDEN_KEYS).build(JobConfig, data, "")
    config = replace(config, source=path.resolve())
    _check_consistency(config, path)
    return config


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
    return problems


def _check_consistency(config: JobConfig, path: Path) -> None:
    """Checks that involve more than one key."""
    for index, pattern in enumerate(config.cleaning.drop_line_patterns):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(
                f"{path}: cleaning.drop_line_patterns[{index}]: invalid regex {pattern!r} ({exc})"
            ) from None
    for section in ("summarization", "translation"):
        gen = getattr(config, section).generation
        for key, problem in _generation_problems(gen):
            raise ConfigError(f"{path}: {section}.generation.{key}: {problem}")
        low, high = gen.get("min_new_tokens"), gen.get("max_new_tokens")
        if low is not None and high is not None and low > high:
            raise ConfigError(
                f"{path}: {section}.generation.min_new_tokens: {low} is more than max_new_tokens {high}"
            )
    summ = config.summarization
    limit, out = summ.max_input_tokens, summ.generation.get("max_new_tokens")
    if summ.long_input == "chunk" and limit and out and out * 2 > limit:
        raise ConfigError(
            f"{path}: summarization.generation.max_new_tokens: {out} is more than half of "
            f"max_input_tokens ({limit}), so chunk summaries could never be merged; lower it"
        )
    tr = config.translation
    if tr.pack_tokens > tr.max_input_tokens:
        raise ConfigError(
            f"{path}: translation.pack_tokens: {tr.pack_tokens} is more than "
            f"translation.max_input_tokens ({tr.max_input_tokens}); lower it"
        )
