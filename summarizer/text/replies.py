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
    r"\b(?:r[ée]sum[ée]|summary|summari[sz]ed?|traduction|tradui\w*|translation|translated|texte|text)\b", re.I
)
_OPENERS = re.compile(
    r"^(?:sure|certainly|of course|okay|ok|absolutely|bien s[ûu]r|d'accord|voici|voil[àa]|here|below|ci-dessous)\b",
    re.I,
)
#: "This French text translates to English as:", "The sentence can be translated as follows:",
#: and, as a line of its own ending at its colon, "The translation of the text is:".
_TRANSLATES = re.compile(
    r"^(?:this|the)\s+(?:[\w-]+\s+){0,3}?(?:text|sentence|passage|article|paragraph)\s+"
    r"(?:translates|can be translated|is translated|would be translated)\s+(?:to|into|as)\b"
    r"(?:\s+(?:english|french|german|italian|spanish))?(?:\s+as)?(?:\s+follows\s*:|(?!\s+follows\b)\s*:?)\s*"
    r"|^(?:the|my|an?)\s+(?:english\s+|french\s+)?(?:translation|summary)"
    r"(?:\s+(?:of|in|into)\s+(?:the\s+|this\s+)?(?:english|french|text|article|passage|sentence|paragraph))*"
    r"\s+(?:is|reads|would be)(?:\s+as\s+follows)?\s*:[ \t]*\n\s*",
    re.I,
)
#: A label alone at the start, in bold or not: "Résumé :", "**Translation:**".
_LABEL = re.compile(
    r"^(?:\*\*|__)?\s*(?:r[ée]sum[ée]|summary|traduction|translation)(?:\s+(?:en|in)\s+\w+)?"
    r"\s*(?:\*\*|__)?\s*:\s*(?:\*\*|__)?\s*",
    re.I,
)
_PREAMBLE_CHARS = 160
#: An announcement without an opener ("Résumé de l'article :") is this short.
_BARE_WORDS = 4
_OPEN_QUOTES, _CLOSE_QUOTES = "«“\"", "»”\""
_QUOTES = {'"': '"', "«": "»", "“": "”", "'": "'", "‘": "’", "„": "“"}


def strip_reply(reply: str) -> str:
    """``reply`` without its preamble, label and surrounding quotes; whitespace trimmed.

    Never returns an empty string for a non-empty reply, and never changes a reply
    that has none of these.
    """
    text = reply.strip()
    for remove in (_after_preamble, _after_label):
        rest = remove(text)
        if rest:
            text = rest
    return _unquote(text)


def _after_label(text: str) -> str:
    label = _LABEL.match(text)
    return text[label.end() :].strip() if label else ""


def _after_preamble(text: str) -> str:
    """What follows a leading announcement ("Voici le résumé :", "Sure! Here is the
    translation:", "This French text translates to English as:"), or "" when ``text``
    does not start with one. An announcement is one short line that names what follows
    ("résumé", "translation") and opens like one ("Voici", "Here is", "Sure"); without
    such an opener it must be a few words ending the line at its colon. It ends at its
    first colon outside quotes, or (after an opener) at a full stop ending the line."""
    translates = _TRANSLATES.match(text)
    if translates and text[translates.end() :].strip():
        return text[translates.end() :].strip()
    end = _announcement_end(text[: _PREAMBLE_CHARS + 1])
    if end is None:
        return ""
    head, rest = text[:end].strip(" \t*_"), text[end + 1 :]
    if "\n" in head or not _ANNOUNCED.search(head):
        return ""
    opener = _OPENERS.match(head) is not None
    ends_line = rest.lstrip(" \t*_").startswith("\n")
    if text[end] == "." and not (opener and ends_line):
        return ""
    if not opener and (not ends_line or len(head.split()) > _BARE_WORDS or re.search(r"\d", head)):
        return ""
    return rest.lstrip(" \t*_").strip()


def _announcement_end(text: str) -> int | None:
    """Where a possible announcement ends: its first colon outside quotes, or the full stop
    ending its first line."""
    depth = 0
    for index, char in enumerate(text):
        if char == "\n":
            return index - 1 if index and text[index - 1] == "." else None
        if char in _OPEN_QUOTES and (char != '"' or depth == 0):
            depth += 1
        elif char in _CLOSE_QUOTES and depth:
            depth -= 1
        elif char == ":" and depth == 0:
            return index
    return None


def _unquote(text: str) -> str:
    """``text`` without one pair of quotes around all of it (none inside)."""
    if len(text) < 3:
        return text
    opening, closing = text[0], text[-1]
    inner = text[1:-1].strip()
    if _QUOTES.get(opening) == closing and inner and opening not in inner and closing not in inner:
        return inner
    return text
