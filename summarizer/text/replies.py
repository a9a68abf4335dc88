"""What an instruct model's reply holds once its wrapping is taken off, and what was taken.

Chat models often answer "Voici un résumé de l'article :" on a line of its own
before the text, head it "**Résumé :**", or put it in quotes. ``strip_reply`` removes
only what is certainly not content, and says what it removed:

- a first line of its own that announces the text and says nothing else ("Voici un
  résumé de l'article :", "Sure! Here is the translation:", "This French text translates
  as follows:"), followed by the text;
- a bare label at the start ("Résumé :", "**Translation:**"): the task's name, at most
  "in English", and nothing else, before the text;
- one pair of quotes around the whole reply.

Never a clause of a sentence ("Voici la traduction : The mayor voted." is kept as
it is), and never what the source has itself: when the source announces or labels
something of its own ("Voici le texte intégral du communiqué :", "Traduction : Marie
Dupont"), no announcement or label is removed; when it is quoted whole, its quotes
stay. A reply that is nothing but its wrapping is kept whole (and flagged downstream,
never silently emptied). A removal of more than ``FEW_WORDS`` words is substantial:
the caller flags it (``flags.REPLY_TRIMMED``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

#: A removal of more than this many words is a flag, not a silent edit.
FEW_WORDS = 8

#: An announcement of the text, and nothing else: an opener ("Sure!", "Bien sûr,"), a presenter
#: ("Voici", "Here is"), the text's name ("un résumé", "the English translation") with what it is
#: of or in ("de l'article", "in French", "en 3 phrases"), ending at a colon or a full stop.
_DET = r"(?:the|a|an|my|your|this|le|la|les|l'|un|une|mon|ma|votre|ce|cette)"
_LANGUAGE = r"(?:english|french|german|spanish|italian|anglais|fran[çc]ais|allemand|espagnol|italien)"
_ADJECTIVE = rf"(?:{_LANGUAGE}|short|brief|concise|faithful|bref|br[èe]ve|court|courte|concis|concise|fid[èe]le)"
_NAME = r"(?:r[ée]sum[ée]|summary|traduction|translation|version|text|texte)"
_OF_WHAT = (
    rf"(?:de|du|des|d'|of|in|en|into|for|pour)\s*(?:{_LANGUAGE}|(?:{_DET}\s*)?(?:article|texte|text|passage|"
    r"paragraphe|paragraph|phrase|sentence|d[ée]p[êe]che)(?:\s+(?:«[^»\n]*»|\"[^\"\n]*\"))?)"
)
_LENGTH = r"(?:en|in)\s+(?:\d+|deux|trois|quatre|cinq|two|three|four|five)\s+(?:phrases|sentences|lignes|lines|points)"
_OPENER = r"(?:sure|certainly|of course|okay|ok|absolutely|bien s[ûu]r|d'accord|avec plaisir)\s*[,!.]?"
_PRESENTER = r"(?:voici|voil[àa]|here\s+is|here's|here\s+are|below\s+is|ci-dessous)"
_ANNOUNCEMENT = re.compile(
    rf"(?:{_OPENER}\s*)?(?P<presenter>{_PRESENTER}\s*,?\s*)?(?:{_DET}\s*)?(?:{_ADJECTIVE}\s+)*{_NAME}"
    rf"(?:\s+{_ADJECTIVE})*(?:\s*{_OF_WHAT})*(?:\s+{_LENGTH})?\s*(?P<end>[:.])",
    re.I,
)
#: "This French text translates to English as:", "The sentence can be translated as follows:",
#: "The translation of the text is:", "The English summary reads:" (a line of their own).
_TRANSLATES = re.compile(
    r"(?:this|the)\s+(?:[\w-]+\s+){0,3}?(?:text|sentence|passage|article|paragraph)\s+"
    r"(?:translates|can be translated|is translated|would be translated)\s+(?:(?:to|into)\b|as\b|follows\b)"
    r"(?:\s+(?:english|french|german|italian|spanish))?(?:\s+as)?(?:\s+follows)?\s*:"
    r"|(?:the|my|an?)\s+(?:english\s+|french\s+)?(?:translation|summary)"
    r"(?:\s+(?:of|in|into)\s+(?:the\s+|this\s+)?(?:english|french|text|article|passage|sentence|paragraph))*"
    r"\s+(?:is|reads|would be)(?:\s+as\s+follows)?\s*:",
    re.I,
)
#: A label alone, in bold or not: "Résumé :", "**Translation:**", "Traduction en anglais :".
_LABEL = re.compile(
    r"(?:\*\*|__)?\s*(?:r[ée]sum[ée]|summary|traduction|translation)(?:\s+(?:en|in)\s+\w+)?"
    r"\s*(?:\*\*|__)?\s*:\s*(?:\*\*|__)?",
    re.I,
)
_ANNOUNCEMENT_CHARS = 160
_EDGES = " \t*_#"
_QUOTES = {'"': '"', "«": "»", "“": "”", "'": "'", "‘": "’", "„": "“"}


@dataclass(frozen=True)
class Reply:
    """A reply as it is written: its text, and what was removed around it."""

    text: str
    removed: tuple[str, ...] = ()



def substantial(removed: Iterable[str]) -> bool:
    """Whether a removal took more than a few words (``FEW_WORDS``): a flag."""
    return any(len(piece.split()) > FEW_WORDS for piece in removed)


def strip_reply(reply: str, source: str) -> Reply:
    """``reply`` (to a request for ``source``) without the announcement, label and quotes
    around its text; whitespace trimmed. Never empties a non-empty reply, never changes
    one that has none of these, and removes nothing ``source`` has of its own."""
    text, removed = reply.strip(), []
    if not _announces(source):
        line, _, rest = text.partition("\n")
        if rest.strip() and _is_announcement(line):
            removed.append(line.strip())
            text = rest.strip()
        label = _LABEL.match(text)
        if label and text[label.end() :].strip():
            removed.append(text[: label.end()].strip())
            text = text[label.end() :].strip()
    inner = _unquoted(text)
    if inner is not None and _unquoted(source.strip()) is None:
        removed.append(text[0] + text[-1])
        text = inner
    return Reply(text, tuple(removed))


def _is_announcement(line: str) -> bool:
    """Whether ``line`` (a line of its own) announces the text that follows and says nothing
    else: a label; a line about the translation ("This French text translates as
    follows:"); or the text's name, with what it is of or in, after a presenter ("Voici",
    "Here is") or ending at a colon ("Voici un résumé de l'article :", "Sure! Here is the
    translation:", "Voici la traduction en anglais.", "Résumé de l'article :")."""
    head = line.strip(_EDGES)
    if not head or len(head) > _ANNOUNCEMENT_CHARS:
        return False
    if _LABEL.fullmatch(head) or _TRANSLATES.fullmatch(head):
        return True
    announced = _ANNOUNCEMENT.fullmatch(head)
    return bool(announced and (announced["presenter"] or announced["end"] == ":"))


def _announces(source: str) -> bool:
    """Whether the source announces or labels something of its own (a line that is, or
    opens with, an announcement or a label): its translation or summary may then do so too."""
    for line in source.splitlines():
        head = line.strip(_EDGES)
        if _LABEL.match(head) or _is_announcement(head) or _is_announcement(_first_clause(head)):
            return True
    return False


def _first_clause(line: str) -> str:
    """``line`` up to its first colon outside quotes (colon included), else ""."""
    depth = 0
    for index, char in enumerate(line):
        if char in "«“" or (char == '"' and depth == 0):
            depth += 1
        elif char in "»”" or (char == '"' and depth):
            depth -= 1
        elif char == ":" and depth == 0:
            return line[: index + 1]
    return ""


def _unquoted(text: str) -> str | None:
    """``text`` without one pair of quotes around all of it (none inside), else None."""
    if len(text) < 3:
        return None
    opening, closing = text[0], text[-1]
    inner = text[1:-1].strip()
    if _QUOTES.get(opening) == closing and inner and opening not in inner and closing not in inner:
        return inner
    return None
