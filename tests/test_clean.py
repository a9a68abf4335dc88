"""Cleaning: boilerplate lines dropped, whitespace normalised, quotes kept."""

from __future__ import annotations

from summarizer.config import DEFAULT_DROP_LINE_PATTERNS
from summarizer.text.clean import LineFilter, clean_article, normalise

FILTER = LineFilter(DEFAULT_DROP_LINE_PATTERNS)


def test_default_boilerplate_is_dropped() -> None:
    body = "\n".join(
        [
            "Premier paragraphe.",
            "À lire aussi : https://www.sports.fr/football/mercato/cristiano-ronaldo-926359.html",
            "A lire aussi: la réforme expliquée",
            "Lire aussi Le budget 2027 en cinq questions",
            "LIRE ÉGALEMENT : nos autres articles",
            "https://www.example.org/a?b=c",
            "www.example.org",
            "Publicité",
            "  publicité  ",
            "La publicité en ligne a rapporté 10 milliards.",
            "Dernier paragraphe, à lire aussi demain.",
        ]
    )
    clean = clean_article("Titre", body, FILTER)
    assert clean.paragraphs == (
        "Premier paragraphe.",
        "La publicité en ligne a rapporté 10 milliards.",
        "Dernier paragraphe, à lire aussi demain.",
    )
    assert len(clean.dropped_lines) == 8


def test_patterns_come_from_config() -> None:
    clean = clean_article("T", "Abonnez-vous !\nTexte.", LineFilter([r"Abonnez-vous.*"]))
    assert clean.paragraphs == ("Texte.",)
    assert clean.dropped_lines == ("Abonnez-vous !",)


def test_whitespace_and_line_ends_normalised() -> None:
    text = "Un\u00a0texte\u202f:  avec\t espaces\r\nligne\u200b deux\rtrois\u2028quatre  \n\n\n"
    assert normalise(text) == "Un texte : avec espaces\nligne deux\ntrois\nquatre\n\n\n"


def test_quotes_and_accents_kept() -> None:
    clean = clean_article(
        "  « Le titre »  ", "Il a dit « oui » et “non” puis l’a répété.\n", FILTER
    )
    assert clean.title == "« Le titre »"
    assert clean.paragraphs == ("Il a dit « oui » et “non” puis l’a répété.",)


def test_nfc_and_control_characters() -> None:
    decomposed = "e\u0301te\u0301"
    assert normalise(decomposed + "\x07\x1f") == "été"


def test_single_newlines_and_blank_lines_both_separate_paragraphs() -> None:
    clean = clean_article("T", "Un.\nDeux.\n\n\nTrois.", FILTER)
    assert clean.paragraphs == ("Un.", "Deux.", "Trois.")
    assert clean.body == "Un.\nDeux.\nTrois."


def test_the_title_is_the_first_line_left_after_cleaning() -> None:
    clean = clean_article(None, "Publicité\n\nLe vrai titre\nLe corps.\n", FILTER)
    assert (clean.title, clean.paragraphs, clean.dropped_lines) == (
        "Le vrai titre", ("Le corps.",), ("Publicité",)
    )


def test_markdown_title_loses_heading_marks() -> None:
    clean = clean_article(None, "## Titre\ncorps", FILTER, markdown=True)
    assert (clean.title, clean.paragraphs) == ("Titre", ("corps",))
    assert clean_article(None, "## Titre\ncorps", FILTER).title == "## Titre"


def test_a_one_line_article_is_all_body_but_a_lone_title_is_not() -> None:
    line = " ".join(["mot"] * 25) + "."
    clean = clean_article(None, line, FILTER)
    assert (clean.title, clean.paragraphs) == ("", (line,))
    clean = clean_article(None, "Grève jeudi\nPublicité\n", FILTER)
    assert (clean.title, clean.paragraphs) == ("Grève jeudi", ())
