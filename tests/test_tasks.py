"""The tasks above the engine, with a fake engine that records its calls."""

from __future__ import annotations

import re

from summarizer.models.seq2seq import Generation
from summarizer.progress import StageProgress
from summarizer.tasks import Document, TranslationSettings, summarise, translate
from summarizer.text.segment import SentenceSplitter

FR = SentenceSplitter("fr")
NO_PROGRESS = StageProgress("test", enabled=False)


class FakeEngine:
    """Counts one token per word (+1 end token); 'generates' with a function of the input."""

    def __init__(self, max_input_tokens: int, produce=lambda text: text, fail_on: str | None = None):
        self.max_input_tokens = max_input_tokens
        self.produce = produce
        self.fail_on = fail_on
        self.on_retry = lambda text: text
        self.calls: list[list[str]] = []
        self.overrides: list = []

        self.directions: list = []

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 1

    def counter(self, direction):
        return self.count_tokens

    def run(self, requests, on_progress=None, overrides=None):
        texts = [request.text for request in requests]
        self.calls.append(texts)
        self.directions.append([request.direction for request in requests])
        self.overrides.append(overrides)
        results = []
        for text in texts:
            assert self.count_tokens(text) <= self.max_input_tokens, "input over the limit"
            if self.fail_on and self.fail_on in text:
                results.append(Generation("", self.count_tokens(text), error="boom"))
            else:
                out = self.produce(text) if overrides is None else self.on_retry(text)
                results.append(Generation(out, self.count_tokens(text), len(out.split()), 0.5))
        if on_progress:
            on_progress(len(texts))
        return results


def docs(*documents: list[str]) -> list[Document]:
    """French documents made of these paragraphs."""
    return [Document(tuple(paragraphs), FR) for paragraphs in documents]


def sentences(n: int, tag: str = "mot") -> str:
    return " ".join(f"Phrase {tag} {i} avec cinq mots." for i in range(n))


def first_words(text: str) -> str:
    return " ".join(text.split()[:4])


def test_short_documents_are_summarised_in_one_call() -> None:
    engine = FakeEngine(100, produce=first_words)
    outputs = summarise(docs(["Titre", "Un deux trois."], ["Autre texte."]), engine, "chunk", NO_PROGRESS)
    assert engine.calls == [["Titre\nUn deux trois.", "Autre texte."]]
    assert [o.text for o in outputs] == ["Titre Un deux trois.", "Autre texte."]
    assert outputs[0].stats.segments == 1
    assert outputs[0].stats.input_tokens == 5
    assert outputs[0].stats.truncated_tokens == 0


def test_long_documents_are_chunked_then_the_summaries_summarised() -> None:
    engine = FakeEngine(30, produce=first_words)
    long_doc = ["Titre long", sentences(20, "a"), sentences(20, "b")]
    outputs = summarise(docs(long_doc, ["Court."]), engine, "chunk", NO_PROGRESS)
    first_round = engine.calls[0]
    assert len(first_round) > 2 and "Court." in first_round  # one queue for all documents
    assert len(engine.calls) >= 2
    assert all(len(call) >= 1 for call in engine.calls)
    assert outputs[0].text and outputs[0].stats.truncated_tokens == 0
    assert outputs[0].stats.segments == sum(
        1 for call in engine.calls for text in call if text != "Court."
    )
    words_in = " ".join(first_round[:-1]).split()
    assert words_in == " ".join(long_doc).split()  # every word of the article went in


def test_truncate_mode_records_dropped_tokens() -> None:
    engine = FakeEngine(30, produce=first_words)
    outputs = summarise(docs(["Titre", sentences(20)]), engine, "truncate", NO_PROGRESS)
    assert len(engine.calls) == 1 and len(engine.calls[0]) == 1
    assert engine.count_tokens(engine.calls[0][0]) <= 30
    total = engine.count_tokens("Titre\n" + sentences(20))
    assert outputs[0].stats.truncated_tokens == total - 30 == 92
    assert outputs[0].stats.segments == 1


def test_summary_generation_error_marks_only_its_document() -> None:
    engine = FakeEngine(100, produce=first_words, fail_on="poison")
    outputs = summarise(docs(["a poison b"], ["ok text"]), engine, "chunk", NO_PROGRESS)
    assert outputs[0].error == "generation failed: boom" and outputs[0].text == ""
    assert outputs[1].error is None and outputs[1].text == "ok text"


def test_translation_keeps_every_paragraph_in_order_with_one_engine_call() -> None:
    engine = FakeEngine(1000)
    documents = [
        ["Titre"],
        ["Premier paragraphe. Avec deux phrases.", sentences(12), "Dernier."],
        [],
    ]
    outputs = translate(docs(*documents), engine, TranslationSettings(max_input_tokens=20, pack_tokens=10), NO_PROGRESS)
    assert len(engine.calls) == 1
    assert all(engine.count_tokens(t) <= 20 for t in engine.calls[0])
    assert outputs[0].text == "Titre"
    assert outputs[1].text == "\n\n".join(documents[1])
    assert outputs[2].text == "" and outputs[2].stats.segments == 0
    assert outputs[1].stats.truncated_tokens == 0


def test_translation_budget_is_capped_by_the_model_limit() -> None:
    engine = FakeEngine(8)
    long_sentence = "un, deux, trois, quatre, cinq, six, sept, huit, neuf, dix, onze, douze."
    (output,) = translate(docs([long_sentence]), engine, TranslationSettings(256, 64), NO_PROGRESS)
    assert re.sub(r"\s", "", output.text) == re.sub(r"\s", "", long_sentence)
    assert all(engine.count_tokens(t) <= 8 for t in engine.calls[0])


def test_flagged_translation_segments_are_retried_once_with_stricter_settings() -> None:
    from summarizer.config import QualityConfig
    from summarizer.quality import QualityChecker

    loop = "the the the the the the the the the the"
    engine = FakeEngine(100, produce=lambda text: loop if "boucle" in text else "" if "vide" in text else text)
    engine.on_retry = lambda text: "A clean sentence now." if "boucle" in text else ""
    checker = QualityChecker(QualityConfig())
    retry = {"num_beams": 4, "no_repeat_ngram_size": 3}
    (output,) = translate(
        docs(["Une boucle ici.", "Un texte vide.", "Une phrase normale qui va bien."]),
        engine, TranslationSettings(50, 8, retry), NO_PROGRESS, checker,
    )
    assert engine.overrides == [None, retry]
    assert engine.calls[1] == ["Une boucle ici.", "Un texte vide."]
    assert output.text == "A clean sentence now.\n\nUne phrase normale qui va bien."
    assert output.stats.retried_segments == 2
    assert output.stats.segments == 3
    assert output.stats.flags == {"empty_output"}  # fixed the loop, not the empty one


def test_a_translated_segment_that_changes_a_figure_is_generated_again_with_the_faithfulness_settings() -> None:
    from summarizer.config import QualityConfig
    from summarizer.quality import QualityChecker

    wrong = {"Le chômage est de 7,4 % mardi.": "Unemployment is 4.7% on Monday."}
    right = {"Le chômage est de 7,4 % mardi.": "Unemployment is 7.4% on Tuesday."}
    engine = FakeEngine(100, produce=lambda text: wrong.get(text, "A sentence."))
    engine.on_retry = lambda text: right.get(text, "A retried sentence.")
    faithful = {"num_beams": 6}
    documents = [Document(("Le chômage est de 7,4 % mardi.", "Une phrase sans chiffre."), FR, "fr")]
    settings = TranslationSettings(50, 8, {"num_beams": 4}, faithful, "en")
    (output,) = translate(documents, engine, settings, NO_PROGRESS, QualityChecker(QualityConfig()))
    assert engine.overrides == [None, faithful]
    assert engine.calls[1] == ["Le chômage est de 7,4 % mardi."]  # only the segment at fault
    assert output.text == "Unemployment is 7.4% on Tuesday.\n\nA sentence."
    assert output.stats.retried_segments == 1
    (output,) = translate(documents, FakeEngine(100, produce=lambda t: wrong.get(t, "A sentence.")),
                          TranslationSettings(50, 8, None, None, "en"), NO_PROGRESS, QualityChecker(QualityConfig()))
    assert output.stats.retried_segments == 0  # no retry settings: kept as it is


def test_summaries_are_checked() -> None:
    from summarizer.config import QualityConfig
    from summarizer.quality import QualityChecker

    engine = FakeEngine(100, produce=lambda text: "bla " * 30)
    (output,) = summarise(docs(["Un texte."]), engine, "chunk", NO_PROGRESS, QualityChecker(QualityConfig()))
    assert output.stats.flags == {"repetition"}
