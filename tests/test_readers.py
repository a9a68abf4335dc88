"""Discovery and readers: txt/md/jsonl, encodings, bad records, never our own outputs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from summarizer.io.readers import InputPathError, ReadLimits, discover, read_source
from summarizer.io.layout import is_output_file
from summarizer.records import Article, ReadFailure


def read_one(path: Path) -> Article | ReadFailure:
    (item,) = read_source(discover([path], [".txt", ".md", ".jsonl"])[0])
    return item


def test_txt_is_read_whole_the_title_is_found_after_cleaning(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("\n\n  Le titre  \nPremier paragraphe.\n\nSecond.\n", encoding="utf-8")
    article = read_one(path)
    assert isinstance(article, Article)
    assert article.title is None
    assert article.text == "\n\n  Le titre  \nPremier paragraphe.\n\nSecond.\n"
    assert article.key == "a.txt"
    assert len(article.input_sha256) == 64


@pytest.mark.parametrize(
    "raw",
    [
        "\ufeffTitre\nCorps du texte.\n".encode("utf-8"),
        b"Titre\r\nCorps du texte.\r\n",
        "Titre\nCorps du texte.".encode("utf-8"),
    ],
    ids=["bom", "crlf", "no-final-newline"],
)
def test_encodings_and_line_ends(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(raw)
    article = read_one(path)
    assert isinstance(article, Article)
    assert article.text.replace("\r\n", "\n").strip() == "Titre\nCorps du texte."


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "file is empty"),
        (b"  \n\t\n", "file has no text (only whitespace)"),
        (b"Titre\x00\x01\x02", "NUL bytes"),
        (b"Titre\n\x81\x8d\x8f", "neither UTF-8 nor Windows-1252"),
        (bytes(range(1, 32)) * 20 + b"\xe9", "looks like binary data"),
        (b"\xff\xfeT\x00\x00\xd8", "not valid UTF-16"),
    ],
    ids=["empty", "whitespace", "nul", "undecodable", "binary", "broken-utf16"],
)
def test_unreadable_text_files_become_failures(tmp_path: Path, raw: bytes, reason: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(raw)
    failure = read_one(path)
    assert isinstance(failure, ReadFailure)
    assert reason in failure.error
    assert failure.key == "bad.txt"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_with_bom_is_read(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "a.txt"
    text = "Été à Noël\r\nUn « texte » accentué.\r\n"
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    path.write_bytes(data)
    article = read_one(path)
    assert isinstance(article, Article)
    assert (article.text, article.encoding) == (text, "utf-16")
    assert article.flags == ()


def test_windows_1252_is_read_with_a_flag(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes("Été\nL’œuvre « coûte » 5 €.\n".encode("cp1252"))
    article = read_one(path)
    assert isinstance(article, Article)
    assert article.text == "Été\nL’œuvre « coûte » 5 €.\n"
    assert article.encoding == "cp1252"
    assert article.flags == ("encoding_fallback",)


def test_size_limits(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.truncate(3 * 1024 * 1024)
    (source,) = discover([big], [".txt"])
    (failure,) = read_source(source, ReadLimits(max_file_bytes=1024 * 1024))
    assert isinstance(failure, ReadFailure)
    assert "file is 3.0 MB, over inputs.max_file_mb (1 MB): not read" in failure.error
    # In the unit the config uses, with the decimals it takes to differ from the limit.
    (failure,) = read_source(source, ReadLimits(max_file_bytes=int(0.5 * 1024 * 1024)))
    assert "file is 3.0 MB, over inputs.max_file_mb (0.5 MB): not read" in failure.error
    with big.open("wb") as handle:
        handle.truncate(1_400_000)
    (failure,) = read_source(source, ReadLimits(max_file_bytes=int(1.3 * 1024 * 1024)))
    assert "file is 1.34 MB, over inputs.max_file_mb (1.3 MB): not read" in failure.error
    long = tmp_path / "long.txt"
    long.write_text("Titre\n" + "mot " * 100, encoding="utf-8")
    (source,) = discover([long], [".txt"])
    (failure,) = read_source(source, ReadLimits(max_article_chars=50))
    assert "over inputs.max_article_chars (50)" in failure.error
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"id": "a", "title": "Titre " * 10, "text": "Court."}) + "\n", encoding="utf-8")
    (source,) = discover([feed], [".jsonl"])
    (failure,) = read_source(source, ReadLimits(max_article_chars=50))
    assert "article is 66 characters, over inputs.max_article_chars (50)" in failure.error  # title included


def test_fifo_is_not_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    (source,) = discover([tmp_path], [".txt"])
    (failure,) = read_source(source)
    assert isinstance(failure, ReadFailure)
    assert failure.error == "not a regular file (a FIFO): not opened"


def test_symlinks_are_followed_only_inside_the_input_folder(tmp_path: Path) -> None:
    inside = tmp_path / "in"
    inside.mkdir()
    outside = tmp_path / "secret.txt"
    outside.write_text("Secret\nNe pas lire.", encoding="utf-8")
    (inside / "real.txt").write_text("Titre\nCorps.", encoding="utf-8")
    (inside / "escape.txt").symlink_to(outside)
    (inside / "alias.txt").symlink_to(inside / "real.txt")
    (inside / "dangling.txt").symlink_to(inside / "nowhere.txt")
    items = {i.key: i for s in discover([inside], [".txt"]) for i in read_source(s)}
    assert isinstance(items["real.txt"], Article)
    assert isinstance(items["alias.txt"], Article)
    assert "outside the input folder: not followed" in items["escape.txt"].error
    assert "broken symbolic link" in items["dangling.txt"].error


def test_odd_file_names(tmp_path: Path) -> None:
    path = tmp_path / "Été à Noël — l’édition spéciale (1).txt"
    path.write_text("Titre\nCorps.", encoding="utf-8")
    article = read_one(path)
    assert article.key == "Été à Noël — l’édition spéciale (1).txt"


def test_jsonl_records(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    lines = [
        {"id": "a1", "text": "Texte A.", "title": "Titre A", "date": "2026-11-28", "url": "u", "x": 1},
        {"id": 7, "text": "Texte B."},
        "not json",
        {"text": "sans id"},
        {"id": "a1", "text": "doublon"},
        {"id": "c", "title": "sans texte"},
        {"id": "d", "text": "Texte D.", "title": 5},
        [1, 2],
    ]
    raw = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines)
    raw += '\n{"id": "n", "text": NaN}\n\n'
    path.write_text(raw, encoding="utf-8")
    items = read_source(discover([path], [".jsonl"])[0])
    by_key = {item.key: item for item in items}
    first = by_key["feed.jsonl#a1"]
    assert isinstance(first, Article)
    assert (first.title, first.text, first.record_id) == ("Titre A", "Texte A.", "a1")
    assert first.metadata == {"date": "2026-11-28", "url": "u", "x": 1}
    assert isinstance(by_key["feed.jsonl#7"], Article)
    errors = {item.key: item.error for item in items if isinstance(item, ReadFailure)}
    assert errors == {
        "feed.jsonl#@line-3": errors["feed.jsonl#@line-3"],
        "feed.jsonl#@line-4": "line 4: missing or invalid 'id'",
        "feed.jsonl#@line-5": "line 5: duplicate id 'a1'",
        "feed.jsonl#c": "line 6: missing 'text' (a string is required)",
        "feed.jsonl#d": "line 7: 'title' must be a string",
        "feed.jsonl#@line-8": "line 8: not a JSON object",
        "feed.jsonl#@line-9": errors["feed.jsonl#@line-9"],
    }
    assert errors["feed.jsonl#@line-3"].startswith("line 3: invalid JSON")
    assert "NaN is not allowed" in errors["feed.jsonl#@line-9"]


def test_jsonl_record_hash_ignores_key_order(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text('{"id": "1", "text": "x"}\n', encoding="utf-8")
    b.write_text('{"text": "x",  "id": "1"}\n', encoding="utf-8")
    (ra,) = read_source(discover([a], [".jsonl"])[0])
    (rb,) = read_source(discover([b], [".jsonl"])[0])
    assert ra.input_sha256 == rb.input_sha256


def test_discovery_skips_outputs_hidden_files_and_other_extensions(tmp_path: Path) -> None:
    (tmp_path / "sub" / ".git").mkdir(parents=True)
    for name in [
        "a.txt",
        "sub/b.md",
        "sub/c.jsonl",
        "a.summary.fr.txt",
        "a.summary.en.txt",
        "a.translation.en.txt",
        "a.meta.json",
        "c.results.jsonl",
        ".a.txt.x1.tmp",
        ".hidden.txt",
        "sub/.git/d.txt",
        "notes.pdf",
    ]:
        (tmp_path / name).write_text("x", encoding="utf-8")
    found = discover([tmp_path], [".txt", ".md", ".jsonl"])
    assert [str(s.relative) for s in found] == ["a.txt", "sub/b.md", "sub/c.jsonl"]
    assert [s.kind for s in found] == ["text", "text", "jsonl"]
    assert all(s.root == tmp_path.resolve() for s in found)


def test_output_names_are_recognised() -> None:
    assert is_output_file("x.summary.fr.txt")
    assert is_output_file("x.translation.en.txt")
    assert is_output_file("x.meta.json")
    assert is_output_file("x.results.jsonl")
    assert not is_output_file("summary.txt")
    assert not is_output_file("x.txt")


def test_file_given_directly(tmp_path: Path) -> None:
    path = tmp_path / "d" / "a.txt"
    path.parent.mkdir()
    path.write_text("T\nB", encoding="utf-8")
    (source,) = discover([path], [".txt"])
    assert source.root == path.parent
    assert str(source.relative) == "a.txt"


def test_missing_or_unsupported_input_paths(tmp_path: Path) -> None:
    with pytest.raises(InputPathError, match="input path does not exist"):
        discover([tmp_path / "missing"], [".txt"])
    other = tmp_path / "a.pdf"
    other.write_text("x")
    with pytest.raises(InputPathError, match="not an article file"):
        discover([other], [".txt"])


def test_inputs_sharing_relative_paths_get_distinct_keys(tmp_path: Path) -> None:
    for folder in ("d1", "d2", "x/d1"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "a.txt").write_text("T\nB", encoding="utf-8")
    (tmp_path / "d1" / "b.txt").write_text("T\nB", encoding="utf-8")
    found = discover([tmp_path / "d1", tmp_path / "d2", tmp_path / "x" / "d1"], [".txt"])
    assert [s.key for s in found] == [
        str(tmp_path / "d1" / "a.txt"),
        "b.txt",
        "d2/a.txt",
        str(tmp_path / "x" / "d1" / "a.txt"),
    ]
    assert [s.relative.as_posix() for s in found] == ["a.txt", "b.txt", "a.txt", "a.txt"]


def test_overlapping_inputs_list_each_file_once(tmp_path: Path) -> None:
    (tmp_path / "in" / "sub").mkdir(parents=True)
    (tmp_path / "in" / "sub" / "a.txt").write_text("T\nB", encoding="utf-8")
    found = discover(
        [tmp_path / "in", tmp_path / "in", tmp_path / "in" / "sub" / "a.txt"], [".txt"]
    )
    assert [s.key for s in found] == ["sub/a.txt"]


def test_output_files_named_directly_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("T\nB", encoding="utf-8")
    (tmp_path / "a.summary.fr.txt").write_text("S", encoding="utf-8")
    found = discover([tmp_path / "a.txt", tmp_path / "a.summary.fr.txt"], [".txt"])
    assert [s.key for s in found] == ["a.txt"]


def read_jsonl_line(tmp_path: Path, line: str) -> Article | ReadFailure:
    path = tmp_path / "feed.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    (item,) = read_source(discover([path], [".jsonl"])[0])
    return item


def test_a_jsonl_record_nested_1000_deep_fails_alone(tmp_path: Path) -> None:
    deep = "[" * 1000 + "]" * 1000
    failure = read_jsonl_line(tmp_path, '{"id": "d", "text": "x", "m": ' + deep + "}")
    assert isinstance(failure, ReadFailure)
    assert failure.error == "line 1: invalid JSON (nested deeper than 32 levels)"


@pytest.mark.parametrize(
    "record",
    [
        '{"id": "s", "text": "avant \\ud800 après"}',
        '{"id": "s", "text": "x", "title": "\\udfff"}',
        '{"id": "s", "text": "x", "meta": {"auteur": ["\\ud83d"]}}',
        '{"id": "s", "text": "x", "\\ud800": 1}',
        '{"id": "\\ud800", "text": "x"}',
    ],
    ids=["text", "title", "metadata", "key", "id"],
)
def test_a_jsonl_record_with_a_lone_surrogate_fails_alone(tmp_path: Path, record: str) -> None:
    failure = read_jsonl_line(tmp_path, record)
    assert isinstance(failure, ReadFailure)
    assert "lone surrogate that is not valid Unicode" in failure.error
    assert read_jsonl_line(tmp_path, '{"id": "ok", "text": "\\ud83d\\ude00 paire valide"}').text == "😀 paire valide"


@pytest.mark.parametrize("number", ["1e400", "-1e999", "Infinity", "NaN"])
def test_numbers_json_cannot_store_fail_the_record(tmp_path: Path, number: str) -> None:
    failure = read_jsonl_line(tmp_path, '{"id": "n", "text": "x", "score": ' + number + "}")
    assert isinstance(failure, ReadFailure)
    assert "invalid JSON" in failure.error


def test_the_size_limit_is_stated_in_the_configured_unit(tmp_path: Path) -> None:
    from summarizer.config import JobConfig
    from summarizer.planning import read_limits

    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    (failure,) = read_source(discover([path], [".txt"])[0], read_limits(JobConfig()))
    assert failure.error == "file is 50.0 MB, over inputs.max_file_mb (25 MB): not read"


def test_input_paths_are_checked_before_anything_happens(tmp_path: Path) -> None:
    from summarizer.io.readers import require_input_paths

    (tmp_path / "passwd").write_text("root:x:0:0\n", encoding="utf-8")
    with pytest.raises(InputPathError, match="passwd: not an article file"):
        require_input_paths([tmp_path, tmp_path / "passwd"], [".txt"])
    with pytest.raises(InputPathError, match="not valid UTF-8"):
        require_input_paths([Path(os.fsdecode(b"/tmp/caf\xe9"))], [".txt"])
    require_input_paths([tmp_path], [".txt"])


def test_a_file_name_that_is_not_utf8_is_listed_with_a_printable_key(tmp_path: Path) -> None:
    from summarizer.io.files import printable

    os.mkdir(tmp_path / "in")
    with open(os.path.join(os.fsencode(tmp_path / "in"), b"caf\xe9.txt"), "wb") as handle:
        handle.write(b"Titre\nCorps.")
    (source,) = discover([tmp_path / "in"], [".txt"])
    assert printable(source.key) == "caf%E9.txt"  # keys escape what a line cannot show
