"""Benchmark rows for instruct (decoder-only) models: their inputs are prompts.

The naive row renders each prompt and generates one at a time, as a quick script
does; the CTranslate2 row converts the model for its ``Generator``; the agreement
of two models is measured teacher-forced on the reference's own reply.
"""

from __future__ import annotations

from typing import Any

from ..models.loading import locate_model
from .measure import timed


def prompted_ids(options: Any, segments: list[str]) -> list[list[int]]:
    """An instruct model's inputs: each segment in its prompt, as the engine frames it."""
    from ..models.factory import build_engine

    engine = build_engine(options.spec, options.runtime, role=options.role)
    return engine.token_ids(segments, engine.framing(options.direction))


def ct2_generator_row(row: Any, options: Any) -> Any:
    """An instruct model converted by CTranslate2's converter, driven by its Generator."""
    import tempfile

    import ctranslate2
    import torch
    from transformers import AutoTokenizer

    row.description = "CTranslate2 Generator int8, one generate_batch call (max_batch_size 64)"
    prompts = prompted_ids(options, options.segments)
    folder = str(locate_model(options.spec)[0])
    tokenizer = AutoTokenizer.from_pretrained(folder)
    with tempfile.TemporaryDirectory(prefix="summarizer-bench-ct2-") as staging:
        ctranslate2.converters.TransformersConverter(folder).convert(
            staging, quantization="int8", force=True
        )
        generator = ctranslate2.Generator(staging, device="cpu", compute_type="int8", intra_threads=torch.get_num_threads())
        batch = [tokenizer.convert_ids_to_tokens(ids) for ids in prompts]
        settings = {"max_length": options.new_tokens, "min_length": options.new_tokens, "sampling_topk": 1,
                    "include_prompt_in_result": False, "max_batch_size": 64}
        results = timed(row, lambda inputs: generator.generate_batch(inputs, **settings), batch)
    row.source_tokens = sum(len(ids) for ids in prompts)
    row.generated_tokens = sum(len(r.sequences_ids[0]) for r in results)
    return row


def prompted_agreement(reference: Any, other: Any, options: Any, samples: int) -> float:
    """Share of reply positions where ``other`` predicts ``reference``'s next token."""
    import torch

    device = next(reference.parameters()).device
    agreeing = total = 0
    with torch.inference_mode():
        for ids in prompted_ids(options, options.segments[:samples]):
            prompt = torch.tensor([ids], device=device)
            full = reference.generate(input_ids=prompt, attention_mask=torch.ones_like(prompt), do_sample=False,
                                      max_new_tokens=options.new_tokens, min_new_tokens=options.new_tokens)
            first = reference(input_ids=full[:, :-1]).logits[0, len(ids) - 1 :].argmax(-1)
            second = other(input_ids=full[:, :-1]).logits[0, len(ids) - 1 :].argmax(-1)
            agreeing += int((first == second).sum())
            total += len(first)
    return agreeing / total if total else 0.0
