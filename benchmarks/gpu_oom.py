"""The engine's out-of-memory halving, exercised for real on a GPU.

A random-weight model shaped like a BART-base summariser gets long inputs under a
batch budget that cannot fit in the memory this process is allowed
(``torch.cuda.set_per_process_memory_fraction``): the first batches fail with
CUDA out-of-memory, are split in halves until they fit, and every input still
gets its output. Prints how many batches failed and were split, how many ran,
the peak memory, and whether every segment came back.

    python benchmarks/gpu_oom.py [--memory-gb 3] [--segments 64] [--input-tokens 900]
"""

from __future__ import annotations

import argparse
import logging
import time


class _Counter(logging.Handler):
    """Counts the engine's "batch of N failed ...; retrying in halves" lines."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.splits: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "retrying in halves" in message:
            self.splits.append(message.split(" (")[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--memory-gb", type=float, default=3.0, help="memory this process may use")
    parser.add_argument("--segments", type=int, default=64)
    parser.add_argument("--input-tokens", type=int, default=900)
    parser.add_argument("--new-tokens", type=int, default=64)
    args = parser.parse_args()

    import torch

    from summarizer.bench.shapes import build_random_like
    from summarizer.config import RuntimeConfig
    from summarizer.models.base import Request
    from summarizer.models.factory import build_engine
    from summarizer.models.families import Direction
    from summarizer.models.loading import ModelSpec

    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device: this check needs a GPU")
    total = torch.cuda.get_device_properties(0).total_memory
    torch.cuda.set_per_process_memory_fraction(min(1.0, args.memory_gb * 2**30 / total))
    counter = _Counter()
    engine_log = logging.getLogger("summarizer.models.base")
    engine_log.addHandler(counter)
    engine_log.setLevel(logging.DEBUG)

    folder = build_random_like("bart-base")
    # A budget far past what fits: every segment in one batch, 4 beams.
    runtime = RuntimeConfig(device="cuda", dtype="auto", batch_tokens=1_000_000, max_batch_size=4096)
    generation = {"num_beams": 4, "min_new_tokens": args.new_tokens, "max_new_tokens": args.new_tokens}
    spec = ModelSpec(str(folder), max_input_tokens=1024)
    engine = build_engine(spec, runtime, role="summarization", generation=generation, backend="transformers")
    direction = Direction("fr", "fr")
    count = engine.counter(direction)
    words = "La métropole a présenté un plan de mobilité ambitieux pour la décennie. "
    text = words * max(1, args.input_tokens // count(words))
    segments = [f"{i} {text}" for i in range(args.segments)]
    engine.load()
    torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    results = engine.run([Request(segment, direction) for segment in segments])
    seconds = time.perf_counter() - started
    complete = sum(1 for r in results if r.text and not r.error)
    errors = [r.error for r in results if r.error]
    print(f"device                 {torch.cuda.get_device_name(0)}, {total / 2**30:.0f} GiB, "
          f"this process limited to {args.memory_gb:g} GiB")
    print(f"segments               {len(segments)} of about {count(segments[0])} tokens, "
          f"4 beams, {args.new_tokens} new tokens each, dtype {engine.describe()['dtype']}")
    print(f"batches that failed    {len(counter.splits)} (out of memory, split in halves): {counter.splits[:6]}")
    print(f"batches that ran       {engine.stats.batches}")
    print(f"segments with output   {complete} of {len(segments)}; errors: {errors[:3]}")
    print(f"peak GPU memory        {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")
    print(f"seconds                {seconds:.1f}")
    assert complete == len(segments), "the halving lost segments"


if __name__ == "__main__":
    main()
