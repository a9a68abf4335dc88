"""Property-based tests: whatever bytes, JSON, HTML or YAML arrive, reading them
yields articles or a recorded failure, and a config loads or fails with
ConfigError; never another exception, never a hang.

The search is small by default (profile ``ci``); ``HYPOTHESIS_PROFILE=long``
runs a deeper one."""

from __future__ import annotations

import json
import os
import string
from pathlib import Path

import yaml
from hypothesis import assume, given, strategies as st

from summarizer.config import JobConfig, load_config
from summarizer.errors import ConfigError
from summarizer.io.files import unicode_problem
from summarizer.io.meta import article_meta
from summarizer.io.readers import discover, read_source
from summarizer.planning import make_plan
from summarizer.processing import failed_result
from summarizer.records import Article, ArticleResult, ReadFailure

KINDS = (".txt", ".md", ".html", ".jsonl")


def read_bytes(folder: Path, name: str, data: bytes) -> list[Article | ReadFailure]:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    (folder / name).write_bytes(data)
    (source,) = discover([folder], KINDS)
    return read_source(source)


def assert_storable(items: list[Article | ReadFailure]) -> None:
    """What a reader returns can be written as UTF-8 JSON (meta files, results, reports)."""
    for item in items:
        assert isinstance(item, (Article, ReadFailure))
        if isinstance(item, Article):
            result = ArticleResult(item.key, "ok", item.input_sha256, "f", title=item.title or "", metadata=item.metadata)
        else:
            result = failed_result(item, "f")
        text = json.dumps(article_meta(result, target_language="en", with_texts=True), ensure_ascii=False, indent=2)
        text.encode("utf-8")


@given(data=st.binary(max_size=4096), kind=st.sampled_from(KINDS))
def test_any_bytes_in_any_kind_of_file(tmp_path_factory, data: bytes, kind: str) -> None:
    assert_storable(read_bytes(tmp_path_factory.mktemp("in"), f"a{kind}", data))


def nested(scalars: st.SearchStrategy, key_size: int, max_leaves: int) -> st.SearchStrategy:
    """Lists and mappings of ``scalars``, nested."""
    return st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=5)
        | st.dictionaries(st.text(max_size=key_size), children, max_size=5),
        max_leaves=max_leaves,
    )


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**50), max_value=10**50),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),  # surrogates included
)
json_values = nested(json_scalars, key_size=8, max_leaves=30)


@st.composite
def jsonl_lines(draw) -> str:
    """A JSONL line: a record with the usual fields and odd values, or raw oddities."""
    record = draw(st.dictionaries(st.sampled_from(["id", "text", "title", "date", "url", "x"]), json_values))
    line = json.dumps(record, ensure_ascii=draw(st.booleans()))
    oddity = draw(
        st.sampled_from(
            [
                None,
                lambda: '{"id": "d", "text": "x", "m": ' + "[" * 2000 + "]" * 2000 + "}",
                lambda: '{"id": "n", "text": "x", "v": NaN}',
                lambda: '{"id": "i", "text": "x", "v": 1e999}',
                lambda: '{"id": "b", "text": "x", "v": ' + "9" * 5000 + "}",
                lambda: '{"id": "s", "text": "\\ud800"}',
                lambda: '{"id": 1, "text": "' + "mot " * 200 + '"}',
            ]
        )
    )
    return oddity() if oddity else line


@given(lines=st.lists(jsonl_lines(), max_size=6))
def test_any_json_records_in_a_feed(tmp_path_factory, lines: list[str]) -> None:
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    items = read_bytes(tmp_path_factory.mktemp("in"), "feed.jsonl", data)
    assert_storable(items)
    for item in items:
        if isinstance(item, Article):
            assert unicode_problem(item.text) is None


tags = st.sampled_from(["p", "div", "article", "h1", "script", "style", "nav", "table", "td", "span", "title", "body", "html", "head", "br", "!--", "![CDATA["])
html_pieces = st.one_of(
    st.text(max_size=40),
    tags.map(lambda tag: f"<{tag}>"),
    tags.map(lambda tag: f"</{tag}>"),
    st.sampled_from(["&amp;", "&#0;", "&#xD800;", "&nbsp;", "<meta charset='utf-7'>", "<?xml version='1.0'?>", "\x00", "<p>" + "mot " * 20]),
)


@given(pieces=st.lists(html_pieces, max_size=40), encoding=st.sampled_from(["utf-8", "utf-16", "latin-1"]))
def test_any_html_page(tmp_path_factory, pieces: list[str], encoding: str) -> None:
    data = "".join(pieces).encode(encoding, "surrogatepass" if encoding != "latin-1" else "replace")
    assert_storable(read_bytes(tmp_path_factory.mktemp("in"), "page.html", data))


SECTION_KEYS = {
    "runtime": ["threads", "device", "batch_tokens", "time_budget_minutes", "wave_articles"],
    "inputs": ["paths", "max_file_mb", "max_article_chars", "extensions"],
    "languages": ["min_confidence", "force"],
    "quality": ["length_ratio_min", "length_ratio_max", "retry_generation"],
    "summarization": ["model", "generation", "models", "max_input_tokens"],
    "translation": ["model", "target", "pack_tokens", "generation"],
    "reports": ["dir", "keep_runs"],
    "ray": ["cpus_per_actor", "address"],
}
yaml_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),  # nan and inf included
    st.text(max_size=20),
    st.sampled_from(["fr", "cpu", "./m", "org/model", "", "~", "\x00", "\ud800", "/" * 300, "a" * 300]),
)
yaml_values = nested(yaml_scalars, key_size=6, max_leaves=12)


@st.composite
def config_documents(draw) -> str:
    """A YAML document: real sections with odd values, raw text, or YAML tricks."""
    choice = draw(st.integers(0, 2))
    if choice == 0:
        document = {}
        for section in draw(st.lists(st.sampled_from(sorted(SECTION_KEYS)), max_size=3, unique=True)):
            keys = draw(st.lists(st.sampled_from(SECTION_KEYS[section]), max_size=3, unique=True))
            document[section] = {key: draw(yaml_values) for key in keys}
        if draw(st.booleans()):
            document["language"] = draw(yaml_values)
        return yaml.safe_dump(document, allow_unicode=draw(st.booleans()))
    if choice == 1:
        return draw(st.text(alphabet=string.printable + "&*[]{}!|>-:'\"\\é", max_size=300))
    return draw(
        st.sampled_from(
            [
                "a: &a [x, x]\nlanguage: [*a, *a, *a]\n",
                "runtime: !!python/object/apply:os.getcwd []\n",
                "inputs: {paths: !!binary aGVsbG8=}\n",
                "language: 2026-11-30\n",
                "? [a, b]\n: c\n",
                "runtime: {threads: 1}\nruntime: {threads: 2}\n",
                "language: " + "[" * 200 + "]" * 200 + "\n",
                "%YAML 1.1\n---\nlanguage: fr\n...\n---\nlanguage: de\n",
                "<<: {language: fr}\nlanguage: de\n",
                'inputs: {paths: ["\\ud800"]}\n',
                'outputs: {dir: "a\\0b"}\n',
                "runtime: {threads: 100000000, time_budget_minutes: .inf}\n",
                "inputs: {max_file_mb: 1.0e+400}\n",
                "summarization: {model: ./" + "m" * 400 + "}\n",
            ]
        )
    )


@given(document=config_documents())
def test_any_config_loads_or_fails_with_config_error(tmp_path_factory, document: str) -> None:
    path = tmp_path_factory.mktemp("conf") / "job.yaml"
    path.write_bytes(document.encode("utf-8", "surrogatepass"))
    try:
        config = load_config(path)
    except ConfigError as exc:
        assert "\n" not in str(exc)  # one line, naming the file (and the key)
        assert str(exc).startswith(str(path))
        return
    assert isinstance(config, JobConfig)
    for value in (config.language, *config.inputs.paths):
        assert unicode_problem(str(value)) is None


file_names = st.binary(min_size=1, max_size=260).filter(lambda name: b"/" not in name and b"\x00" not in name and name not in (b".", b".."))


@given(names=st.lists(file_names, max_size=5, unique=True), data=st.binary(max_size=200))
def test_any_file_names_are_planned_or_recorded(tmp_path_factory, names: list[bytes], data: bytes) -> None:
    folder = tmp_path_factory.mktemp("in")
    created = 0
    for name in names:
        for suffix in (b".txt", b".jsonl"):
            try:
                with open(os.path.join(os.fsencode(folder), name[:240] + suffix), "wb") as handle:
                    handle.write(data)
                created += 1
            except OSError:
                pass
    assume(created)
    from dataclasses import replace

    config = replace(JobConfig(), inputs=replace(JobConfig().inputs, paths=(folder,)))
    plan = make_plan(config)
    for item in [*plan.todo, *plan.unwritable]:
        result = failed_result(item, "f") if isinstance(item, ReadFailure) else ArticleResult(item.key, "ok", "x", "f")
        json.dumps(article_meta(result, target_language="en"), ensure_ascii=False).encode("utf-8")
    assert plan.found >= len(plan.todo)
