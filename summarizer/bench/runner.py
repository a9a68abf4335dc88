"""Measuring the ways of running one model side by side, in one process, on the same inputs.

Rows: ``naive`` (one segment at a time, float32: what a quick script does;
measured half before and half after the others, so a machine that slows down
or speeds up during the run does not skew the ratios), ``engine`` (the
project's engine as configured), ``int8`` (the engine with CPU dynamic int8
Linear layers), ``torchao`` (the same with torchao's int8, when installed),
``engine-ct2`` (the engine's CTranslate2 backend, int8) and ``ctranslate2``
(the model converted with CTranslate2's converter, int8, driven the way its
documentation shows: one translate_batch call, its own batching). The last two
need the ``ctranslate2`` extra. Every row generates exactly ``new_tokens`` per
segment (greedy, min = max new tokens), so tokens per second compare.
"""

from __future__ import annotations

import gc
import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from ..config import RuntimeConfig
from ..models.base import Request
from ..models.factory import decoder_only
from ..models.families import Direction
from ..models.loading import ModelSpec, Role
from .measure import RssSampler, timed
from .shapes import flops_per_segment

logger = logging.getLogger(__name__)

ROWS = ("naive", "engine", "int8", "torchao", "engine-ct2", "ctranslate2")


@dataclass(frozen=True)
class BenchOptions:
    """What to measure."""

    spec: ModelSpec
    """The model (a random-like folder or a configured model)."""
    segments: list[str]
    """Inputs, as the job would send them."""
    direction: Direction = Direction("fr", "en")
    """What the engine rows' requests ask (the raw rows feed the bare text)."""
    role: Role = "translation"
    runtime: RuntimeConfig = field(default_factory=lambda: RuntimeConfig(device="cpu", dtype="float32"))
    """The engine rows' settings (batching, threads); device and quantisation are set per row."""
    new_tokens: int = 40
    """Tokens generated per segment, exactly, in every row."""
    naive_segments: int = 8
    """The naive row is slow: it runs on this many segments only."""
    rows: tuple[str, ...] = ROWS


class _Skip(Exception):
    """A row that does not apply here."""


@dataclass
class BenchRow:
    """One measured row."""

    name: str
    description: str
    segments: int = 0
    source_tokens: int = 0
    generated_tokens: int = 0
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    flops: float = 0.0
    top1_agreement: float | None = None
    skipped: str | None = None

    @property
    def generated_per_second(self) -> float:
        return self.generated_tokens / self.seconds if self.seconds else 0.0

    @property
    def source_per_second(self) -> float:
        return self.source_tokens / self.seconds if self.seconds else 0.0


@dataclass
class BenchResult:
    """All rows plus the machine's reference matmul rate."""

    model: str
    threads: int
    matmul_gflops: float
    rows: list[BenchRow]

    def row(self, name: str) -> BenchRow | None:
        return next((r for r in self.rows if r.name == name and not r.skipped), None)


def matmul_gflops(seconds: float = 1.0) -> float:
    """The machine's float32 matrix-multiply rate with torch's current threads."""
    import torch

    best = 0.0
    for size in (1024, 2048):
        a, b = torch.randn(size, size), torch.randn(size, size)
        torch.mm(a, b)
        runs, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds / 2:
            torch.mm(a, b)
            runs += 1
        best = max(best, 2 * size**3 * runs / (time.perf_counter() - started) / 1e9)
    return best


def run_bench(options: BenchOptions, progress: Callable[[str], None] = lambda _: None) -> BenchResult:
    """Measure every requested row; rows that cannot run here are kept with the reason."""
    import torch
    from transformers import AutoConfig

    if options.runtime.threads:
        torch.set_num_threads(options.runtime.threads)
    progress("measuring the float32 matmul rate")
    result = BenchResult(options.spec.label(), torch.get_num_threads(), matmul_gflops(), [])
    model_config = AutoConfig.from_pretrained(str(folder_of(options)))
    generation = {"num_beams": 1, "do_sample": False, "min_new_tokens": options.new_tokens,
                  "max_new_tokens": options.new_tokens}
    reference: Any = None
    naive_first: BenchRow | None = None
    names = list(options.rows)
    if "naive" in names:  # half first, half last
        names = ["naive-first", *[n for n in names if n != "naive"], "naive"]
    for name in names:
        progress(f"row {name}")
        row, model = _measure(name, options, generation)
        if name == "naive-first":
            naive_first = row
            continue
        if name == "naive" and naive_first is not None:
            row = _merged(naive_first, row)
        if not row.skipped:
            lengths = _source_lengths(options, row)
            if decoder_only(options.spec):  # every row counts what the model reads: the prompt
                row.source_tokens = sum(lengths)
            row.flops = sum(flops_per_segment(model_config, n, options.new_tokens) for n in lengths)
            if name == "engine":
                reference = model
            elif reference is not None and model is not None:
                row.top1_agreement = top1_agreement(reference, model, options)
        result.rows.append(row)
        if model is not reference:
            del model
        gc.collect()
    return result


def _merged(first: BenchRow, second: BenchRow) -> BenchRow:
    if first.skipped or second.skipped:
        return first if first.skipped else second
    return replace(
        second,
        segments=first.segments + second.segments,
        source_tokens=first.source_tokens + second.source_tokens,
        generated_tokens=first.generated_tokens + second.generated_tokens,
        seconds=first.seconds + second.seconds,
        peak_rss_mb=max(first.peak_rss_mb, second.peak_rss_mb),
    )


def folder_of(options: BenchOptions) -> Any:
    """The local folder of the model's files (a GGUF file's conversion)."""
    from ..models.loading import locate_model

    return locate_model(options.spec)[0]


def _source_lengths(options: BenchOptions, row: BenchRow) -> list[int]:
    from transformers import AutoTokenizer

    from .prompted import prompted_ids

    segments = options.segments[: row.segments]
    if decoder_only(options.spec):
        return [len(ids) for ids in prompted_ids(options, segments)]
    tokenizer = AutoTokenizer.from_pretrained(str(folder_of(options)))
    return [len(ids) for ids in tokenizer(segments)["input_ids"]]


def _measure(name: str, options: BenchOptions, generation: dict[str, Any]) -> tuple[BenchRow, Any]:
    descriptions = {
        "naive": "model.generate, one segment at a time, float32",
        "engine": "engine, length-sorted token-budget batches, float32",
        "int8": "engine + torch.ao dynamic int8 Linear layers",
        "torchao": "engine + torchao Int8DynamicActivationInt8Weight",
        "engine-ct2": "engine with its CTranslate2 backend, int8",
        "ctranslate2": "CTranslate2 int8, one translate_batch call (max_batch_size 64)",
    }
    row = BenchRow(name.replace("-first", ""), descriptions.get(name.replace("-first", ""), name))
    try:
        if name in ("naive", "naive-first"):
            half = max(1, options.naive_segments // 2)
            chosen = options.segments[:half] if name == "naive-first" else options.segments[half : options.naive_segments]
            return _naive(row, options, generation, chosen or options.segments[:1]), None
        if name == "ctranslate2":
            if options.runtime.device == "cuda":
                raise _Skip("a CPU-only row")
            if decoder_only(options.spec):
                from .prompted import ct2_generator_row

                return ct2_generator_row(row, options), None
            return _raw_ctranslate2(row, options), None
        if name == "engine-ct2" and decoder_only(options.spec):
            raise _Skip("instruct models run on the transformers engine only")
        engine = _engine_for(name, options, generation)
    except ImportError as exc:
        row.skipped = f"not installed ({exc.name})"
        return row, None
    except _Skip as exc:
        row.skipped = str(exc)
        return row, None
    except Exception as exc:  # noqa: BLE001 - a row that cannot run here is reported, not fatal
        row.skipped = f"{type(exc).__name__}: {' '.join(str(exc).split())[:120]}"
        return row, None
    requests = [Request(segment, options.direction) for segment in options.segments]
    engine.run(requests[:4])  # warm-up: lazy initialisations, caches
    with RssSampler() as rss:
        started = time.perf_counter()
        results = engine.run(requests)
        row.seconds = time.perf_counter() - started
    row.peak_rss_mb = rss.peak / 2**20
    row.segments = len(results)
    row.source_tokens = sum(r.input_tokens for r in results)
    row.generated_tokens = sum(r.generated_tokens for r in results)
    errors = [r.error for r in results if r.error]
    if errors:
        row.skipped = f"{len(errors)} segments failed: {errors[0]}"
    return row, getattr(engine, "model", None)


def _engine_for(name: str, options: BenchOptions, generation: dict[str, Any]) -> Any:
    from ..models.factory import build_engine

    on_gpu = options.runtime.device == "cuda"
    if on_gpu and name in ("int8", "torchao", "engine-ct2"):
        raise _Skip("a CPU-only row")
    runtime = replace(options.runtime, quantize="none", engine="transformers")
    if not on_gpu:
        runtime = replace(runtime, device="cpu", dtype="float32")
    if name == "int8":
        runtime = replace(runtime, quantize="int8")
    if name == "engine-ct2":
        import ctranslate2  # noqa: F401 - ImportError: row skipped

        runtime = replace(runtime, quantize="int8", engine="ctranslate2")
        return build_engine(options.spec, runtime, role=options.role, generation=generation, backend="ctranslate2")
    engine = build_engine(options.spec, runtime, role=options.role, generation=generation, backend="transformers")
    engine.load()
    if name == "torchao":
        from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_

        def torchao_int8(model: Any) -> Any:
            quantize_(model, Int8DynamicActivationInt8WeightConfig())  # in place
            return model

        engine.transform_model(torchao_int8, quantized=True)
    return engine


def _raw_ctranslate2(row: BenchRow, options: BenchOptions) -> BenchRow:
    import ctranslate2
    from transformers import AutoTokenizer

    from ..models.ct2_conversion import ensure_converted
    from ..models.loading import locate_model

    folder, _ = locate_model(options.spec)
    converted = ensure_converted(folder, options.spec.name, options.spec.revision, "int8", "bench")
    import torch

    translator = ctranslate2.Translator(
        str(converted), device="cpu", compute_type="int8", intra_threads=torch.get_num_threads()
    )
    tokenizer = AutoTokenizer.from_pretrained(options.spec.name)
    batch = [tokenizer.convert_ids_to_tokens(ids) for ids in tokenizer(options.segments)["input_ids"]]
    settings = {"beam_size": 1, "min_decoding_length": options.new_tokens,
                "max_decoding_length": options.new_tokens, "max_batch_size": 64}
    results = timed(row, lambda inputs: translator.translate_batch(inputs, **settings), batch)
    row.source_tokens = sum(len(tokens) for tokens in batch)
    row.generated_tokens = sum(len(r.hypotheses[0]) for r in results)
    return row


def _naive(
    row: BenchRow, options: BenchOptions, generation: dict[str, Any], segments: list[str]
) -> BenchRow:
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    folder = str(folder_of(options))
    tokenizer = AutoTokenizer.from_pretrained(folder)
    device = "cuda" if options.runtime.device == "cuda" else "cpu"
    from .prompted import prompted_ids

    causal = decoder_only(options.spec)
    loader = AutoModelForCausalLM if causal else AutoModelForSeq2SeqLM
    model = loader.from_pretrained(folder, dtype=torch.float32).to(device).eval()
    if causal:  # the prompt, one at a time: apply the chat template, generate, keep the reply
        inputs = [torch.tensor([ids], device=device) for ids in prompted_ids(options, segments)]
        stop = {"eos_token_id": None, "pad_token_id": tokenizer.pad_token_id}
    else:
        inputs = [tokenizer(segment, return_tensors="pt")["input_ids"].to(device) for segment in segments]
        stop = {}
    with torch.inference_mode():
        model.generate(input_ids=inputs[0], **generation, **stop)  # warm-up
        with RssSampler() as rss:
            started = time.perf_counter()
            for input_ids in inputs:
                output = model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), **generation, **stop)
                row.source_tokens += input_ids.shape[1]
                reply = output[0, input_ids.shape[1] :] if causal else output[0, 1:]
                row.generated_tokens += len(reply) if causal else int((reply != tokenizer.pad_token_id).sum())
            row.seconds = time.perf_counter() - started
    row.segments = len(segments)
    row.peak_rss_mb = rss.peak / 2**20
    return row


def top1_agreement(reference: Any, other: Any, options: BenchOptions, samples: int = 8) -> float:
    """Share of positions where ``other`` predicts the same next token as ``reference``
    (teacher-forced on the reference's own greedy outputs for a fixed input)."""
    import torch
    from transformers import AutoTokenizer

    device = next(reference.parameters()).device
    if decoder_only(options.spec):
        from .prompted import prompted_agreement

        return prompted_agreement(reference, other, options, samples)
    tokenizer = AutoTokenizer.from_pretrained(str(folder_of(options)))
    batch = tokenizer(options.segments[:samples], return_tensors="pt", padding=True).to(device)
    with torch.inference_mode():
        decoded = reference.generate(**batch, num_beams=1, do_sample=False, max_new_tokens=options.new_tokens)
        first = reference(**batch, decoder_input_ids=decoded[:, :-1]).logits.argmax(-1)
        second = other(**batch, decoder_input_ids=decoded[:, :-1]).logits.argmax(-1)
    return float((first == second).float().mean())
