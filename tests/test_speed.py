"""The speed work: int8 quantisation, the CTranslate2 backend, out-of-memory halving,
and the benchmark command (on tiny models: behaviour, never timings)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from conftest import edit_config, fr_en, requests
from summarizer.config import RuntimeConfig
from summarizer.models.base import BaseEngine
from summarizer.models.factory import build_engine
from summarizer.models.loading import ModelSpec

TEXTS = [
    "Le conseil municipal a voté le budget de la ville mardi soir.",
    "Une enquête a été ouverte par le parquet de Paris.",
    "Les prix de l’énergie ont augmenté de 12 % en un an.",
    "Bonjour",
] * 2
needs_ct2 = pytest.mark.skipif(importlib.util.find_spec("ctranslate2") is None, reason="ctranslate2 not installed")


def engine(path: Path, **runtime) -> BaseEngine:
    return build_engine(
        ModelSpec(str(path), config_key="translation.model"),
        RuntimeConfig(device="cpu", **runtime),
        generation={"num_beams": 1, "max_new_tokens": 8, "min_new_tokens": 8},
        backend="transformers",
    )


def test_int8_quantises_every_linear_layer_and_stays_close(tiny_models) -> None:
    import torch
    from transformers import AutoTokenizer

    full = engine(tiny_models["translator"])
    quantized = engine(tiny_models["translator"], quantize="int8")
    quantized.load()
    assert quantized.quantized and quantized.describe()["dtype"] == "float32+int8"
    linear = [m for m in quantized._model.modules() if type(m) is torch.nn.Linear]
    assert linear == []  # all replaced by dynamic quantised ones
    results = quantized.run(requests(TEXTS))
    assert [r.generated_tokens for r in results] == [8] * len(TEXTS)
    full.load()
    tokenizer = AutoTokenizer.from_pretrained(tiny_models["translator"])
    batch = tokenizer(TEXTS, return_tensors="pt", padding=True)
    with torch.inference_mode():
        decoded = full._model.generate(**batch, num_beams=1, max_new_tokens=8, min_new_tokens=8)
        a = full._model(**batch, decoder_input_ids=decoded[:, :-1]).logits
        b = quantized._model(**batch, decoder_input_ids=decoded[:, :-1]).logits
    agreement = float((a.argmax(-1) == b.argmax(-1)).float().mean())
    assert agreement >= 0.9, agreement


def test_out_of_memory_halves_the_batch_and_loses_nothing(tiny_models, monkeypatch) -> None:
    import torch

    e = engine(tiny_models["translator"], max_batch_size=8)
    e.load()
    sizes = []
    original = e._model.generate

    def small_memory(**kwargs):
        sizes.append(kwargs["input_ids"].shape[0])
        if kwargs["input_ids"].shape[0] > 2:
            raise torch.OutOfMemoryError("CUDA out of memory (fake)")
        return original(**kwargs)

    monkeypatch.setattr(e._model, "generate", small_memory)
    results = e.run(requests(TEXTS))
    assert sizes[:3] == [8, 4, 2]
    assert all(r.error is None and r.generated_tokens == 8 for r in results)
    assert [r.text for r in results] == engine(tiny_models["translator"]).generate(TEXTS, fr_en())


def test_batch_budget_defaults_to_the_device(tiny_models) -> None:
    e = engine(tiny_models["translator"])
    e.load()
    assert e.batch_tokens == 4096
    assert engine(tiny_models["translator"], batch_tokens=100).batch_tokens == 100


@needs_ct2
def test_the_ctranslate2_backend_converts_once_and_keeps_order(tiny_models, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SUMMARIZER_CT2_CACHE", str(tmp_path / "ct2"))
    spec = ModelSpec(str(tiny_models["translator"]), config_key="translation.model")
    runtime = RuntimeConfig(device="cpu", engine="ctranslate2", quantize="int8", max_batch_size=3)
    ct2 = build_engine(spec, runtime, generation={"num_beams": 1, "max_new_tokens": 8, "min_new_tokens": 8})
    results = ct2.run(requests(TEXTS))
    assert [r.generated_tokens for r in results] == [8] * len(TEXTS)
    texts = [r.text for r in results]
    assert texts[:4] == texts[4:]  # same input, same output, whatever the batch
    assert ct2.stats.batches == 3 and ct2.describe()["engine"] == "ctranslate2"
    (converted,) = (tmp_path / "ct2").iterdir()
    again = build_engine(spec, runtime, generation={"max_new_tokens": 4})
    again.load()
    assert list((tmp_path / "ct2").iterdir()) == [converted]  # cached, not converted again


@needs_ct2
def test_the_ctranslate2_engine_runs_the_whole_job(job_config, articles, tmp_path, monkeypatch) -> None:
    import json

    from summarizer.cli import main

    monkeypatch.setenv("SUMMARIZER_CT2_CACHE", str(tmp_path / "ct2"))
    edit_config(job_config, {"runtime": {"engine": "ctranslate2", "quantize": "int8"}})
    assert main(["run", "-c", str(job_config)]) == 0
    meta = json.loads((articles / "eau.meta.json").read_text())
    assert meta["models"]["translation"]["engine"] == "ctranslate2"
    assert meta["tasks"]["translation"]["truncated_tokens"] == 0
    assert (articles / "eau.translation.en.txt").read_text().strip()


@needs_ct2
def test_engine_auto_uses_ctranslate2_when_it_is_installed(job_config, articles, tmp_path, monkeypatch) -> None:
    import json

    from summarizer.cli import main

    monkeypatch.setenv("SUMMARIZER_CT2_CACHE", str(tmp_path / "ct2"))
    edit_config(job_config, {"runtime": {"engine": "auto", "quantize": "int8"}})
    assert main(["run", "-c", str(job_config)]) == 0
    meta = json.loads((articles / "eau.meta.json").read_text())
    assert {task["engine"] for task in meta["models"].values()} == {"ctranslate2"}


@needs_ct2
def test_engine_auto_runs_a_model_ctranslate2_cannot_convert_on_transformers(job_config, articles, monkeypatch, capsys) -> None:
    import json

    from summarizer.cli import main
    from summarizer.errors import ModelLoadError
    from summarizer.models import ct2

    def refuse(folder, name, revision, quantization, config_key):
        raise ModelLoadError(f"{config_key}: CTranslate2 conversion failed (AttributeError: no)")

    monkeypatch.setattr(ct2, "ensure_converted", refuse)
    edit_config(job_config, {"runtime": {"engine": "auto"}})
    assert main(["run", "-c", str(job_config)]) == 0
    assert "CTranslate2 conversion failed (AttributeError: no); this model runs on the transformers engine" in capsys.readouterr().err
    meta = json.loads((articles / "eau.meta.json").read_text())
    assert {task["engine"] for task in meta["models"].values()} == {"transformers"}


def test_engine_auto_falls_back_to_torch_int8_with_one_warning(job_config, articles, monkeypatch, capsys) -> None:
    import importlib.util
    import json

    from summarizer.cli import main

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ctranslate2" else real_find_spec(name, *a)
    )
    edit_config(job_config, {"runtime": {"engine": "auto", "quantize": "int8"}})
    assert main(["run", "-c", str(job_config)]) == 0
    err = capsys.readouterr().err
    assert err.count("runtime.engine: auto: CTranslate2 is not installed") == 1
    assert "on the transformers engine with torch's int8" in err
    meta = json.loads((articles / "eau.meta.json").read_text())
    assert {task["engine"] for task in meta["models"].values()} == {"transformers"}
    assert meta["models"]["translation"]["dtype"] == "float32+int8"


@needs_ct2
@pytest.mark.parametrize("architecture", ["bart", "mbart"])
def test_ctranslate2_converts_bart_and_mbart_configs_of_transformers_5_faithfully(tmp_path, monkeypatch, architecture) -> None:
    """transformers 5 configs lack normalize_before, which CTranslate2's converter reads;
    the conversion must still give the same greedy outputs as transformers."""
    from summarizer.bench.shapes import build_shape

    monkeypatch.setenv("SUMMARIZER_CT2_CACHE", str(tmp_path / "ct2"))
    values = {
        "vocab_size": 2100, "d_model": 32, "encoder_layers": 2, "decoder_layers": 2,
        "encoder_attention_heads": 2, "decoder_attention_heads": 2, "encoder_ffn_dim": 64,
        "decoder_ffn_dim": 64, "max_position_embeddings": 128,
    }
    folder = build_shape(tmp_path / architecture, architecture, values)
    assert "normalize_before" not in json.loads((folder / "config.json").read_text())
    runtime = RuntimeConfig(device="cpu", dtype="float32")
    generation = {"num_beams": 1, "min_new_tokens": 6, "max_new_tokens": 6}
    texts = ["Le conseil municipal a voté le budget mardi soir.", "Il a beaucoup plu en Bretagne."]
    spec = ModelSpec(str(folder))
    expected = build_engine(spec, runtime, generation=generation, backend="transformers").generate(texts, fr_en())
    converted = build_engine(spec, runtime, generation=generation, backend="ctranslate2").generate(texts, fr_en())
    # The same tokens; transformers forces the end token in the last place, CTranslate2 does not.
    assert all(text and ours.startswith(text) for ours, text in zip(converted, expected))


def test_ctranslate2_refuses_unsupported_models(tmp_path, tiny_models) -> None:
    pytest.importorskip("ctranslate2")
    import json

    from summarizer.errors import ConfigError
    from summarizer.models.ct2_conversion import ensure_converted

    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "prophetnet"}))
    with pytest.raises(ConfigError, match="ctranslate2 does not support translation.model .*prophetnet"):
        ensure_converted(folder, "odd", None, "int8", "translation.model")


def test_flops_count_matches_the_shape() -> None:
    from transformers import MarianConfig

    from summarizer.bench.shapes import RANDOM_LIKE, flops_per_segment

    config = MarianConfig(**RANDOM_LIKE["opus-mt-fr-en"][1])
    per_token = flops_per_segment(config, 0, 1)
    # decoder layers + the vocabulary projection dominate: about 2 x 52M multiply-adds
    assert 100e6 < per_token < 110e6
    assert flops_per_segment(config, 40, 40) > 40 * per_token


def test_bench_measures_every_row_with_exact_output_lengths(tiny_models, capsys) -> None:
    from summarizer.bench.runner import BenchOptions, run_bench
    from summarizer.bench.table import render

    spec = ModelSpec(str(tiny_models["translator"]))
    options = BenchOptions(
        spec=spec,
        segments=TEXTS * 2,
        new_tokens=6,
        naive_segments=4,
        rows=("naive", "engine", "int8"),
    )
    result = run_bench(options)
    assert [row.name for row in result.rows] == ["engine", "int8", "naive"]
    for row in result.rows:
        assert row.skipped is None
        assert row.generated_tokens == row.segments * 6
        assert row.seconds > 0 and row.peak_rss_mb > 0 and row.flops > 0
    assert result.row("naive").segments == 4
    assert result.row("int8").top1_agreement is not None
    table = render(result, "table")
    assert "x naive" in table and "int8" in table
    assert render(result, "markdown").count("|") > 20
    assert '"rows"' in render(result, "json")


def test_bench_command_runs_offline_on_a_config(job_config, capsys, monkeypatch) -> None:
    from summarizer.cli import main

    assert main(["bench", "-c", str(job_config), "--segments", "6", "--naive-segments", "2",
                 "--new-tokens", "4", "--rows", "naive,engine", "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert '"row": "engine"' in out and '"row": "naive"' in out
    assert main(["bench", "-c", str(job_config), "--rows", "engine,warp"]) == 2


def test_bench_refuses_more_threads_than_the_machine_has(capsys) -> None:
    from summarizer.cli import main

    assert main(["bench", "--threads", "100000000"]) == 2
    assert "--threads: must be at most" in capsys.readouterr().err


def test_bench_rows_for_an_instruct_model_read_the_same_prompts_and_generate_exactly(tmp_path) -> None:
    from summarizer.bench.runner import BenchOptions, run_bench
    from summarizer.models.tiny import build_tiny_chat_llm

    llm = build_tiny_chat_llm(tmp_path / "llm", max_positions=1024)
    rows = ("naive", "engine", "int8") + (("ctranslate2",) if importlib.util.find_spec("ctranslate2") else ())
    options = BenchOptions(spec=ModelSpec(str(llm)), segments=TEXTS * 2, new_tokens=5, naive_segments=4, rows=rows)
    result = run_bench(options)
    assert sorted(row.name for row in result.rows) == sorted(rows)
    per_segment = {}
    for row in result.rows:
        assert row.skipped is None, (row.name, row.skipped)
        assert row.generated_tokens == row.segments * 5, row.name  # no early stop at an end-of-turn
        assert row.seconds > 0 and row.flops > 0
        per_segment[row.name] = row.source_tokens / row.segments
    assert result.row("naive").segments == 4 and result.row("engine").segments == len(TEXTS) * 2
    # every row is fed the prompt, not the bare text: the engine's rows read what the naive one reads
    engine_prompts = result.row("engine").source_tokens
    assert result.row("int8").source_tokens == engine_prompts
    if "ctranslate2" in rows:
        assert result.row("ctranslate2").source_tokens == engine_prompts
    assert per_segment["engine"] > 2 * max(len(text.split()) for text in TEXTS)  # a prompt, system turn included
    assert result.row("int8").top1_agreement is not None
