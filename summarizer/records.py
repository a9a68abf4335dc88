"""Plain records passed between stages: what was read, and what was made of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

SourceKind = Literal["text", "html", "jsonl"]
Status = Literal["ok", "failed", "skipped"]


@dataclass(frozen=True)
class SourceFile:
    """One input file found by discovery."""

    path: Path
    """Absolute path of the file."""
    root: Path
    """The input folder it was found under (its parent folder when given directly)."""
    relative: PurePosixPath
    """Path relative to ``root``; the mirrored output path comes from it."""
    kind: SourceKind
    """``text`` for .txt/.md and ``html`` for .html/.htm (one article each),
    ``jsonl`` (one article per line)."""
    key: str = ""
    """Unique label of the file in this run: ``relative``, prefixed with the input
    folder's name (or made absolute) when two inputs share a relative path."""

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.relative.as_posix())


@dataclass(frozen=True)
class Article:
    """One article ready for cleaning."""

    key: str
    """Stable identity: the source's key, plus ``#id`` for JSONL records."""
    source: SourceFile
    title: str | None
    """The title; None when it is the first line of ``text`` (.txt/.md files), picked after cleaning."""
    text: str
    input_sha256: str
    """Hash of the raw input (file bytes, or the JSONL record) used to detect edits."""
    record_id: str | None = None
    """The JSONL ``id``; None for .txt/.md files."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """``date``, ``url`` and any other JSONL fields, kept as they were."""
    encoding: str = "utf-8"
    """How the file was decoded (``utf-8``, ``utf-16``, ``cp1252``)."""
    flags: tuple[str, ...] = ()
    """Flags raised while reading (``encoding_fallback``)."""
    language: str | None = None
    """Detected (or forced) language, set when the run plans its work."""
    language_confidence: float | None = None
    """The detector's confidence (0-1); None when the language was forced."""
    detected_language: str | None = None
    """What the detector said, when it differs from ``language`` (too unsure)."""


@dataclass(frozen=True)
class ReadFailure:
    """An input that could not become an article; recorded as failed, the run goes on."""

    key: str
    source: SourceFile
    error: str
    input_sha256: str | None = None
    record_id: str | None = None


@dataclass
class TaskStats:
    """What one task (summary, translation, summary translation) cost for one article."""

    segments: int = 0
    """Number of model inputs."""
    retried_segments: int = 0
    """Segments generated again after a quality flag."""
    input_tokens: int = 0
    generated_tokens: int = 0
    truncated_tokens: int = 0
    """Input tokens dropped (only ever non-zero for ``long_input: truncate``)."""
    seconds: float = 0.0
    flags: set[str] = field(default_factory=set)
    """Quality flags raised on this task's outputs."""

    def to_dict(self) -> dict[str, Any]:
        """The form stored in meta files."""
        return {
            "segments": self.segments,
            "input_tokens": self.input_tokens,
            "generated_tokens": self.generated_tokens,
            "truncated_tokens": self.truncated_tokens,
            "retried_segments": self.retried_segments,
            "seconds": round(self.seconds, 3),
            "flags": sorted(self.flags),
        }


@dataclass
class ArticleResult:
    """Everything known about one article at the end of a run."""

    key: str
    status: Status
    input_sha256: str | None
    fingerprint: str
    title: str = ""
    title_translation: str = ""
    summary: str = ""
    summary_translation: str = ""
    translation: str = ""
    tasks: dict[str, TaskStats] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    error: str | None = None
    """Why the article failed."""
    reason: str | None = None
    """Why the article was skipped (e.g. no model for its language)."""
    dropped_lines: int = 0
    record_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    encoding: str = "utf-8"
    language: str | None = None
    language_confidence: float | None = None
    detected_language: str | None = None
    models: dict[str, Any] = field(default_factory=dict)
    """The models used, by task (name, revision, device, dtype)."""
    outputs: list[str] = field(default_factory=list)
    """Absolute paths of the files written for this article (meta or results file last)."""

    @property
    def generated_tokens(self) -> int:
        return sum(t.generated_tokens for t in self.tasks.values())


@dataclass
class EngineStats:
    """What one model engine did during a run."""

    loads: int = 0
    """Times the weights were loaded (more than 1: evicted from memory and loaded again)."""
    load_seconds: float = 0.0
    generate_seconds: float = 0.0
    segments: int = 0
    batches: int = 0
    input_tokens: int = 0
    generated_tokens: int = 0
