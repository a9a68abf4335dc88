"""Language detection (measured on the benchmark samples) and the quality detectors
on crafted strings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from summarizer.config import QualityConfig
from summarizer.quality import QualityChecker
from summarizer.text.language import LanguageDetector

SAMPLES = Path(__file__).resolve().parents[1] / "benchmarks" / "langid_samples.jsonl"
DETECTOR = LanguageDetector()
CHECK = QualityChecker(QualityConfig(), DETECTOR)


def samples(kind: str) -> list[dict]:
    rows = [json.loads(line) for line in SAMPLES.read_text(encoding="utf-8").splitlines()]
    return [row for row in rows if row["kind"] == kind]


def test_paragraphs_are_detected_exactly() -> None:
    rows = samples("long")
    assert len({row["lang"] for row in rows}) == 7
    assert [DETECTOR.detect(row["text"]).language for row in rows] == [row["lang"] for row in rows]
    assert min(DETECTOR.detect(row["text"]).confidence for row in rows) > 0.9


def test_headlines_are_mostly_right() -> None:
    rows = samples("short")
    right = sum(DETECTOR.detect(row["text"]).language == row["lang"] for row in rows)
    assert right / len(rows) >= 0.85


def test_no_letters_no_language() -> None:
    assert DETECTOR.detect("  12 345 — 67 ") .language == "und"
    assert DETECTOR.detect("").confidence == 0.0


@pytest.mark.parametrize(
    "text",
    [
        "the the the the the the the the the the",
        "Le match. Le match. Le match. Le match. Le match. Le match. Le match.",
        "trisstriss coun coun coun coun coun coun coun coun coun coun coun coun",
        "hhhhhhhhhhhhhhhhhhhhhh",
        "un deux un deux un deux un deux un deux un deux un deux un deux un deux",
    ],
)
def test_repetition_loops_are_flagged(text: str) -> None:
    assert CHECK.text_flags(text) == {"repetition"}


@pytest.mark.parametrize(
    "text",
    [
        "The city council approved the budget on Monday evening.",
        "Unions have called another day of strikes for Thursday, and regional train services are "
        "expected to be heavily disrupted, according to the rail operator, which apologised.",
        "It was a very, very good year.",
        "Aaah!",
    ],
)
def test_normal_text_is_not_flagged(text: str) -> None:
    assert CHECK.text_flags(text) == set()


def test_empty_output() -> None:
    assert CHECK.text_flags("  \n") == {"empty_output"}
    assert CHECK.segment_flags("Une phrase.", "") == {"empty_output"}


def test_length_ratio() -> None:
    source = "Le conseil municipal a adopté lundi soir le budget de la ville."
    assert CHECK.segment_flags(source, "The city council passed the budget on Monday.") == set()
    assert CHECK.segment_flags(source, "Yes.") == {"length_ratio"}
    rambling = " ".join(f"word{i}" for i in range(60))
    assert CHECK.segment_flags(source, rambling) == {"length_ratio"}
    assert CHECK.segment_flags("Oui.", "Yes, indeed, absolutely so.") == set()  # too short to judge


def test_untranslated() -> None:
    french = "Le conseil municipal a adopté lundi soir un budget de 520 millions d'euros."
    assert CHECK.is_untranslated(french, "fr")
    assert not CHECK.is_untranslated("The city council approved a budget of 520 million euros.", "fr")
    assert not CHECK.is_untranslated("", "fr")


def test_thresholds_come_from_config() -> None:
    lenient = QualityChecker(QualityConfig(repetition_max_count=50, min_distinct_ratio=0.01, max_char_run=100))
    assert lenient.text_flags("the the the the the the the the the the") == set()
