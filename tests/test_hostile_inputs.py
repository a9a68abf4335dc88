"""Whatever lands in the input folder: good articles get done, each bad one is recorded
with a reason, the run exits 1 (never a crash), and nothing is written outside."""

from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import ARTICLE_EAU, ARTICLE_VELO, write_config
from summarizer.cli import main


def meta(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def snapshot(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


def test_a_folder_full_of_junk(tmp_path: Path, tiny_models, capsys) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("Secret\nNe pas lire.\n", encoding="utf-8")
    (inbox / "velo.txt").write_text(ARTICLE_VELO, encoding="utf-8")
    (inbox / "Été à Noël — spécial (1).md").write_text(ARTICLE_EAU, encoding="utf-8")
    (inbox / "crlf.txt").write_bytes(ARTICLE_VELO.replace("\n", "\r\n").encode("utf-8"))
    (inbox / "utf16.txt").write_bytes(ARTICLE_VELO.encode("utf-16"))
    (inbox / "cp1252.txt").write_bytes("Été\nL’œuvre « coûte » 5 €.\n".encode("cp1252"))
    (inbox / "empty.txt").write_bytes(b"")
    (inbox / "blank.txt").write_text("  \n\t\n \n", encoding="utf-8")
    (inbox / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (inbox / "nul.txt").write_bytes(b"Titre\nDu texte\x00avec un NUL.\n")
    with (inbox / "huge.txt").open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    (inbox / "escape.txt").symlink_to(outside / "secret.txt")
    os.mkfifo(inbox / "pipe.txt")
    feed = [
        json.dumps({"id": "ok-1", "title": "Grève jeudi", "text": "Les syndicats appellent à la grève."}),
        "{not json",
        json.dumps({"id": "ok-1", "text": "doublon"}),
        json.dumps({"id": "../../etc/x", "text": "Le conseil municipal a voté le budget."}),
        json.dumps({"id": "/abs/path", "text": "Une enquête a été ouverte."}),
        '{"id": "nan", "text": NaN}',
        json.dumps({"id": "no-text", "title": "Sans texte"}),
    ]
    (inbox / "feed.jsonl").write_text("\n".join(feed) + "\n", encoding="utf-8")
    config = write_config(
        tmp_path / "job.yaml",
        f"""\
        inputs: {{paths: [inbox]}}
        reports: {{dir: reports}}
        runtime: {{device: cpu}}
        summarization:
          model: {tiny_models["summarizer"]}
          generation: {{max_new_tokens: 8, min_new_tokens: 2}}
        translation:
          model: {tiny_models["translator"]}
          generation: {{max_new_tokens: 8}}
        """,
    )
    outside_before = snapshot(outside)
    assert main(["run", "-c", str(config)]) == 1
    assert snapshot(outside) == outside_before
    written_elsewhere = {
        p.name for p in tmp_path.iterdir() if p.name not in {"inbox", "outside", "reports", "job.yaml"}
    }
    assert written_elsewhere == set()

    for good in ("velo", "Été à Noël — spécial (1)", "crlf", "utf16", "cp1252"):
        assert meta(inbox / f"{good}.meta.json")["status"] == "ok", good
        for suffix in ("summary.fr.txt", "summary.en.txt", "translation.en.txt"):
            assert (inbox / f"{good}.{suffix}").read_text(encoding="utf-8").strip()
    assert meta(inbox / "utf16.meta.json")["encoding"] == "utf-16"
    cp = meta(inbox / "cp1252.meta.json")
    assert cp["encoding"] == "cp1252" and "encoding_fallback" in cp["flags"]
    assert meta(inbox / "crlf.meta.json")["title"] == meta(inbox / "velo.meta.json")["title"]

    reasons = {
        "empty": "file is empty",
        "blank": "file has no text (only whitespace)",
        "image": "NUL bytes",
        "nul": "NUL bytes",
        "huge": "file is 50.0 MB, over inputs.max_file_mb (25 MB): not read",
        "escape": "outside the input folder: not followed",
        "pipe": "not a regular file (a FIFO): not opened",
    }
    for name, reason in reasons.items():
        record = meta(inbox / f"{name}.meta.json")
        assert record["status"] == "failed", name
        assert reason in record["error"], (name, record["error"])
        assert not (inbox / f"{name}.summary.fr.txt").exists()

    results = {
        r["key"]: r
        for r in map(json.loads, (inbox / "feed.results.jsonl").read_text(encoding="utf-8").splitlines())
    }
    assert results["feed.jsonl#ok-1"]["status"] == "ok"
    assert results["feed.jsonl#../../etc/x"]["status"] == "ok"
    assert results["feed.jsonl#/abs/path"]["status"] == "ok"
    assert "invalid JSON" in results["feed.jsonl#@line-2"]["error"]
    assert "duplicate id 'ok-1'" in results["feed.jsonl#@line-3"]["error"]
    assert "NaN is not allowed" in results["feed.jsonl#@line-6"]["error"]
    assert "missing 'text'" in results["feed.jsonl#no-text"]["error"]
    assert not Path("/etc/x.summary.fr.txt").exists()

    (report_file,) = (tmp_path / "reports").glob("*/report.json")
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["exit_code"] == 1
    assert report["counts"]["failed"] == len(reasons) + 4
    assert {a["key"] for a in report["articles"] if a["status"] == "failed"} >= {
        f"{name}.txt" for name in reasons
    }
    err = capsys.readouterr().err
    assert "ERROR failed: pipe.txt: not a regular file (a FIFO): not opened" in err
    assert "Traceback" not in err

    # The next night: the good ones are skipped, the junk is reported again.
    assert main(["run", "-c", str(config)]) == 1
    assert "0 done, 8 skipped" in capsys.readouterr().err


def tiny_config(tmp_path: Path, tiny_models, inputs: str = "inbox", extra: str = "") -> Path:
    return write_config(
        tmp_path / "job.yaml",
        f"""\
        inputs: {{paths: [{inputs}]}}
        reports: {{dir: reports}}
        runtime: {{device: cpu}}
        summarization:
          model: {tiny_models["summarizer"]}
          generation: {{max_new_tokens: 6, min_new_tokens: 2}}
        translation:
          model: {tiny_models["translator"]}
          generation: {{max_new_tokens: 6}}
        {extra}""",
    )


def last_report(tmp_path: Path) -> dict:
    return meta(sorted((tmp_path / "reports").glob("*/report.json"))[-1])


def test_names_and_paths_that_cannot_be_written_fail_alone(tmp_path: Path, tiny_models, capsys) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "velo.txt").write_text(ARTICLE_VELO, encoding="utf-8")
    long_name = "é" * 120 + ".txt"  # 244 bytes: its output names would pass 255
    (inbox / long_name).write_text(ARTICLE_VELO, encoding="utf-8")
    with open(os.path.join(os.fsencode(inbox), b"caf\xe9.txt"), "wb") as handle:
        handle.write(ARTICLE_EAU.encode("cp1252"))
    (inbox / "blocked.txt").write_text(ARTICLE_EAU, encoding="utf-8")
    (inbox / "blocked.summary.en.txt").mkdir()  # a folder where an output goes
    os.mkfifo(inbox / "piped.meta.json")  # reading it back must not block the night
    (inbox / "piped.txt").write_text(ARTICLE_EAU, encoding="utf-8")
    config = tiny_config(tmp_path, tiny_models)
    assert main(["run", "-c", str(config)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert meta(inbox / "velo.meta.json")["status"] == "ok"
    errors = {a["key"]: a.get("error", "") for a in last_report(tmp_path)["articles"]}
    assert "its name is too long" in errors[long_name]
    assert "its name is not valid UTF-8; rename it" in errors["caf%E9.txt"]
    assert "its outputs cannot be written" in errors["blocked.txt"] and "Is a directory" in errors["blocked.txt"]
    assert errors["piped.txt"] == ""  # done: the FIFO was replaced by its meta file
    assert meta(inbox / "piped.meta.json")["status"] == "ok"
    assert not [p for p in inbox.iterdir() if p.name.startswith("é") and p.name != long_name]


def test_an_output_folder_symlinked_elsewhere_is_not_followed(tmp_path: Path, tiny_models) -> None:
    (tmp_path / "inbox" / "day").mkdir(parents=True)
    (tmp_path / "inbox" / "day" / "velo.txt").write_text(ARTICLE_VELO, encoding="utf-8")
    (tmp_path / "inbox" / "eau.md").write_text(ARTICLE_EAU, encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "day").symlink_to(elsewhere)
    config = tiny_config(tmp_path, tiny_models, extra="outputs: {dir: out}\n")
    assert main(["run", "-c", str(config)]) == 1
    assert list(elsewhere.iterdir()) == []
    assert meta(tmp_path / "out" / "eau.meta.json")["status"] == "ok"
    errors = {a["key"]: a.get("error", "") for a in last_report(tmp_path)["articles"]}
    assert "it is a symbolic link or not a folder" in errors["day/velo.txt"]


def test_a_record_removed_from_a_feed_is_removed_from_its_results(tmp_path: Path, tiny_models) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    records = [
        {"id": "a", "title": "Grève jeudi", "text": "Les syndicats appellent à la grève jeudi prochain."},
        {"id": "b", "title": "Budget", "text": "Le conseil municipal a voté le budget mardi soir."},
    ]
    feed = inbox / "feed.jsonl"
    feed.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    config = tiny_config(tmp_path, tiny_models)
    assert main(["run", "-c", str(config)]) == 0
    results = inbox / "feed.results.jsonl"
    assert [json.loads(line)["id"] for line in results.read_text(encoding="utf-8").splitlines()] == ["a", "b"]
    feed.write_text(json.dumps(records[1], ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(["run", "-c", str(config)]) == 0
    assert [json.loads(line)["id"] for line in results.read_text(encoding="utf-8").splitlines()] == ["b"]
    assert last_report(tmp_path)["counts"]["skipped"] == 1


def _break_the_html_extractor(monkeypatch) -> None:
    """What a plain install without lxml_html_clean looks like to trafilatura."""
    import sys

    for name in list(sys.modules):
        if name.split(".")[0] in ("trafilatura", "justext", "lxml_html_clean") or name == "lxml.html.clean":
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "lxml_html_clean", None)


PAGE = (
    "<html><head><title>Grève à la SNCF</title></head><body><article>"
    "<p>Les syndicats de la SNCF appellent à une nouvelle journée de grève jeudi prochain, "
    "contre la réforme présentée par le gouvernement en janvier.</p></article></body></html>"
)


def test_a_broken_html_extractor_fails_the_pages_not_the_night(tmp_path: Path, tiny_models, monkeypatch, capsys) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "velo.txt").write_text(ARTICLE_VELO, encoding="utf-8")
    (inbox / "page.html").write_text(PAGE, encoding="utf-8")
    config = tiny_config(tmp_path, tiny_models)
    _break_the_html_extractor(monkeypatch)
    assert main(["check", "-c", str(config)]) == 78
    err = capsys.readouterr().err
    assert "cannot read HTML pages: a library is missing" in err and "reinstall summarizer" in err
    assert main(["run", "-c", str(config)]) == 1
    assert meta(inbox / "velo.meta.json")["status"] == "ok"
    assert "cannot read HTML pages: a library is missing" in meta(inbox / "page.meta.json")["error"]
    assert "Traceback" not in capsys.readouterr().err
