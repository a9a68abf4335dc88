"""Segmentation: sentences, clause/word/character splits, packing; no text is ever lost."""

from __future__ import annotations

import random
import re

import pytest

from summarizer.text.segment import (
    SentenceSplitter,
    align_pieces,
    chunk_paragraphs,
    fit_units,
    pack_units,
    split_paragraphs,
    truncate_to_tokens,
)

FR = SentenceSplitter("fr")


def words_plus_eos(text: str) -> int:
    """A stand-in tokenizer: one token per word, plus an end-of-sequence token."""
    return len(text.split()) + 1


def chars_plus_eos(text: str) -> int:
    """A stand-in tokenizer: one token per 4 characters, plus an end-of-sequence token."""
    return -(-len(text) // 4) + 1


def squashed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_french_sentences() -> None:
    text = (
        "M. Macron a reçu Mme Dupont à 10 h 30. Selon l’Insee, le PIB a progressé de 0,3 %. "
        "« Nous n’avons pas le choix ! » a-t-il lancé. Et après ? Rien."
    )
    assert FR.split(text) == [
        "M. Macron a reçu Mme Dupont à 10 h 30.",
        "Selon l’Insee, le PIB a progressé de 0,3 %.",
        "« Nous n’avons pas le choix ! » a-t-il lancé.",
        "Et après ?",
        "Rien.",
    ]


def test_a_long_paragraph_is_split_in_windows_at_sentence_ends_and_loses_nothing() -> None:
    from summarizer.text.segment import WINDOW_CHARS, _windows

    sentences = [f"M. Dupont a voté le budget numéro {i} mardi." for i in range(2000)]
    paragraph = " ".join(sentences)
    windows = _windows(paragraph)
    assert "".join(windows) == paragraph and all(len(w) <= WINDOW_CHARS for w in windows)
    assert all(w.endswith("mardi. ") for w in windows[:-1])  # never after "M."
    assert FR.split(paragraph) == sentences
    for text in ("mot " * 3000, "x" * 5000):  # no sentence end, no space: still whole
        pieces = _windows(text)
        assert "".join(pieces) == text and all(len(w) <= WINDOW_CHARS for w in pieces)
        assert squashed("".join(FR.split(text))) == squashed(text)


def test_unknown_language_falls_back_to_english_rules() -> None:
    assert SentenceSplitter("xx").language == "en"


def test_align_pieces_never_loses_text() -> None:
    text = "Un. Deux trois. Quatre."
    assert align_pieces(text, ["Un.", "Quatre."]) == ["Un. Deux trois.", "Quatre."]
    assert align_pieces(text, ["Un.", "altered"]) == [text]
    assert align_pieces("  x  ", []) == ["x"]
    assert align_pieces("lead Un.", ["Un."]) == ["lead Un."]


def test_clause_split_before_words() -> None:
    sentence = "un deux trois, quatre cinq six; sept huit neuf: dix onze douze"
    pieces = fit_units(sentence, 5, words_plus_eos)
    assert pieces == ["un deux trois,", "quatre cinq six;", "sept huit neuf:", "dix onze douze"]


def test_word_split_when_no_clause_punctuation() -> None:
    sentence = " ".join(f"mot{i}" for i in range(23))
    pieces = fit_units(sentence, 6, words_plus_eos)
    assert all(words_plus_eos(p) <= 6 for p in pieces)
    assert " ".join(pieces) == sentence


def test_character_split_is_the_last_resort() -> None:
    url = "https://example.org/" + "a" * 300
    pieces = fit_units(url, 20, chars_plus_eos)
    assert len(pieces) > 1
    assert all(chars_plus_eos(p) <= 20 for p in pieces)
    assert "".join(pieces) == url


def test_packing_respects_pack_and_max_tokens() -> None:
    units = [(f"phrase {i} courte.", " ") for i in range(10)]
    chunks = pack_units(units, words_plus_eos, max_tokens=20, pack_tokens=7)
    assert chunks[0] == "phrase 0 courte. phrase 1 courte."
    assert all(words_plus_eos(c) <= 7 for c in chunks)
    assert " ".join(chunks) == " ".join(u for u, _ in units)


def test_chunks_keep_paragraph_breaks_and_all_text() -> None:
    paragraphs = ["Un deux. Trois quatre.", "Cinq six sept.", "Huit."]
    chunks = chunk_paragraphs(paragraphs, FR, words_plus_eos, max_tokens=100)
    assert chunks == ["Un deux. Trois quatre.\nCinq six sept.\nHuit."]
    small = chunk_paragraphs(paragraphs, FR, words_plus_eos, max_tokens=4)
    assert small == ["Un deux.", "Trois quatre.", "Cinq six sept.", "Huit."]


def test_budget_without_room_for_text_is_refused() -> None:
    with pytest.raises(ValueError, match="no room"):
        chunk_paragraphs(["x"], FR, words_plus_eos, max_tokens=1)


def test_truncate_keeps_the_lead_and_counts_dropped_tokens() -> None:
    text = " ".join(f"mot{i}" for i in range(50))
    kept, dropped = truncate_to_tokens(text, 11, words_plus_eos)
    assert kept == " ".join(f"mot{i}" for i in range(10))
    assert dropped == 40
    assert truncate_to_tokens("court", 11, words_plus_eos) == ("court", 0)


def test_split_paragraphs() -> None:
    assert split_paragraphs(" a \n\n b\n") == ["a", "b"]


VOCABULARY = (
    "le la les un une de des du conseil municipal a voté budget ville mardi soir syndicats "
    "grève jeudi Lyon mairie pistes cyclables ministre députés conférence pays Genève "
    "https://www.example.org/une/très/longue/adresse?avec=des&paramètres=1 "
    "anticonstitutionnellement M. Mme Dr. 12 % 3,5 « » l’ d’ qu’"
).split()
PUNCTUATION = ["", "", "", ",", ";", ":", " —", ".", "!", "?", "…"]


def random_paragraphs(rng: random.Random) -> list[str]:
    paragraphs = []
    for _ in range(rng.randint(1, 5)):
        words = []
        for _ in range(rng.randint(1, 120)):
            words.append(rng.choice(VOCABULARY) + rng.choice(PUNCTUATION))
        if rng.random() < 0.2:
            words.append("x" * rng.randint(50, 400))
        paragraphs.append(" ".join(words))
    return paragraphs


@pytest.mark.parametrize("seed", range(30))
def test_no_text_lost_and_budgets_respected_with_a_real_tokenizer(seed, tiny_tokenizer) -> None:
    rng = random.Random(seed)
    paragraphs = random_paragraphs(rng)

    def count(text: str) -> int:
        return len(tiny_tokenizer(text)["input_ids"])

    max_tokens = rng.choice([8, 16, 40, 128])
    pack = rng.choice([None, max_tokens // 2 + 1])
    chunks = chunk_paragraphs(paragraphs, FR, count, max_tokens, pack)
    assert all(count(chunk) <= max_tokens for chunk in chunks)
    assert all(chunk == chunk.strip() and chunk for chunk in chunks)
    assert squashed("".join(chunks)) == squashed("".join(paragraphs))
    per_paragraph = [c for p in paragraphs for c in chunk_paragraphs([p], FR, count, max_tokens)]
    assert squashed("".join(per_paragraph)) == squashed("".join(paragraphs))


@pytest.fixture(scope="module")
def tiny_tokenizer(tiny_models):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_models["translator"])
