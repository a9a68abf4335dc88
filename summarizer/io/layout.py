"""Where outputs go and what they are called: the one place output naming is decided.

``NAME.summary.<lang>.txt``, ``NAME.translation.<lang>.txt``, ``NAME.meta.json``
(the "done" marker) and ``NAME.results.jsonl`` (all results of a JSONL input),
next to the input or mirrored under the output folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import ContextManager

from ..records import SourceFile
from .files import unicode_problem
from .folders import output_folder

_OUTPUT_NAME = re.compile(
    r"(?P<name>.+)(?:\.(?P<text>summary|translation)\.(?P<language>[A-Za-z]{2,3}(?:-[A-Za-z0-9]+)?)\.txt"
    r"|\.(?P<meta>meta)\.json|\.(?P<results>results)\.jsonl)",
    re.DOTALL,  # a name may hold a newline: the stem is any text
)


@dataclass(frozen=True)
class OutputName:
    """What an output file's name says: whose outputs (``name``, the input's stem) and
    which one (``kind``: ``summary``, ``translation``, ``meta`` or ``results``)."""

    name: str
    kind: str
    language: str | None = None
    """The text's language (summaries and translations)."""


def parse_output_name(file_name: str) -> OutputName | None:
    """The output ``file_name`` is, or None for a name this job does not write: the one
    recognition of the job's own files. Any character before the suffix is the stem's
    (a newline, a carriage return, an undecodable byte, another output's suffix)."""
    match = _OUTPUT_NAME.fullmatch(file_name)
    if match is None:
        return None
    kind = match["text"] or match["meta"] or match["results"]
    return OutputName(name=match["name"], kind=kind, language=match["language"])


def is_output_file(name: str) -> bool:
    """True for file names this job writes, so they are never read back as articles."""
    return parse_output_name(name) is not None


def output_location_of(path: Path, root: Path) -> OutputLocation | None:
    """The location whose meta or results file ``path`` is (under ``root``), or None."""
    found = parse_output_name(path.name)
    if found is None or found.kind not in ("meta", "results"):
        return None
    return OutputLocation(folder=path.parent, name=found.name, root=root)


def translation_file_text(title: str, body: str) -> str:
    """What a translation file holds: the translated title, a blank line, the body."""
    return f"{title}\n\n{body}" if title else body


def translation_body(text: str, title: str | None) -> str:
    """The body of a translation file's ``text`` (``translation_file_text`` undone)."""
    return text[len(title) + 2 :] if title and text.startswith(f"{title}\n\n") else text


def output_label(name: str) -> str | None:
    """What an output file holds, from its name: ``meta``, ``results``, ``translation``
    or ``summary (fr)``; None for a name this job does not write."""
    found = parse_output_name(name)
    if found is None:
        return None
    return f"summary ({found.language})" if found.kind == "summary" else found.kind


@dataclass(frozen=True)
class OutputLocation:
    """The output files of one input file: ``FOLDER/NAME.<what>``."""

    folder: Path
    name: str
    """The input file name without its extension."""
    root: Path
    """The folder ``folder`` lies in that the job may write into (the output folder
    or the input folder); folders between the two are never followed if links."""

    @property
    def below_root(self) -> PurePath:
        """``folder`` relative to ``root``."""
        return self.folder.relative_to(self.root)

    def summary(self, language: str) -> Path:
        """``NAME.summary.<language>.txt``."""
        return self.folder / self.summary_name(language)

    def translation(self, language: str) -> Path:
        """``NAME.translation.<language>.txt``."""
        return self.folder / self.translation_name(language)

    def summary_name(self, language: str) -> str:
        return f"{self.name}.summary.{language}.txt"

    def translation_name(self, language: str) -> str:
        return f"{self.name}.translation.{language}.txt"

    @property
    def meta(self) -> Path:
        """``NAME.meta.json``: the done marker of a .txt/.md article."""
        return self.folder / self.meta_name

    @property
    def meta_name(self) -> str:
        return f"{self.name}.meta.json"

    @property
    def results(self) -> Path:
        """``NAME.results.jsonl``: all results of a JSONL input."""
        return self.folder / f"{self.name}.results.jsonl"


def output_location(source: SourceFile, output_dir: Path | None) -> OutputLocation:
    """Where the outputs of ``source`` go: next to it, or mirrored under ``output_dir``."""
    folder = source.folder if output_dir is None else output_dir / source.relative.parent
    return OutputLocation(
        folder=folder, name=output_stem(source.relative.name), root=source.root if output_dir is None else output_dir
    )


def output_stem(file_name: str) -> str:
    """The ``NAME`` of an input file's outputs: its name without its extension."""
    return file_name.rsplit(".", 1)[0]


#: Longest language code an output name can hold (``xx-Yyyyyyyy``), for the name length check.
_LONGEST_LANGUAGE = 12
_NAME_MAX = 255


def output_name_problem(source: SourceFile, location: OutputLocation) -> str | None:
    """Why the outputs of ``source`` cannot be written under their names, or None:
    a name that is not valid UTF-8, or one too long for the file system once the
    output suffix is added."""
    if unicode_problem(source.relative.as_posix()):
        return "its name is not valid UTF-8; rename it"
    size = len(location.translation_name("x" * _LONGEST_LANGUAGE).encode("utf-8"))
    if size > _NAME_MAX:
        return (
            f"its name is too long: its output names would be {size} bytes, over the "
            f"file system's {_NAME_MAX}; shorten it"
        )
    return None


def expected_outputs(location: OutputLocation, language: str, target: str, translated: bool) -> list[Path]:
    """The text files a finished .txt/.md/.html article has besides its meta file.

    A translated article has its summary in ``language`` and in ``target`` and
    its translation; one that is not (already in the target language) only its summary.
    """
    return [location.folder / name for name in expected_names(location, language, target, translated)]


def expected_names(location: OutputLocation, language: str, target: str, translated: bool) -> list[str]:
    """The names of ``expected_outputs`` (cheaper, for checking many articles)."""
    return [name for _, name in output_texts(location, language, target, translated)]


def output_texts(location: OutputLocation, language: str, target: str, translated: bool) -> list[tuple[str, str]]:
    """Which text goes in which file: (``summary``, ``summary_translation`` or
    ``translation``, file name), in the order they are written. The translation file
    holds the translated title, a blank line and the translated body."""
    if not translated:
        return [("summary", location.summary_name(target))]
    return [
        ("summary", location.summary_name(language)),
        ("summary_translation", location.summary_name(target)),
        ("translation", location.translation_name(target)),
    ]


def open_output_folder(location: OutputLocation) -> ContextManager[int]:
    """The output folder of ``location``, open for writing (``io.folders.output_folder``):
    created below its root one folder at a time, never through a symbolic link."""
    return output_folder(location.root, location.below_root)
