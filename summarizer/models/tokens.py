"""An article's text as token ids that are text: never a control token.

A tokenizer parses the strings of its special and added tokens wherever they
appear, so an article that contains ``<|im_end|>``, ``</s>``, ``eng_Latn`` or
``>>deu<<`` would hand the model a control token: close the user's turn, end
the input, switch the language. ``TextTokens`` tokenizes a text with special
tokens split, checks the ids against every control id of the model (special and
added tokens, and the family's language codes), and where one is left cuts the
text inside each control string and tokenizes the pieces apart (one character at
a time as a last resort), so that no piece can hold one. The prompt's own markup
(what the chat template or the tokenizer adds) is tokenized around the text, not
with it.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Sequence


class TextTokens:
    """Tokenizes text as text for one tokenizer (and the language codes of its family)."""

    def __init__(self, tokenizer: Any, codes: Iterable[str] = ()) -> None:
        self.tokenizer = tokenizer
        strings = {str(token) for token in getattr(tokenizer, "all_special_tokens", [])}
        strings |= {str(getattr(token, "content", token)) for token in getattr(tokenizer, "added_tokens_decoder", {}).values()}
        strings |= set(codes)
        strings = {s for s in strings if len(s.strip()) > 1}  # whitespace and one character are text
        ids = {tokenizer.convert_tokens_to_ids(s): s for s in strings}
        ids.pop(self._text_unknown(), None)
        self.control: frozenset[int] = frozenset(i for i in ids if isinstance(i, int))
        strings = {s for i, s in ids.items() if i in self.control}
        self._strings = re.compile("|".join(map(re.escape, sorted(strings, key=len, reverse=True))) or "(?!)")
        self._newline: list[int] | None = None
        # Marian's tokenizer takes a text's start up to "<<" for a language code when it opens
        # with ">>" (remove_language_code), whatever follows.
        self._takes_code_start = callable(getattr(tokenizer, "remove_language_code", None))

    def _text_unknown(self) -> int | None:
        """The unknown-word id, when plain text makes it (characters the vocabulary lacks;
        a byte-level vocabulary lacks none, and its unknown token is then a control token)."""
        unknown = getattr(self.tokenizer, "unk_token_id", None)
        probe = self._encode(["\u2603\U0001f600\u0fff\u4e00"])[0] if unknown is not None else []
        return unknown if unknown in probe else None

    def text(self, texts: Sequence[str], *, first: bool) -> list[list[int]]:
        """The ids of each text as text (no special tokens added). ``first``: the text
        starts the input (else it follows other tokens, and gets no leading space of its
        own from a SentencePiece tokenizer)."""
        encoded = self._plain(list(texts), first)
        return [self._cut(text, first) if self._unsafe(text, ids) else ids for text, ids in zip(texts, encoded)]

    def _unsafe(self, text: str, ids: Sequence[int]) -> bool:
        """Whether ``ids`` of ``text`` hold a control id, or lost its start to a language code."""
        return not self.control.isdisjoint(ids) or (self._takes_code_start and text.startswith(">>"))

    def markup(self, text: str, *, first: bool) -> list[int]:
        """The ids of the prompt's own text (chat markup parsed), no special tokens added."""
        if not text:
            return []
        if first:
            return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        return self._after_newline(text, lambda piece: self.tokenizer(piece, add_special_tokens=False)["input_ids"])

    def first_control(self, markup: str) -> int | None:
        """The first control id of the prompt's own ``markup`` (what a chat template writes
        after a reply: its end-of-turn token), or None."""
        return next((i for i in self.markup(markup, first=True) if i in self.control), None) if markup.strip() else None

    def around(self) -> tuple[list[int], list[int]]:
        """The special tokens the tokenizer puts before and after an input (its current
        ``src_lang`` tag, ``</s>``...)."""
        probe = "a"
        bare = list(self.tokenizer(probe, add_special_tokens=False)["input_ids"])
        full = list(self.tokenizer(probe, add_special_tokens=True)["input_ids"])
        for start in range(len(full) - len(bare) + 1):
            if full[start : start + len(bare)] == bare:
                return full[:start], full[start + len(bare) :]
        return [], full  # not found: keep the tokens, after the text

    def _plain(self, texts: list[str], first: bool) -> list[list[int]]:
        if not texts:
            return []
        if first:
            return [list(ids) for ids in self._encode(texts)]
        return [self._after_newline(text, lambda piece: self._encode([piece])[0]) for text in texts]

    def _encode(self, texts: list[str]) -> list[list[int]]:
        return self.tokenizer(texts, add_special_tokens=False, split_special_tokens=True)["input_ids"]

    def _after_newline(self, text: str, encode: Any) -> list[int]:
        """``text`` encoded as it reads after other text: after a newline, which is then
        removed (a SentencePiece tokenizer adds a space at the start of a string); where a
        newline is no token of its own, without the space it starts with."""
        if self._newline is None:
            self._newline = list(self.tokenizer("\n", add_special_tokens=False)["input_ids"])
        ids = list(encode("\n" + text))
        if self._newline and ids[: len(self._newline)] == self._newline:
            return ids[len(self._newline) :]
        ids = list(encode(text))
        first = self.tokenizer.convert_ids_to_tokens(ids[0]) if ids and not text[:1].isspace() else None
        if first == "\u2581" and len(ids) > 1:
            return ids[1:]
        if isinstance(first, str) and first.startswith("\u2581"):
            bare = self.tokenizer.convert_tokens_to_ids(first[1:])
            if isinstance(bare, int) and bare != getattr(self.tokenizer, "unk_token_id", None):
                ids[0] = bare
        return ids

    def _cut(self, text: str, first: bool) -> list[int]:
        """``text`` cut inside every control string it holds, the pieces tokenized apart;
        a piece that still gives a control id is tokenized one character at a time."""
        cuts = {match.start() + (match.end() - match.start()) // 2 for match in self._strings.finditer(text)}
        if self._takes_code_start:  # no piece may open with ">>"
            cuts |= {match.start() + 1 for match in re.finditer(r"(?=>>)", text)}
        cuts = sorted(cuts)
        pieces = [text[start:end] for start, end in zip([0, *cuts], [*cuts, len(text)]) if end > start]
        ids: list[int] = []
        for number, piece in enumerate(pieces):
            starts = first and number == 0
            piece_ids = self._plain([piece], starts)[0]
            if self._unsafe(piece, piece_ids):
                piece_ids = [i for n, char in enumerate(piece) for i in self._plain([char], starts and n == 0)[0]]
            ids += piece_ids
        if not self.control.isdisjoint(ids):
            raise ValueError(f"the tokenizer makes a control token of plain text in {text[:80]!r}")
        return ids
