"""The configuration sections: one frozen dataclass per YAML section (the model
sections and their entries are in ``model_sections``).

Every YAML key is a field documented here; ``loader.StrictLoader`` checks
names, types and the ``check`` in each field's metadata.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from .checks import at_most as _at_most
from .checks import at_most_cpus as _at_most_cpus
from .checks import check as _check
from .checks import fraction as _fraction
from .checks import not_negative as _not_negative
from .checks import positive as _positive
from .cluster import RayConfig
from .defaults import (
    DEFAULT_DROP_LINE_PATTERNS,
    DEFAULT_FAITHFULNESS_RETRY_GENERATION,
    DEFAULT_RETRY_GENERATION,
    DEFAULT_SUMMARIZER,
    DEFAULT_TRANSLATOR,
    GENERATION_KEYS,
)
from .model_sections import ModelChoice, SummarizationConfig, TranslationConfig
from .model_sections import _language_code


def _extensions(value: tuple[str, ...]) -> str | None:
    bad = [ext for ext in value if not re.fullmatch(r"\.[A-Za-z0-9]+", ext)]
    return f"{bad[0]!r} is not an extension like '.txt'" if bad else None


@dataclass(frozen=True)
class InputsConfig:
    """Where articles are read from."""

    paths: tuple[Path, ...] = ()
    """Files or folders (read recursively) holding articles. Relative paths are
    resolved against the folder of the config file. ``--input`` replaces them."""

    extensions: tuple[str, ...] = field(
        default=(".txt", ".md", ".jsonl", ".html", ".htm"), metadata=_check(_extensions)
    )
    """File extensions read as articles (``.txt``/``.md``: title line then body;
    ``.jsonl``: one article per line; ``.html``/``.htm``: main text extracted).
    Other files are ignored."""

    max_file_mb: float = field(default=25.0, metadata=_check(_positive, _at_most(1024)))
    """Larger input files are refused (recorded as failed) without being read."""

    max_article_chars: int = field(default=200_000, metadata=_check(_positive, _at_most(10_000_000)))
    """Longer articles (title and text) are refused (recorded as failed): about 50,000 tokens."""


@dataclass(frozen=True)
class OutputsConfig:
    """Where results are written."""

    dir: Path | None = None
    """Folder receiving the results, mirroring the input tree. Empty (the
    default) writes them next to each original. ``--output-dir`` replaces it."""


@dataclass(frozen=True)
class ReportsConfig:
    """What the run leaves for people and monitoring (see docs/operations.md)."""

    dir: Path | None = None
    """Folder for each run's ``report.json`` and the daily digests; empty: none written."""

    keep_runs: int = field(default=90, metadata=_check(_positive, _at_most(100_000)))
    """Run folders kept under ``dir``, per config: the latest this many runs that did
    something, and the latest this many that found nothing to do; older ones are deleted."""

    prometheus_file: Path | None = None
    """Prometheus textfile (e.g. in node_exporter's textfile folder); empty:
    ``summarizer-<config file name>.prom`` in ``dir`` when ``dir`` is set. One file per
    config: give two configs two different files."""

    export: Literal["jsonl", "parquet", "none"] = "jsonl"
    """The night as a dataset: one row per article the run did, in ``export.jsonl`` (or
    ``export.parquet``: install ``summarizer[parquet]``) in the run's folder under ``dir``,
    and ``latest-export-<config file name>.json`` in ``dir`` naming the last one (schema:
    docs/operations.md); ``none``: not written."""


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

    threads: int | None = field(default=None, metadata=_check(_positive, _at_most_cpus))
    """Torch CPU threads, at most the machine's cores; empty keeps torch's default (one per core)."""

    engine: Literal["transformers", "ctranslate2", "auto"] = "transformers"
    """``ctranslate2`` converts each model once (cached next to the model cache)
    and runs it with CTranslate2 (install ``summarizer[ctranslate2]``); Marian,
    BART/mBART, T5/mT5, M2M100/NLLB models only, fed as the transformers engine feeds them
    (docs/models-and-languages.md, "Model families"). ``auto``: CTranslate2 for each
    model it supports when it is installed, else the transformers engine (with
    ``quantize: int8``, torch's int8), saying so once."""

    quantize: Literal["none", "int8"] = "none"
    """``int8``: CPU dynamic int8 quantisation of the Linear layers (transformers
    engine), or CTranslate2's int8; about 2.5x faster on CPU, slightly different outputs."""

    attention: Literal["auto", "eager", "sdpa"] = "auto"
    """Attention implementation; ``auto`` is ``sdpa`` (PyTorch's fused attention),
    which measured 5x faster than ``eager`` on CPU for padded batches."""

    batch_tokens: int | None = field(default=None, metadata=_check(_positive, _at_most(1_048_576)))
    """Budget of padded input tokens per batch (batch size x longest input x
    beams); empty: 4096 on CPU (8192 with CTranslate2), 32768 on CUDA."""

    max_batch_size: int = field(default=64, metadata=_check(_positive, _at_most(4096)))
    """Upper bound on the number of sequences (inputs x beams) in one batch."""

    wave_articles: int = field(default=64, metadata=_check(_not_negative, _at_most(1_000_000)))
    """Articles processed together before their files are written. All segments
    of a wave share one length-sorted queue per model; finished waves are kept
    if the run is stopped. 0 puts the whole run in one wave."""

    wave_chars: int = field(default=100_000, metadata=_check(_not_negative, _at_most(10_000_000)))
    """Characters (titles and texts) the articles of one wave hold at most (100,000 is about
    25,000 tokens). An article longer than this is a wave of its own (on Ray, a batch of its
    own), done after every shorter article, the shortest first: it never holds a shorter one
    up, and a stop during it finds every shorter article written. 0: waves are cut by
    ``wave_articles`` only."""

    max_models_in_memory: int = field(default=2, metadata=_check(_positive, _at_most(64)))
    """Models held in memory at once; articles are grouped by model so each is
    loaded once per run (2 = a summariser and a translator)."""

    time_budget_minutes: float | None = field(default=360.0, metadata=_check(_positive, _at_most(10_080)))
    """After this long the run stops cleanly, like on SIGTERM (exit 75), keeping
    what is finished and leaving the rest for the next run; empty: no limit."""

    executor: Literal["local", "ray"] = "local"
    """``local``: this process does the work. ``ray``: workers on a Ray cluster do it
    (see the ``ray`` section; ``--executor`` replaces this)."""


@dataclass(frozen=True)
class CleaningConfig:
    """What is removed from articles before they reach a model."""

    drop_line_patterns: tuple[str, ...] = DEFAULT_DROP_LINE_PATTERNS
    """Python regexes; a line whose stripped text fully matches one of them
    (case-insensitively) is dropped. The default drops "À lire aussi : …",
    "Lire aussi …", lines that are only a URL, and "Publicité"."""


@dataclass(frozen=True)
class LanguagesConfig:
    """How each article's language is found."""

    force: str | None = field(default=None, metadata=_check(_language_code))
    """Treat every article as this language instead of detecting it."""

    min_confidence: float = field(default=0.5, metadata=_check(_fraction))
    """Detections less sure than this (in (0, 1]) are not trusted: the article is taken
    to be in the job's ``language`` and gets the ``language_uncertain`` flag."""


@dataclass(frozen=True)
class QualityConfig:
    """Checks on every generated text; what they find becomes flags, never silence."""

    repetition_ngram: int = field(default=3, metadata=_check(_positive, _at_most(20)))
    """Word n-gram size for the repetition check."""

    repetition_max_count: int = field(default=4, metadata=_check(_positive, _at_most(10_000)))
    """An n-gram seen more often than this in one output is a repetition loop."""

    min_distinct_ratio: float = field(default=0.5, metadata=_check(_fraction))
    """Outputs of 16 words or more whose distinct n-grams are fewer than this
    share of all their n-grams are repetitive."""

    max_char_run: int = field(default=12, metadata=_check(_positive, _at_most(10_000)))
    """The same character repeated more than this many times is a loop too."""

    length_ratio_min: float = field(default=0.3, metadata=_check(_positive, _at_most(100)))
    """A translated segment shorter than this x its source (in characters) is flagged."""

    length_ratio_max: float = field(default=3.0, metadata=_check(_positive, _at_most(100)))
    """A translated segment longer than this x its source is flagged."""

    length_ratio_min_chars: int = field(default=20, metadata=_check(_not_negative, _at_most(1_000_000)))
    """Sources shorter than this are not length-checked (ratios are noisy)."""

    untranslated_confidence: float = field(default=0.9, metadata=_check(_fraction))
    """A translation (or translated summary) detected as its source language at least this surely is ``untranslated``."""

    retry: bool = True
    """Retry each flagged translation segment once with ``retry_generation``."""

    retry_generation: dict[str, Any] = field(
        default_factory=lambda: dict(DEFAULT_RETRY_GENERATION),
        metadata={"settings": GENERATION_KEYS},
    )
    """Stricter generation settings for the retry."""

    faithfulness: bool = True
    """Check every summary and translation for numbers, names, weekdays and months
    the article does not contain (flags ``number_mismatch``, ``unsupported_name``,
    ``unsupported_date``, with the offending words in meta and in the digest)."""

    faithfulness_retry_generation: dict[str, Any] = field(
        default_factory=lambda: dict(DEFAULT_FAITHFULNESS_RETRY_GENERATION),
        metadata={"settings": GENERATION_KEYS},
    )
    """With ``retry``: a summary those checks flag, and a translated chunk whose figures or
    dates its source does not back, is generated once more with these settings; the version
    with fewer unsupported words is kept, still flagged if any. Keep length settings out:
    they would apply to translation chunks too."""


@dataclass(frozen=True)
class JobConfig:
    """A whole job: one YAML file."""

    language: str = field(default="fr", metadata=_check(_language_code))
    """The feed's main language: the language of the single ``model`` keys, and
    of articles whose detected language is too unsure (``languages.min_confidence``)."""

    languages: LanguagesConfig = field(default_factory=LanguagesConfig)
    inputs: InputsConfig = field(default_factory=InputsConfig)
    outputs: OutputsConfig = field(default_factory=OutputsConfig)
    reports: ReportsConfig = field(default_factory=ReportsConfig)
    hub: HubConfig = field(default_factory=HubConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    cleaning: CleaningConfig = field(default_factory=CleaningConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    summarization: SummarizationConfig = field(default_factory=SummarizationConfig)
    translation: TranslationConfig = field(default_factory=TranslationConfig)
    ray: RayConfig = field(default_factory=RayConfig)

    source: Path | None = field(default=None, metadata={"yaml": False})
    """The file this configuration was loaded from (not a YAML key)."""

    @property
    def target_language(self) -> str:
        """The language everything is translated into."""
        return self.translation.target_language

    def summarizers(self) -> dict[str, ModelChoice]:
        """Language (or ``default``) -> summarisation model."""
        return self.summarization.model_map(self.language, DEFAULT_SUMMARIZER)

    def translators(self) -> dict[str, ModelChoice]:
        """Source language -> translation model."""
        return self.translation.model_map(self.language, DEFAULT_TRANSLATOR)

    def with_overrides(
        self,
        *,
        input_paths: list[Path] | None = None,
        output_dir: Path | None = None,
        executor: str | None = None,
        ray_address: str | None = None,
    ) -> JobConfig:
        """Return a copy with command-line overrides applied (paths already absolute)."""
        config = self
        if executor is not None:
            config = replace(config, runtime=replace(config.runtime, executor=executor))
        if ray_address is not None:
            config = replace(config, ray=replace(config.ray, address=ray_address))
        if input_paths:
            config = replace(config, inputs=replace(config.inputs, paths=tuple(input_paths)))
        if output_dir is not None:
            config = replace(config, outputs=replace(config.outputs, dir=output_dir))
        return config


def is_gguf_model(model: str) -> bool:
    """True when a model value names a GGUF file (one file holding a model: ``models.gguf``)."""
    return model.lower().endswith(".gguf")


def is_local_model(model: str) -> bool:
    """True when a loaded config's model value names a local folder (it is then absolute)."""
    return Path(model).is_absolute()
