"""strip_reply: an instruct model's wrapping taken off its reply, nothing else, and what was
taken said."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from summarizer.text.replies import FEW_WORDS, strip_reply, substantial

SOURCE = "Le maire a voté le budget mardi."


def as_pair(reply) -> tuple[str, tuple[str, ...]]:
    return reply.text, reply.removed


@pytest.mark.parametrize(
    ("reply", "text"),
    [
        ("Voici un résumé de l'article :\n\nLe maire a voté le budget.", "Le maire a voté le budget."),
        ('Sure! Here is the translation:\n"The mayor voted."', "The mayor voted."),
        ("Here's a summary of the article in French:\n\n**Le maire** a voté.", "**Le maire** a voté."),
        ("**Résumé :** Le maire a voté.", "Le maire a voté."),
        ("Résumé : le maire a voté.", "le maire a voté."),
        ("Translation:\nThe mayor voted.", "The mayor voted."),
        ("Résumé de l'article :\nLe maire a voté.", "Le maire a voté."),
        ("« Le maire a voté. »", "Le maire a voté."),
        ("“The mayor voted.”", "The mayor voted."),
        ("Voici un résumé en 3 phrases :\nLe maire a voté.", "Le maire a voté."),
        ("Voici la traduction en anglais.\n\nThe mayor voted.", "The mayor voted."),
        ("Here is the English text:\nThe mayor voted.", "The mayor voted."),
        ("This French text translates as follows:\n\nThe mayor voted.", "The mayor voted."),  # SmolLM2's
        ("The translation of the text is:\nThe mayor voted.", "The mayor voted."),
        ("The English summary reads:\n\nThe mayor voted.", "The mayor voted."),
        ("The translation of the article into English is:\nThe mayor voted.", "The mayor voted."),
        ("Voici le résumé de l'article « Grève : les bus à l'arrêt » :\nLes bus sont à l'arrêt.", "Les bus sont à l'arrêt."),
        ("This French text translates to English as:\nThe mayor voted.", "The mayor voted."),
        ("The text can be translated as follows:\nThe mayor voted.", "The mayor voted."),
    ],
)
def test_preambles_labels_and_quotes_are_removed(reply, text) -> None:
    stripped = strip_reply(reply, SOURCE)
    assert stripped.text == text
    assert stripped.removed and all(piece.strip() and piece not in text for piece in stripped.removed)


@pytest.mark.parametrize(
    "reply",
    [
        "Le bilan : 12 morts et 40 blessés.",  # a colon in the text, with figures
        "Voici ce que prévoit la réforme : des hausses d'impôts.",  # "voici" opening the text itself
        "Le résumé du rapport : trois points.",  # a sentence about a summary, not a preamble
        "« Nous n'avons pas le choix », a déclaré la ministre.",  # quotes inside, not around
        "Here is the translation:",  # nothing but a preamble: kept, and flagged downstream
        "Le maire a voté.",
        "Voici ce que contient la nouvelle version du projet de loi : la durée du travail baisse.",
        "Le gouvernement a présenté sa version de la réforme :\nles retraites à 64 ans.",
        "Le texte adopté prévoit trois mesures :\nune hausse des salaires.",
        "Grève : les bus à l'arrêt jeudi.",
        "The translation is poor: it drops names.",  # a sentence about a translation
        "The summary of the talks is simple: no deal.",
        "The official translation of the law is: binding.",  # text, not an announcement
        "The summary of the report is: unemployment rose to 8%.",
        "The new translation is: out next week.",
        "The text translates as follows the news.",
        # never a clause of a sentence: an announcement on the line of its text stays (issue 28)
        "Bien sûr, le texte de loi sera amendé : le Sénat l'a promis.",
        'Here is the full text of the statement: "The site will close on 3 March."',
        "Voici la traduction : The mayor voted.",
        'This French sentence translates to "The mayor voted."',
        "This French text translates to English as: The mayor voted.",
        "The text can be translated as follows: The mayor voted.",
        # a sentence of its own about a text is content, however it opens
        "Voici le texte adopté mardi par le Sénat.\nIl prévoit des amendements.",
        "Bien sûr, le texte de loi sera amendé.\nLe Sénat l'a promis.",
        "Voici le texte adopté mardi par le Sénat :\nIl prévoit des amendements.",
        "Here is the full text of the statement:\nThe site will close on 3 March.",
        "Voici ce que contient la nouvelle version :\nla durée du travail baisse.",
    ],
)
def test_text_that_is_not_wrapping_is_kept_as_written(reply) -> None:
    assert as_pair(strip_reply(reply, SOURCE)) == (reply, ())


@pytest.mark.parametrize(
    ("reply", "source"),
    [
        ("Translation: Marie Dupont", "Traduction : Marie Dupont"),  # the article's own credit line
        ("Here is the full text of the statement:\nThe site will close on 3 March.",
         "Voici le texte intégral du communiqué :\nLe site fermera le 3 mars."),
        ("Summary: the talks failed.", "Résumé : les négociations ont échoué."),
        ("“We will not give up.”", "« Nous ne lâcherons rien. »"),  # a quoted paragraph keeps its quotes
    ],
)
def test_what_the_source_has_itself_is_never_removed(reply, source) -> None:
    assert as_pair(strip_reply(reply, source)) == (reply, ())


def test_what_was_removed_is_said_and_a_long_removal_is_substantial() -> None:
    short = strip_reply("Voici un résumé de l'article :\nLe maire a voté.", SOURCE)
    assert short.removed == ("Voici un résumé de l'article :",) and not substantial(short.removed)
    long = strip_reply("Certainly! Here is a short English summary of the article in two sentences:\nThe mayor voted.", SOURCE)
    assert long.text == "The mayor voted." and len(long.removed[0].split()) > FEW_WORDS and substantial(long.removed)
    quoted = strip_reply("« Le maire a voté. »", SOURCE)
    assert quoted.removed == ("«»",) and not substantial(quoted.removed)


@given(st.text(max_size=300))
def test_it_only_ever_removes_from_the_edges_and_never_empties_a_reply(reply) -> None:
    stripped = strip_reply(reply, SOURCE)
    assert stripped.text in reply
    assert bool(stripped.text) == bool(reply.strip())
    assert len(stripped.text) + sum(map(len, stripped.removed)) <= len(reply.strip())  # nothing else is lost


@given(st.text(alphabet=st.characters(blacklist_characters=":«»\"“”'‘’„*_"), min_size=1, max_size=200))
def test_a_reply_without_colons_or_quotes_is_only_trimmed(reply) -> None:
    assert as_pair(strip_reply(reply, SOURCE)) == (reply.strip(), ())


_NEWS = st.sampled_from(
    [
        "Le bilan : 12 morts.",
        "La traduction du discours sera publiée : le ministre l'a promis.",
        "Le résumé de la situation tient en un mot : incertitude.",
        "Trois mesures sont prévues :\nune hausse des salaires, une prime, un gel des loyers.",
        "Le texte de loi : 40 articles.",
        "Selon le maire : « Nous n'avons pas le choix. »",
    ]
)


@given(_NEWS, st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80))
def test_news_text_with_colons_and_a_tail_is_kept_whole(sentence, tail) -> None:
    reply = f"{sentence} {tail}".strip()
    assert strip_reply(reply, SOURCE).text == reply
