"""Job configuration: sections as frozen dataclasses, loaded strictly from YAML.

Every YAML key maps to a documented dataclass field; unknown keys, wrong types
and out-of-range values are rejected with the file and the key's dotted name,
so a typo such as ``num_beam`` never passes silently.
"""

from .defaults import (
    DEFAULT_DROP_LINE_PATTERNS,
    DEFAULT_SUMMARIZER,
    DEFAULT_TRANSLATOR,
    GENERATION_KEYS,
    KNOWN_SAFETENSORS_REVISIONS,
)
from .loader import FORBIDDEN_KEYS, check_own_folders, load_config, reports_of, revision_warnings
from .sections import (
    CleaningConfig,
    HubConfig,
    InputsConfig,
    JobConfig,
    LanguagesConfig,
    ModelChoice,
    OutputsConfig,
    QualityConfig,
    ReportsConfig,
    RuntimeConfig,
    SummarizationConfig,
    TranslationConfig,
    is_gguf_model,
    is_local_model,
)

__all__ = [
    "DEFAULT_DROP_LINE_PATTERNS",
    "DEFAULT_SUMMARIZER",
    "DEFAULT_TRANSLATOR",
    "FORBIDDEN_KEYS",
    "GENERATION_KEYS",
    "KNOWN_SAFETENSORS_REVISIONS",
    "CleaningConfig",
    "HubConfig",
    "InputsConfig",
    "JobConfig",
    "LanguagesConfig",
    "ModelChoice",
    "OutputsConfig",
    "QualityConfig",
    "ReportsConfig",
    "RuntimeConfig",
    "SummarizationConfig",
    "TranslationConfig",
    "is_gguf_model",
    "is_local_model",
    "check_own_folders",
    "load_config",
    "reports_of",
    "revision_warnings",
]
