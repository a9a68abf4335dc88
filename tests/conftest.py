"""Shared fixtures: tiny local models, sample articles, job configs."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

import pytest

# Tests never touch the network, even by accident.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RAY_ENABLE_AUTO_CONNECT", "0")  # as summarizer sets it: Ray only when asked

ARTICLE_VELO = """\
Lyon veut doubler ses pistes cyclables
La métropole de Lyon a présenté mardi un plan qui prévoit de doubler son réseau cyclable d’ici à 2030. Le projet coûtera 180 millions d’euros.
« Nous voulons que chacun puisse aller au travail à vélo », a expliqué la vice-présidente. M. Martin, élu d’opposition, juge le plan « trop cher ».
À lire aussi : https://www.example.org/mobilites/velo.html
Les premiers travaux commenceront au printemps sur les quais du Rhône.
"""

ARTICLE_EAU = """\
# Les nappes phréatiques toujours sous la normale

Malgré les pluies de novembre, le niveau des nappes reste bas en Bretagne.

Publicité

Plusieurs communes maintiennent des restrictions d’usage de l’eau ; les agriculteurs demandent une aide.
"""


@pytest.fixture(autouse=True)
def fresh_logging():
    """Each test starts with the job's loggers as an import leaves them: a handler that
    ``main`` bound to an earlier test's captured stderr (closed since) must not be reused."""
    import logging

    yield
    for name in ("summarizer", "py.warnings"):
        target = logging.getLogger(name)
        target.handlers.clear()
        target.propagate = True
        target.setLevel(logging.NOTSET)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Paths of a tiny T5 summariser and a tiny Marian translator, built once per session."""
    from summarizer.models.tiny import build_tiny_marian, build_tiny_t5

    root = tmp_path_factory.mktemp("models")
    return {
        "summarizer": build_tiny_t5(root / "t5", max_input_tokens=128),
        "translator": build_tiny_marian(root / "marian", max_positions=128),
    }


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    """A folder with two French articles (.txt and .md) in a subfolder."""
    folder = tmp_path / "articles"
    (folder / "2026-11-28").mkdir(parents=True)
    (folder / "2026-11-28" / "velo.txt").write_text(ARTICLE_VELO, encoding="utf-8")
    (folder / "eau.md").write_text(ARTICLE_EAU, encoding="utf-8")
    written_earlier(folder)
    return folder


#: A saved news page (one paragraph of article text) and a two-record feed, for tests that
#: need every input format.
PAGE = (
    "<html><head><title>Grève à la SNCF</title></head><body><article><p>Les syndicats de la SNCF "
    "appellent à une nouvelle journée de grève jeudi prochain, contre la réforme présentée en janvier."
    "</p></article></body></html>"
)
FEED = [
    {"id": "a", "title": "Grève jeudi", "text": "Les syndicats appellent à la grève jeudi prochain."},
    {"id": "b", "title": "Budget", "text": "Le conseil municipal a voté le budget mardi soir."},
]


def written_earlier(folder: Path) -> None:
    """Inputs as a scraper leaves them: written a while before a run reads them (a file
    read just after it was written has its time recorded only by the next run)."""
    past = time.time() - 60
    for path in folder.rglob("*"):
        os.utime(path, (past, past))


def write_config(path: Path, body: str) -> Path:
    """Write a YAML config (dedented) and return its path."""
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


DELETE = object()
"""In ``edit_config`` changes: remove this key."""


def edit_config(path: Path, changes: dict, to: Path | None = None) -> Path:
    """The config in ``path`` with ``changes`` merged in (mappings merge key by key;
    a DELETE value removes the key), written to ``to`` (default: in place)."""
    import yaml

    def merge(base: dict, extra: dict) -> None:
        for key, value in extra.items():
            if value is DELETE:
                base.pop(key, None)
            elif isinstance(value, dict) and isinstance(base.get(key), dict):
                merge(base[key], value)
            else:
                base[key] = value

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    merge(data, changes)
    target = to or path
    target.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


@pytest.fixture
def job_config(tmp_path: Path, tiny_models: dict[str, Path], articles: Path) -> Path:
    """A config running the tiny models over ``articles``."""
    return write_config(
        tmp_path / "job.yaml",
        f"""\
        inputs:
          paths: [{articles}]
        runtime:
          device: cpu
          batch_tokens: 2048
        summarization:
          model: {tiny_models["summarizer"]}
          generation: {{max_new_tokens: 12, min_new_tokens: 4}}
        translation:
          model: {tiny_models["translator"]}
          generation: {{max_new_tokens: 12, min_new_tokens: 2}}
        """,
    )


def many_articles(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        (folder / f"a{index:02d}.txt").write_text(
            ARTICLE_VELO.replace("Lyon", f"Lyon {index}"), encoding="utf-8"
        )
    written_earlier(folder)


def operations_config(tmp_path: Path, tiny_models, extra: str = "") -> Path:
    return write_config(
        tmp_path / "job.yaml",
        f"""\
        inputs: {{paths: [articles]}}
        reports: {{dir: reports}}
        runtime: {{device: cpu, wave_articles: 2{extra}}}
        summarization:
          model: {tiny_models["summarizer"]}
          generation: {{max_new_tokens: 8, min_new_tokens: 2}}
        translation:
          model: {tiny_models["translator"]}
          generation: {{max_new_tokens: 8}}
        """,
    )


def metas(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("*.meta.json")}


def assert_complete(folder: Path) -> None:
    """Every article with a meta file has all its outputs; no temporary files anywhere."""
    for meta_file in folder.glob("*.meta.json"):
        stem = meta_file.name[: -len(".meta.json")]
        for suffix in ("summary.fr.txt", "summary.en.txt", "translation.en.txt"):
            assert (folder / f"{stem}.{suffix}").read_text(encoding="utf-8").endswith("\n")
    assert not [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


def _hypothesis_profiles() -> None:
    """``ci`` (default): a small, quick search; ``HYPOTHESIS_PROFILE=long`` searches deeper."""
    from hypothesis import HealthCheck, settings

    common = {"deadline": 5000, "suppress_health_check": [HealthCheck.too_slow], "derandomize": False}
    settings.register_profile("ci", max_examples=60, **common)
    settings.register_profile("long", max_examples=2000, **common)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


_hypothesis_profiles()


def requests(texts, direction=None):
    """Engine requests for ``texts`` (French into English unless ``direction`` says)."""
    from summarizer.models.base import Request

    return [Request(text, direction or fr_en()) for text in texts]


def fr_en():
    from summarizer.models.families import Direction

    return Direction("fr", "en")


def fr_fr():
    from summarizer.models.families import Direction

    return Direction("fr", "fr")


@pytest.fixture
def fake_gguf(tmp_path: Path, llm: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[Path]]:
    """A ``.gguf`` file whose "conversion" copies the test module's tiny chat model ``llm``
    (its model.safetensors as transformers' save_pretrained wrote it, mode included; a real
    GGUF is tried in test_real_weights.py): what is tested is the job's handling of the file.
    Gives the file and the list of conversions made."""
    import shutil

    from summarizer.models import gguf

    path = tmp_path / "models" / "tiny.Q4.gguf"
    path.parent.mkdir()
    path.write_bytes(b"GGUF tiny model v1")
    calls: list[Path] = []

    def convert(source: Path, staging: Path) -> None:
        calls.append(source)
        for entry in llm.iterdir():
            shutil.copy(entry, staging / entry.name)

    monkeypatch.setattr(gguf, "_convert", convert)
    monkeypatch.setattr(gguf, "_require_packages", lambda where: None)
    return path, calls


@pytest.fixture(scope="session")
def pickled_translator(tiny_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny translator as the hub would hold a pickle-only model: torch.save of its state dict."""
    import shutil

    import torch
    from transformers import MarianMTModel

    folder = tmp_path_factory.mktemp("pickled")
    for entry in tiny_models["translator"].iterdir():
        if entry.is_file() and not entry.name.endswith(".safetensors"):
            shutil.copy(entry, folder / entry.name)
    torch.save(MarianMTModel.from_pretrained(tiny_models["translator"]).state_dict(), folder / "pytorch_model.bin")
    return folder
