"""Plain records passed between stages: what was read, and what was made of it."""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass, field, fields, replace
from pathlib import Path, PurePosixPath
from typing import Any, Literal, Mapping, Sequence

SourceKind = Literal["text", "html", "jsonl"]
Status = Literal["ok", "failed", "skipped"]


def file_key(path: str) -> str:
    """A file's key: its path with ``%``, ``#`` and every control or line-breaking character
    escaped (``%XX``), so that in any key ``#`` starts the part naming a record, a file can
    never be mistaken for one, and a name printed in a log or digest line is one line that
    cannot pose as another."""
    return "".join(_escaped(char) for char in path)


def one_line(text: str) -> str:
    """``text`` with its control and line-breaking characters (tab aside) escaped as in
    keys: a log message naming a path, whatever the path holds, stays one line."""
    return "".join(char if char == "\t" else _escaped(char, "") for char in text)


def _escaped(char: str, always: str = "%#") -> str:
    if char in always or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Cs"):
        try:
            raw = char.encode("utf-8", "surrogateescape")  # a file name's undecodable byte
        except UnicodeEncodeError:  # another lone surrogate (from a JSON escape)
            raw = char.encode("utf-8", "surrogatepass")
        return "".join(f"%{byte:02X}" for byte in raw)
    return char


def record_key(source_key: str, record_id: str) -> str:
    """The key of a JSONL record: its file's key, ``#``, its id (a leading ``@`` escaped:
    ``#@`` starts the keys of lines that hold no record)."""
    escaped = file_key(record_id)
    return f"{source_key}#{'%40' + escaped[1:] if escaped.startswith('@') else escaped}"


def line_key(source_key: str, number: int) -> str:
    """The key of a JSONL line that holds no valid record (it fails, keyed by its line)."""
    return f"{source_key}#@line-{number}"


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
    folder: Path | None = None
    """The folder holding the file (``path.parent``; one shared object per folder)."""

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", file_key(self.relative.as_posix()))
        if self.folder is None:
            object.__setattr__(self, "folder", self.path.parent)


@dataclass(frozen=True)
class FileStamp:
    """A source file as it was read: size, modification time, SHA-256 of its bytes.

    Recorded with the results, it lets a later run skip a done article with a stat
    and a small read of its meta, without opening the article."""

    size: int
    mtime_ns: int
    sha256: str

    @staticmethod
    def as_read(size: int, mtime_ns: int, sha256: str, now_ns: int | None = None) -> FileStamp:
        """The stamp of a file just read. A time too close to now is not recorded (0): a
        rewrite of the same size within the file system's time granularity (a second or
        two on network and FAT shares) would keep it, and go unseen; the next run hashes
        the bytes instead and records the time then."""
        now_ns = time.time_ns() if now_ns is None else now_ns
        granularity = 2_000_000_000 if mtime_ns % 1_000_000_000 == 0 else 100_000_000
        recent = 0 <= now_ns - mtime_ns < granularity  # a time in the future is not a rewrite in progress
        return FileStamp(size, 0 if recent else mtime_ns, sha256)

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "mtime_ns": self.mtime_ns, "sha256": self.sha256}

    @staticmethod
    def from_dict(data: Any) -> FileStamp | None:
        """The stamp a meta file or result record holds, or None if it holds none (or garbage)."""
        if not isinstance(data, dict):
            return None
        size, mtime, digest = data.get("size"), data.get("mtime_ns"), data.get("sha256")
        if type(size) is not int or type(mtime) is not int or not isinstance(digest, str):
            return None
        return FileStamp(size, mtime, digest)


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
    route: Any = None
    """The ``routing.Route`` planning decided for ``language`` (None until planned): the
    models, the skip reason and the outputs follow from it; nothing routes again."""


@dataclass(frozen=True)
class ReadFailure:
    """An input that could not become an article; recorded as failed, the run goes on."""

    key: str
    source: SourceFile
    error: str
    input_sha256: str | None = None
    record_id: str | None = None
    lasting: bool = True
    """It fails whenever these bytes are read by this reader (False: the machine was at fault,
    a library missing or memory short, so the next run must try again)."""


def _sum(first: Any, second: Any) -> Any:
    """A record of counters whose fields are those of both added up (sets: joined)."""

    def added(a: Any, b: Any) -> Any:
        return a | b if isinstance(a, frozenset) else a + b

    return replace(first, **{f.name: added(getattr(first, f.name), getattr(second, f.name)) for f in fields(first)})


@dataclass(frozen=True)
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
    capped_segments: int = 0
    """Outputs that reached their length cap instead of ending by themselves."""
    seconds: float = 0.0
    flags: frozenset[str] = frozenset()
    """Quality flags raised on this task's outputs."""

    def __add__(self, other: TaskStats) -> TaskStats:
        return _sum(self, other)

    def flagged(self, *flags: str) -> TaskStats:
        """These statistics with ``flags`` raised too."""
        return replace(self, flags=self.flags | frozenset(flags))

    def to_dict(self) -> dict[str, Any]:
        """The form stored in meta files."""
        return {
            "segments": self.segments,
            "input_tokens": self.input_tokens,
            "generated_tokens": self.generated_tokens,
            "truncated_tokens": self.truncated_tokens,
            "retried_segments": self.retried_segments,
            "capped_segments": self.capped_segments,
            "seconds": round(self.seconds, 3),
            "flags": sorted(self.flags),
        }


@dataclass(frozen=True)
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
    tasks: Mapping[str, TaskStats] = field(default_factory=dict)
    flags: tuple[str, ...] = ()
    error: str | None = None
    """Why the article failed."""
    reason: str | None = None
    """Why the article was skipped (e.g. no model for its language)."""
    dropped_lines: int = 0
    record_id: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    encoding: str = "utf-8"
    language: str | None = None
    language_confidence: float | None = None
    detected_language: str | None = None
    models: Mapping[str, Any] = field(default_factory=dict)
    """The models used, by task (name, revision, device, dtype)."""
    findings: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    """What the faithfulness checks found, by task then flag: the words the article does not back."""
    removed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """What was taken off the models' outputs around their text (an instruct model's
    announcement, label or quotes), by task."""
    outputs: tuple[str, ...] = ()
    """Absolute paths of the files written for this article (meta or results file last)."""

    @property
    def generated_tokens(self) -> int:
        return sum(t.generated_tokens for t in self.tasks.values())

    def findings_dict(self) -> dict[str, dict[str, list[str]]]:
        """``findings`` as stored in meta files and reports."""
        return {task: {flag: list(values) for flag, values in found.items()} for task, found in self.findings.items()}

    def written(self, outputs: Sequence[str]) -> ArticleResult:
        """This result, written to ``outputs``."""
        return replace(self, outputs=tuple(outputs))

    def unwritable(self, problem: str) -> ArticleResult:
        """This result, failed because its outputs could not be written."""
        return replace(self, status="failed", error=f"its outputs cannot be written: {problem}", outputs=())


@dataclass(frozen=True)
class EngineStats:
    """What one model engine did."""

    loads: int = 0
    """Times the weights were loaded (more than 1: evicted from memory and loaded again)."""
    load_seconds: float = 0.0
    generate_seconds: float = 0.0
    segments: int = 0
    batches: int = 0
    input_tokens: int = 0
    generated_tokens: int = 0

    def __add__(self, other: EngineStats) -> EngineStats:
        return _sum(self, other)

    def __sub__(self, other: EngineStats) -> EngineStats:
        return replace(self, **{f.name: getattr(self, f.name) - getattr(other, f.name) for f in fields(self)})


@dataclass(frozen=True)
class ModelUsage:
    """One model's share of a run."""

    description: Mapping[str, Any]
    """Name, revision, engine, device, dtype."""
    stats: EngineStats = field(default_factory=EngineStats)

    def __add__(self, other: ModelUsage) -> ModelUsage:
        return ModelUsage(other.description or self.description, self.stats + other.stats)


def _merged(first: Mapping[str, Any], second: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(first)
    for key, value in second.items():
        merged[key] = merged[key] + value if key in merged else value
    return merged


@dataclass(frozen=True)
class RunStats:
    """What some work cost: wall seconds per stage, and each model's usage (by config key).

    Stages return theirs; adding them up gives the run's."""

    stage_seconds: Mapping[str, float] = field(default_factory=dict)
    """read, load_models, summarise, translate, write (ray: the cluster's wall time)."""
    models: Mapping[str, ModelUsage] = field(default_factory=dict)

    def __add__(self, other: RunStats) -> RunStats:
        return RunStats(_merged(self.stage_seconds, other.stage_seconds), _merged(self.models, other.models))

    @staticmethod
    def stage(name: str, seconds: float) -> RunStats:
        """Statistics of ``seconds`` spent in stage ``name``."""
        return RunStats(stage_seconds={name: seconds})

    @property
    def generated_tokens(self) -> int:
        """Tokens generated by all models."""
        return sum(m.stats.generated_tokens for m in self.models.values())

    @property
    def generate_seconds(self) -> float:
        """Seconds spent inside ``generate`` (on Ray: summed over workers)."""
        return sum(m.stats.generate_seconds for m in self.models.values())

    @property
    def tokens_per_second(self) -> float:
        """Generated tokens per second of generation."""
        return self.generated_tokens / self.generate_seconds if self.generate_seconds else 0.0
