"""What an instruct model's reply holds once its wrapping is taken off.

Chat models often answer "Voici un résumé de l'article :" or "Sure! Here is the
translation:" before the text, put the text in quotes, or head it "**Résumé :**".
``strip_reply`` removes exactly that wrapping, and only at the edges of the reply:
one leading line (or sentence) that announces the text, a leading label, and quotes
around the whole reply. Everything else is kept as the model wrote it; a reply that
is nothing but a preamble is kept whole (it is then flagged like any other bad
output, never silently emptied).
"""

from __future__ import annotations

import re

_ANNOUNCED = re.compile(
    r"\b(?:r[ée]sum[ée]|summary|summari[sz]ed?|traduction|tradui\w*|translation|translated|version)\b", re.I
)
_OPENERS = re.compile(
    r"^(?:sure|certainly|of course|okay|ok|absolutely|bien s[ûu]r|d'accord|voici|voil[àa]|here|below|ci-dessous)\b",
    re.I,
)
#: A label alone at the start, in bold or not: "Résumé :", "**Translation:**".
_LABEL = re.compile(
    r"^(?:\*\*|__)?\s*(?:r[ée]sum[ée]|summary|traduction|translation)(?:\s+(?:en|in)\s+\w+)?"
    r"\s*(?:\*\*|__)?\s*:\s*(?:\*\*|__)?\s*",
    re.I,
)
_PREAMBLE_CHARS = 160
_QUOTES = {'"': '"', "«": "»", "“": "”", "'": "'", "‘": "’", "„": "“"}


def strip_reply(reply: str) -> str:
    """``reply`` without its preamble, label and surrounding quotes; whitespace trimmed.

    Never returns an empty string for a non-empty reply, and never changes a reply
    that has none of these (``strip_reply(strip_reply(x)) == strip_reply(x)`` for
    replies with one layer of wrapping).
    """
    text = reply.strip()
    rest = _after_preamble(text)
    if rest:
        text = rest
    label = _LABEL.match(text)
    if label and text[label.end() :].strip():
        text = text[label.end() :].strip()
    return _unquote(text)


def _after_preamble(text: str) -> str:
    """What follows a leading announcement ("Voici le résumé :", "Sure! Here is the
    translation:"), or "" when ``text`` does not start with one. An announcement is
    one short line without figures that names what follows ("résumé", "translation")
    and either opens like one ("Voici", "Here is", "Sure") or ends at its colon."""
    colon = text.find(":", 0, _PREAMBLE_CHARS)
    if colon < 0:
        return ""
    head = text[:colon]
    if "\n" in head.strip() or re.search(r"\d", head):
        return ""  # a preamble is one line, with no figures ("Bilan : 12 morts")
    ends_line = text[colon + 1 :].lstrip(" \t*_").startswith("\n")
    if not (_ANNOUNCED.search(head) and (_OPENERS.match(head) or ends_line)):
        return ""
    return text[colon + 1 :].lstrip(" \t*_").strip()


def _unquote(text: str) -> str:
    """``text`` without one pair of quotes around all of it (none inside)."""
    if len(text) < 3:
        return text
    opening, closing = text[0], text[-1]
    inner = text[1:-1].strip()
    if _QUOTES.get(opening) == closing and inner and opening not in inner and closing not in inner:
        return inner
    return text
