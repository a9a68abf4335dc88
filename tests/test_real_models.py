"""The real default models, when their weights are already in the local Hugging Face cache.

Marked ``slow`` and skipped otherwise (CI has no hub access). Run with
``pytest -m slow`` on a machine where ``summarizer run -c configs/default.yaml``
has downloaded them once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from summarizer.routing import route
from summarizer.config import load_config

REPO = Path(__file__).resolve().parents[1]
DEFAULT = load_config(REPO / "configs" / "default.yaml")


def cached(model: str, revision: str | None) -> bool:
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(model, "model.safetensors", revision=revision)
    return isinstance(found, str)


needs_weights = pytest.mark.skipif(
    not (
        all(cached(use.spec.name, use.spec.revision) for use in route(DEFAULT, "fr").uses)
    ),
    reason="default model weights are not in the local Hugging Face cache",
)


@pytest.mark.slow
@needs_weights
def test_default_models_summarise_and_translate(tmp_path: Path) -> None:
    from summarizer.cli import main

    article = tmp_path / "a.txt"
    article.write_text(
        "Le budget de Lyon adopté\n"
        "Le conseil municipal de Lyon a adopté lundi soir le budget de la ville pour 2027. "
        "Il prévoit de nouvelles pistes cyclables et la rénovation de trois écoles.\n",
        encoding="utf-8",
    )
    config = REPO / "configs" / "default.yaml"
    assert main(["run", "-c", str(config), "--input", str(tmp_path)]) == 0
    translation = (tmp_path / "a.translation.en.txt").read_text(encoding="utf-8").lower()
    assert "budget" in translation and "lyon" in translation
    assert (tmp_path / "a.summary.fr.txt").read_text(encoding="utf-8").strip()
