"""The engine on tiny local models: batching, order, limits, failures, load errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from summarizer.config import RuntimeConfig
from summarizer.errors import ModelLoadError
from summarizer.models.loading import ModelSpec, explain_load_error
from summarizer.models.batching import plan_batches
from summarizer.models.base import BaseEngine
from summarizer.models.factory import build_engine

from conftest import fr_en, fr_fr, requests

TEXTS = [
    "Le conseil municipal a voté le budget de la ville mardi soir.",
    "Une enquête.",
    "Les prix de l’énergie ont augmenté de 12 % en un an, selon les syndicats, qui appellent à la grève.",
    "Bonjour",
    "M. Dupont, maire de la commune, a refusé de commenter l’affaire.",
    "Il a beaucoup plu en Bretagne.",
] * 3


def engine(path: Path, **runtime) -> BaseEngine:
    return build_engine(
        ModelSpec(str(path), config_key="translation.model"),
        RuntimeConfig(device="cpu", **runtime),
        generation={"max_new_tokens": 10},
        backend="transformers",
    )


def test_plan_batches_sorted_within_budget_and_complete() -> None:
    lengths = [5, 50, 7, 7, 30, 1, 100, 12, 12, 12]
    batches = plan_batches(lengths, batch_tokens=60, max_batch_size=3)
    flat = [i for batch in batches for i in batch]
    assert sorted(flat) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)
    for batch in batches:
        assert len(batch) <= 3
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 60
    assert batches[0] == [6]  # longer than the whole budget: alone


def test_plan_batches_empty() -> None:
    assert plan_batches([], 10, 10) == []


def test_nothing_loads_until_needed(tiny_models) -> None:
    e = engine(tiny_models["translator"])
    assert not e.loaded
    assert e.counter(fr_en())("Bonjour") > 1
    assert not e.loaded
    assert e.max_input_tokens == 128  # the tiny Marian's position table


def test_outputs_in_input_order_whatever_the_batching(tiny_models) -> None:
    batched = engine(tiny_models["translator"], batch_tokens=4096)
    alone = engine(tiny_models["translator"], batch_tokens=1, max_batch_size=1)
    results = batched.run(requests(TEXTS))
    assert [r.text for r in results] == alone.generate(TEXTS, fr_en())
    assert len(results) == len(TEXTS)
    assert batched.stats.batches == 1
    assert alone.stats.batches == len(TEXTS)
    assert [r.input_tokens for r in results] == [batched.counter(fr_en())(t) for t in TEXTS]
    assert all(r.error is None and 0 < r.generated_tokens <= 11 for r in results)
    assert batched.stats.generated_tokens == sum(r.generated_tokens for r in results)


def test_batches_respect_the_token_budget(tiny_models, monkeypatch) -> None:
    e = engine(tiny_models["translator"], batch_tokens=80, max_batch_size=4)
    e.load()
    shapes = []
    original = e._model.generate

    def spy(**kwargs):
        shapes.append(tuple(kwargs["input_ids"].shape))
        return original(**kwargs)

    monkeypatch.setattr(e._model, "generate", spy)
    progress = []
    results = e.run(requests(TEXTS), on_progress=progress.append)
    assert len(results) == len(TEXTS)
    assert sum(progress) == len(TEXTS)
    assert len(shapes) > 1
    for size, width in shapes:
        assert size <= 4
        assert size == 1 or size * width <= 80


def test_relative_output_cap_and_position_limit(tiny_models, monkeypatch) -> None:
    e = build_engine(
        ModelSpec(str(tiny_models["translator"])), RuntimeConfig(device="cpu"), relative_cap=(2.0, 3), backend="transformers"
    )
    e.load()
    caps = []
    original = e._model.generate

    def spy(**kwargs):
        caps.append((kwargs["input_ids"].shape[1], kwargs["generation_config"].max_new_tokens))
        return original(**kwargs)

    monkeypatch.setattr(e._model, "generate", spy)
    e.run(requests(["Bonjour", "Le conseil municipal a voté le budget de la ville mardi soir " * 5]))
    for width, cap in caps:
        assert cap == min(2 * width + 3, 127)


def test_generation_overrides_apply_on_top_of_the_model_config(tiny_models) -> None:
    e = build_engine(
        ModelSpec(str(tiny_models["translator"])),
        RuntimeConfig(device="cpu"),
        generation={"num_beams": 3, "no_repeat_ngram_size": 2, "max_new_tokens": 7},
        backend="transformers",
    )
    e.load()
    config = e._generation_config
    assert (config.num_beams, config.no_repeat_ngram_size, config.max_new_tokens) == (3, 2, 7)
    assert config.decoder_start_token_id == e.tokenizer.pad_token_id  # from the model's own config
    assert config.bad_words_ids == [[e.tokenizer.pad_token_id]]
    assert all(r.generated_tokens <= 7 for r in e.run(requests(TEXTS[:3])))


def test_too_long_input_is_an_error_not_a_truncation(tiny_models) -> None:
    e = engine(tiny_models["translator"])
    long_text = "le conseil municipal " * 200
    results = e.run(requests(["Bonjour", long_text]))
    assert results[0].error is None
    assert results[1].error.startswith("input of ")
    assert "exceeds the limit of 128" in results[1].error


def test_a_failing_input_does_not_take_its_batch_down(tiny_models, monkeypatch) -> None:
    e = engine(tiny_models["translator"])
    e.load()
    poison = e.tokenizer("Bonjour")["input_ids"]
    original = e._model.generate

    def fragile(**kwargs):
        if any(row[: len(poison)].tolist() == poison for row in kwargs["input_ids"]):
            raise RuntimeError("boom")
        return original(**kwargs)

    monkeypatch.setattr(e._model, "generate", fragile)
    results = e.run(requests(TEXTS))
    failed = [t for t, r in zip(TEXTS, results) if r.error]
    assert failed == ["Bonjour"] * 3
    assert all(r.error == "RuntimeError: boom" for r in results if r.error)
    assert all(r.text for r in results if not r.error)


def test_empty_input_list(tiny_models) -> None:
    e = engine(tiny_models["translator"])
    assert e.run([]) == []
    assert not e.loaded


def test_t5_summariser_loads_from_bare_sentencepiece(tiny_models) -> None:
    e = build_engine(
        ModelSpec(str(tiny_models["summarizer"])),
        RuntimeConfig(device="cpu"),
        role="summarization",
        generation={"max_new_tokens": 6, "min_new_tokens": 2},
        backend="transformers",
    )
    assert e.max_input_tokens == 128
    results = e.run(requests(["Le conseil municipal a voté le budget.", "Une enquête."], fr_fr()))
    assert [2 <= r.generated_tokens <= 6 for r in results] == [True, True]
    assert e.describe() == {
        "name": str(tiny_models["summarizer"]),
        "revision": None,
        "engine": "transformers",
        "device": "cpu",
        "dtype": "float32",
    }


def test_pickle_only_model_is_refused_with_advice(tiny_models, tmp_path) -> None:
    import torch
    from safetensors.torch import load_file

    folder = tmp_path / "pickle-only"
    shutil.copytree(tiny_models["translator"], folder)
    weights = load_file(folder / "model.safetensors")
    (folder / "model.safetensors").unlink()
    torch.save(weights, folder / "pytorch_model.bin")
    e = engine(folder)
    with pytest.raises(ModelLoadError) as caught:
        e.load()
    message = str(caught.value)
    assert message.startswith(f"translation.model: {folder}: no safetensors weights")
    assert "refs/pr/N" in message


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (OSError("We couldn't connect to 'https://huggingface.co' to load the files"), "hub cannot be reached"),
        (OSError("x is not a local folder and is not a valid model identifier"), "no such model on the hub"),
        (OSError("Revision Not Found for url"), "revision not found"),
        (ValueError("Unrecognized configuration class BertConfig"), "not a sequence-to-sequence"),
        (OSError("disk on fire"), "cannot load the model or its tokenizer (OSError: disk on fire)"),
    ],
)
def test_load_errors_are_explained(error, expected) -> None:
    spec = ModelSpec("org/model", "abc123", config_key="summarization.model")
    message = explain_load_error(spec, error)
    assert message.startswith("summarization.model: org/model@abc123: ")
    assert expected in message


def test_missing_hub_model_fails_fast_offline(monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    e = build_engine(
        ModelSpec("Helsinki-NLP/opus-mt-xx-yy", "main", config_key="translation.model"),
        RuntimeConfig(device="cpu"),
        backend="transformers",
    )
    with pytest.raises(ModelLoadError, match="translation.model: Helsinki-NLP/opus-mt-xx-yy@main: "):
        e.load()


def test_broken_local_folders_are_explained(tiny_models, tmp_path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelLoadError, match=r"no config.json in .*empty; not a transformers model folder"):
        engine(empty).load()
    partial = tmp_path / "partial"
    shutil.copytree(tiny_models["translator"], partial)
    (partial / "source.spm").unlink()
    with pytest.raises(ModelLoadError, match="check that the folder holds every file"):
        engine(partial).load()




def test_pickle_weights_load_only_when_the_config_allows_them(tiny_models, tmp_path) -> None:
    import torch
    from safetensors.torch import load_file

    folder = tmp_path / "pickle-only"
    shutil.copytree(tiny_models["translator"], folder)
    torch.save(load_file(folder / "model.safetensors"), folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    allowed = build_engine(
        ModelSpec(str(folder), allow_pickle=True),
        RuntimeConfig(device="cpu"),
        generation={"max_new_tokens": 4},
        backend="transformers",
    )
    assert len(allowed.generate(["Bonjour"], fr_en())) == 1
