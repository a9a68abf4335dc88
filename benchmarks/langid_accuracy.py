"""Compare language detectors on short (headline) and long (paragraph) news text.

    python benchmarks/langid_accuracy.py

Reads benchmarks/langid_samples.jsonl (headlines and two-sentence paragraphs in
seven languages, written for this project) and prints, per detector, accuracy
on short and long texts and the time per text. lingua is optional
(`pip install lingua-language-detector`); py3langid is what summarizer uses.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

SAMPLES = Path(__file__).with_name("langid_samples.jsonl")


def py3langid_detector():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return lambda text: identifier.classify(text)[0]


def lingua_detector():
    from lingua import LanguageDetectorBuilder

    detector = LanguageDetectorBuilder.from_all_languages().build()

    def detect(text: str) -> str:
        language = detector.detect_language_of(text)
        return language.iso_code_639_1.name.lower() if language else "??"

    return detect


def main() -> None:
    samples = [json.loads(line) for line in SAMPLES.read_text(encoding="utf-8").splitlines()]
    for name, factory in (("py3langid", py3langid_detector), ("lingua", lingua_detector)):
        try:
            started = time.perf_counter()
            detect = factory()
            detect("Le conseil municipal a voté le budget.")  # lazy-loaded models: warm up
            load = time.perf_counter() - started
        except ImportError:
            print(f"{name}: not installed")
            continue
        row = [f"{name:10}", f"load {load:5.2f}s"]
        for kind in ("short", "long"):
            subset = [s for s in samples if s["kind"] == kind]
            started = time.perf_counter()
            right = sum(detect(s["text"]) == s["lang"] for s in subset)
            per_text = (time.perf_counter() - started) / len(subset) * 1000
            row.append(f"{kind}: {right}/{len(subset)} ({right / len(subset):.0%}), {per_text:.2f} ms/text")
        print("  ".join(row))


if __name__ == "__main__":
    main()
