"""A year of nights on a shared box (issue 21): nothing redone for nothing, nothing hidden.

Each test reproduces one way the job used to redo work, hide a failure or step outside
its folders, and checks the fix."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import edit_config, written_earlier

from summarizer.cli import main


def _feed(folder: Path, count: int) -> Path:
    feed = folder / "depeches.jsonl"
    records = [
        {"id": f"r{n}", "title": f"Dépêche {n}", "text": f"Le conseil a voté {n} fois."} for n in range(count)
    ]
    feed.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    written_earlier(folder)
    return feed


def test_a_feed_whose_results_outgrow_ten_times_the_input_limit_is_skipped_the_next_night(
    job_config, articles, capsys
) -> None:
    feed = _feed(articles, 110)
    assert feed.stat().st_size < 10_000 < 10 * 1024
    edit_config(job_config, {"inputs": {"max_file_mb": 0.01}, "summarization": {"generation": {"max_new_tokens": 4}},
                             "translation": {"generation": {"max_new_tokens": 4}}})
    assert main(["run", "-c", str(job_config)]) == 0
    results = articles / "depeches.results.jsonl"
    assert results.stat().st_size > 10 * 0.01 * 1024 * 1024  # the job's own file, past 10 x the input limit
    capsys.readouterr()
    assert main(["run", "-c", str(job_config)]) == 0
    assert "0 done, 112 skipped" in capsys.readouterr().err  # the 110 records and the two articles


def test_two_configs_with_other_settings_cannot_share_outputs(job_config, articles, tmp_path, capsys) -> None:
    shared = {"outputs": {"dir": str(tmp_path / "shared")}}
    edit_config(job_config, shared)
    other = edit_config(job_config, {"summarization": {"generation": {"max_new_tokens": 5}}}, to=tmp_path / "other.yaml")
    assert main(["run", "-c", str(job_config)]) == 0
    capsys.readouterr()
    for command in ("check", "run"):
        assert main([command, "-c", str(other)]) == 78, command
        err = capsys.readouterr().err
        assert f"were written by {job_config} with other settings" in err and "its own outputs.dir" in err
    assert main(["run", "-c", str(job_config)]) == 0  # the first config's outputs are intact: nothing to redo
    assert "0 done, 2 skipped" in capsys.readouterr().err


def test_a_renamed_config_takes_its_outputs_over(job_config, articles, tmp_path, capsys) -> None:
    assert main(["run", "-c", str(job_config)]) == 0
    renamed = job_config.rename(tmp_path / "renamed.yaml")
    edit_config(renamed, {"summarization": {"generation": {"max_new_tokens": 5}}})
    assert main(["run", "-c", str(renamed)]) == 0
    assert "2 done, 0 skipped" in capsys.readouterr().err


def test_own_folders_inside_an_input_folder_are_refused(job_config, articles, capsys) -> None:
    for key in ("reports", "outputs"):
        config = edit_config(job_config, {key: {"dir": str(articles / "own")}}, to=job_config.with_name(f"{key}.yaml"))
        assert main(["check", "-c", str(config)]) == 78
        err = capsys.readouterr().err
        assert f"{key}.dir: {articles / 'own'} is inside inputs.paths[0]" in err and "would read its own files" in err


def test_leftover_single_model_keys_are_named_with_where_they_go(job_config, tiny_models, capsys) -> None:
    from conftest import DELETE

    models = {"fr": str(tiny_models["summarizer"])}
    edit_config(job_config, {"summarization": {"model": DELETE, "convert_pickle_weights": True, "models": models}})
    assert main(["check", "-c", str(job_config)]) == 78
    err = capsys.readouterr().err
    assert "summarization.convert_pickle_weights: is for summarization.model, which summarization.models replaces" in err
    assert "summarization.models.fr.convert_pickle_weights" in err


def test_a_night_whose_config_does_not_load_is_recorded_and_status_is_critical(job_config, tmp_path, capsys) -> None:
    edit_config(job_config, {"reports": {"dir": str(tmp_path / "reports")}})
    assert main(["run", "-c", str(job_config)]) == 0
    edit_config(job_config, {"translation": {"model": str(tmp_path / "mistyped-folder")}})
    capsys.readouterr()
    assert main(["run", "-c", str(job_config)]) == 78
    digest = next((tmp_path / "reports").glob("digest-*.md")).read_text(encoding="utf-8")
    assert "exit 78" in digest.splitlines()[0] and "exit 0" not in digest.splitlines()[0]
    assert main(["status", "-c", str(job_config)]) == 2
    assert "mistyped-folder" in capsys.readouterr().out


def test_runs_are_ordered_by_their_sequence_and_a_run_from_the_future_is_reported(job_config, tmp_path, capsys) -> None:
    from datetime import datetime, timedelta, timezone

    from summarizer.reporting.history import last_run_of, record_run

    reports = tmp_path / "reports"
    edit_config(job_config, {"reports": {"dir": str(reports)}})
    ahead = (datetime.now(timezone.utc) + timedelta(days=700)).isoformat(timespec="seconds")
    source = str(job_config.resolve())
    record_run(reports, {"started_at": ahead, "finished_at": ahead, "exit_code": 0, "config": {"path": source}})
    assert main(["status", "-c", str(job_config)]) == 2  # ended "in the future": the clock is suspect
    assert "in the future" in capsys.readouterr().err
    assert main(["run", "-c", str(job_config)]) == 0  # the clock is right again
    assert last_run_of(reports, source).finished_at < datetime.now(timezone.utc) + timedelta(minutes=1)
    assert main(["status", "-c", str(job_config)]) == 0


def test_keys_are_unique_by_construction() -> None:
    from summarizer.records import file_key, line_key, record_key

    feed = file_key("feed.jsonl")
    keys = {
        line_key(feed, 2),  # a broken line 2
        record_key(feed, "line-2"),  # a record whose id looks like it
        record_key(feed, "@line-2"),
        record_key(feed, "%40line-2"),
        file_key("feed.jsonl#x.txt"),  # a file named like a record
        record_key(feed, "x.txt"),
    }
    assert len(keys) == 6


def test_a_broken_line_and_a_record_named_after_it_are_both_reported(job_config, articles, capsys) -> None:
    feed = articles / "feed.jsonl"
    feed.write_text('{"id": "line-2", "title": "T", "text": "Le conseil a voté."}\n{broken\n', encoding="utf-8")
    (articles / "feed.jsonl#line-2.txt").write_text("Un titre\nLe conseil a voté mardi.\n", encoding="utf-8")
    written_earlier(articles)
    assert main(["run", "-c", str(job_config)]) == 1
    err = capsys.readouterr().err
    assert "4 done" in err and "1 failed" in err  # two articles, the record and the file; the broken line
    assert main(["run", "-c", str(job_config)]) == 1
    assert "1 failed" in capsys.readouterr().err  # reported again, every night


def test_swapping_an_article_for_a_link_while_it_is_read_never_reads_the_link(tmp_path) -> None:
    import os
    import threading

    from summarizer.io.readers import discover, read_stamped
    from summarizer.records import Article

    inputs, outside = tmp_path / "inputs", tmp_path / "secret.txt"
    inputs.mkdir()
    outside.write_text("SECRET TITLE\nroot only\n", encoding="utf-8")
    article = inputs / "a.txt"
    article.write_text("Un titre\nLe conseil a voté.\n", encoding="utf-8")
    (source,) = discover([inputs], (".txt",))
    stop = threading.Event()

    def swap() -> None:  # bounded: until the reads are done
        spare = inputs / ".spare"
        while not stop.is_set():
            os.symlink(outside, spare)
            os.replace(spare, article)  # now a link
            spare.write_text("Un titre\nLe conseil a voté.\n", encoding="utf-8")
            os.replace(spare, article)  # a file again

    swapper = threading.Thread(target=swap, daemon=True)
    swapper.start()
    try:
        for _ in range(3000):
            items, _ = read_stamped(source)
            for item in items:
                assert not (isinstance(item, Article) and "SECRET" in (item.title or "") + item.text)
    finally:
        stop.set()
        swapper.join(5)


def _swapping(folder: Path, elsewhere: Path):
    """A thread that keeps swapping ``folder`` for a link to ``elsewhere`` and back
    (bounded: until the returned event is set)."""
    import contextlib
    import os
    import shutil
    import threading

    stop = threading.Event()

    def swap() -> None:
        real = folder.with_name(".real")
        while not stop.is_set():
            with contextlib.suppress(OSError):  # the job may create the folder again meanwhile
                os.rename(folder, real)
                os.symlink(elsewhere, folder)  # now a link
                os.unlink(folder)
            while os.path.isdir(real):  # a folder again (the job may have made one meanwhile)
                with contextlib.suppress(OSError):
                    if not os.path.islink(folder) and os.path.isdir(folder):
                        shutil.rmtree(folder)
                    os.rename(real, folder)

    swapper = threading.Thread(target=swap, daemon=True)
    swapper.start()
    return stop, swapper


def test_swapping_a_folder_on_the_way_for_a_link_never_reads_through_it(tmp_path) -> None:
    from summarizer.io.readers import discover, read_stamped
    from summarizer.records import Article

    inputs, outside = tmp_path / "inputs", tmp_path / "outside"
    (inputs / "day").mkdir(parents=True)
    outside.mkdir()
    (outside / "a.txt").write_text("SECRET TITLE\nroot only\n", encoding="utf-8")
    (inputs / "day" / "a.txt").write_text("Un titre\nLe conseil a voté.\n", encoding="utf-8")
    (source,) = discover([inputs], (".txt",))
    stop, swapper = _swapping(inputs / "day", outside)
    read = 0
    try:
        for _ in range(3000):
            for item in read_stamped(source)[0]:
                assert not (isinstance(item, Article) and "SECRET" in (item.title or "") + item.text)
                read += isinstance(item, Article)
    finally:
        stop.set()
        swapper.join(5)
    assert read  # the article itself was read whenever its folder was one


def test_swapping_an_output_folder_for_a_link_while_written_never_writes_through_it(tmp_path) -> None:
    from summarizer.errors import OutputPathError
    from summarizer.io.folders import write_text_at
    from summarizer.io.layout import OutputLocation, open_output_folder

    out, victim = tmp_path / "out", tmp_path / "victim"
    (out / "day").mkdir(parents=True)
    victim.mkdir()
    location = OutputLocation(folder=out / "day", name="a", root=out)
    stop, swapper = _swapping(out / "day", victim)
    written = 0
    try:
        for _ in range(3000):
            try:
                with open_output_folder(location) as folder:
                    write_text_at(folder, location.meta_name, "{}\n", location.meta)
                    written += 1
            except OutputPathError:
                pass  # the folder was a link at that moment: refused, nothing written
    finally:
        stop.set()
        swapper.join(5)
    assert written and list(victim.iterdir()) == []


def test_a_night_with_its_folders_swapped_for_links_stays_inside_and_never_crashes(job_config, articles, tmp_path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "velo.txt").write_text("SECRET TITLE\nroot only\n", encoding="utf-8")
    stop, swapper = _swapping(articles / "2026-11-28", victim)
    try:
        code = main(["run", "-c", str(job_config), "--force"])
    finally:
        stop.set()
        swapper.join(5)
    assert code in (0, 1)  # an article may fail (its folder was a link when read): never 70
    assert json.loads((articles / "eau.meta.json").read_text(encoding="utf-8"))["status"] == "ok"  # the night ran
    assert sorted(p.name for p in victim.iterdir()) == ["velo.txt"]
    assert "SECRET" not in "".join(p.read_text(encoding="utf-8") for p in articles.rglob("*.json"))


def test_stale_temp_cleanup_never_follows_a_linked_folder(tmp_path) -> None:
    import os

    from pathlib import PurePath

    from summarizer.io.folders import TEMP_SUFFIX, remove_stale_temp_files

    victim, link = tmp_path / "victim", tmp_path / "outputs" / "sub"
    victim.mkdir()
    link.parent.mkdir()
    (victim / f".x{TEMP_SUFFIX}").write_text("not ours", encoding="utf-8")
    os.symlink(victim, link)
    assert remove_stale_temp_files([(link.parent, PurePath("sub"))]) == 0
    assert (victim / f".x{TEMP_SUFFIX}").exists()
    own = tmp_path / "outputs" / "own"
    own.mkdir()
    (own / f".y{TEMP_SUFFIX}").write_text("ours", encoding="utf-8")
    assert remove_stale_temp_files([(link.parent, PurePath("own"))]) == 1


def test_the_time_budget_and_a_stop_also_end_the_reading(job_config, articles, monkeypatch, capsys) -> None:
    from summarizer.io import readers

    read = readers.read_stamped

    def slow_read(source, limits=readers.ReadLimits()):  # a page that takes long to extract
        import time

        time.sleep(0.3)
        return read(source, limits)

    monkeypatch.setattr("summarizer.planning.read_stamped", slow_read)
    edit_config(job_config, {"runtime": {"time_budget_minutes": 0.004}})  # 0.24 s
    assert main(["run", "-c", str(job_config)]) == 75
    err = capsys.readouterr().err
    assert "time budget" in err and "0 done" in err
    edit_config(job_config, {"runtime": {"time_budget_minutes": 60}})
    assert main(["run", "-c", str(job_config)]) == 0
    assert "2 done" in capsys.readouterr().err


def test_a_huge_html_page_is_refused_before_extraction(articles, tmp_path) -> None:
    from summarizer.io.readers import MAX_HTML_BYTES, discover, read_stamped
    from summarizer.records import ReadFailure

    page = tmp_path / "pages" / "big.html"
    page.parent.mkdir()
    page.write_text("<html><body>" + "<p>Le conseil a voté.</p>" * (MAX_HTML_BYTES // 20) + "</body></html>")
    (source,) = discover([page.parent], (".html",))
    (item,), _ = read_stamped(source)
    assert isinstance(item, ReadFailure) and "MB of HTML, over the 2 MB the extractor is given" in item.error


def test_a_page_that_failed_to_read_is_not_extracted_again_while_unchanged(job_config, articles, monkeypatch, capsys) -> None:
    import os

    import trafilatura

    page = articles / "menu.html"
    page.write_text("<html><body><nav><a href='/'>Accueil</a></nav></body></html>", encoding="utf-8")
    written_earlier(articles)
    extractions = []
    real = trafilatura.bare_extraction

    def counted(*args, **kwargs):
        extractions.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(trafilatura, "bare_extraction", counted)
    assert main(["run", "-c", str(job_config)]) == 1
    assert len(extractions) == 1
    capsys.readouterr()
    assert main(["run", "-c", str(job_config)]) == 1  # still failed, still reported
    out = capsys.readouterr()
    assert len(extractions) == 1  # not extracted again
    assert "menu.html: no article text found in the HTML page" in out.err
    assert "1 input(s) that failed to read are unchanged since" in out.err
    os.utime(page)  # touched, same bytes: still not extracted
    assert main(["run", "-c", str(job_config)]) == 1
    assert len(extractions) == 1
    assert main(["run", "-c", str(job_config), "--force"]) == 1
    assert len(extractions) == 2
    page.write_text(page.read_text(encoding="utf-8") + "<!-- edited -->", encoding="utf-8")
    written_earlier(articles)
    assert main(["run", "-c", str(job_config)]) == 1
    assert len(extractions) == 3  # changed: read again


def test_a_page_that_failed_for_want_of_a_library_is_read_again(job_config, articles, monkeypatch) -> None:
    import trafilatura

    (articles / "page.html").write_text("<html><body><p>" + "Le conseil a voté le budget. " * 20 + "</p></body></html>", encoding="utf-8")
    written_earlier(articles)
    real = trafilatura.bare_extraction

    def missing(*args, **kwargs):
        raise ImportError("lxml.html.clean module is now a separate project")

    monkeypatch.setattr(trafilatura, "bare_extraction", missing)
    assert main(["run", "-c", str(job_config)]) == 1
    meta = json.loads((articles / "page.meta.json").read_text(encoding="utf-8"))
    assert meta["status"] == "failed" and "reader" not in meta  # the machine's fault, not the page's
    monkeypatch.setattr(trafilatura, "bare_extraction", real)
    assert main(["run", "-c", str(job_config)]) == 0
    assert json.loads((articles / "page.meta.json").read_text(encoding="utf-8"))["status"] == "ok"


def test_an_output_folder_linked_elsewhere_later_never_stops_the_night(job_config, articles, tmp_path, capsys) -> None:
    import os
    import shutil

    edit_config(job_config, {"outputs": {"dir": str(tmp_path / "out")}})
    assert main(["run", "-c", str(job_config)]) == 0
    moved = tmp_path / "other-disk"
    shutil.move(tmp_path / "out" / "2026-11-28", moved)
    os.symlink(moved, tmp_path / "out" / "2026-11-28")
    before = (moved / "velo.meta.json").read_text(encoding="utf-8")
    os.utime(articles / "2026-11-28" / "velo.txt")  # touched: its new stamp would be recorded
    capsys.readouterr()
    assert main(["run", "-c", str(job_config)]) == 0
    assert (moved / "velo.meta.json").read_text(encoding="utf-8") == before  # nothing written through the link
    assert "is a symbolic link or not a folder; summarizer does not follow links" in capsys.readouterr().err


def test_an_output_root_that_is_gone_stops_the_run_rather_than_failing_each_article(tmp_path) -> None:
    import os
    from pathlib import PurePath

    import pytest

    from summarizer.errors import OutputPathError, OutputWriteError
    from summarizer.io.folders import output_folder

    os.symlink(tmp_path / "unmounted", tmp_path / "out")
    with pytest.raises(OutputWriteError) as stopped, output_folder(tmp_path / "out", PurePath("day")):
        pass
    assert not isinstance(stopped.value, OutputPathError) and "the run stops" in str(stopped.value)


def test_eval_bootstrap_samples_are_bounded(job_config, tmp_path, capsys) -> None:
    refs = tmp_path / "refs.jsonl"
    refs.write_text("", encoding="utf-8")
    assert main(["eval", "-c", str(job_config), "--refs", str(refs), "--samples", "100000000"]) == 2
    assert "must be at most 100,000" in capsys.readouterr().err


def test_a_file_name_cannot_forge_a_log_or_digest_line(job_config, articles, tmp_path, capsys) -> None:
    forged = "x\n2026-12-03 02:30:00 INFO 9 found, 9 done, 0 skipped, 0 failed\n**Last run: exit 0**.txt"
    (articles / forged).write_text("", encoding="utf-8")  # empty: it fails, and its name is printed
    edit_config(job_config, {"reports": {"dir": str(tmp_path / "reports")}})
    assert main(["run", "-c", str(job_config)]) == 1
    err = capsys.readouterr().err
    assert not any(line.startswith(("2026-12-03 02:30:00", "**Last run")) for line in err.splitlines())
    assert "x%0A2026-12-03 02:30:00 INFO 9 found" in err
    digest = next((tmp_path / "reports").glob("digest-*.md")).read_text(encoding="utf-8")
    assert not any(line.startswith("**Last run: exit 0**") for line in digest.splitlines())


def test_no_log_message_spans_two_lines_whatever_path_it_names() -> None:
    import logging

    from summarizer.cli import TextLogFormatter

    record = logging.LogRecord(
        "summarizer", logging.ERROR, __file__, 1, "cannot write %s: %s", ("out/x\nINFO all done", "full\r"), None
    )
    line = TextLogFormatter().format(record)
    assert line.endswith("ERROR cannot write out/x%0AINFO all done: full%0D") and "\n" not in line
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    assert "Traceback (most recent call last):\n" in TextLogFormatter().format(record)  # a bug's own lines


def test_a_dry_run_shows_the_articles_whose_outputs_would_collide(job_config, articles, capsys) -> None:
    (articles / "2026-11-28" / "velo.md").write_text("Un titre\nLe conseil a voté.\n", encoding="utf-8")  # velo.txt's outputs
    written_earlier(articles)
    assert main(["run", "--dry-run", "-c", str(job_config)]) == 0
    out = capsys.readouterr().out
    assert "would fail     2026-11-28/velo.txt: its outputs would overwrite those of" in out
    assert "1 would fail" in out
    assert main(["run", "-c", str(job_config)]) == 1  # what the run then does


def test_one_configs_keep_runs_never_prunes_another_configs_history(job_config, tmp_path, capsys) -> None:
    from summarizer.reporting.history import recorded_runs

    reports = tmp_path / "reports"
    b = edit_config(job_config, {"reports": {"dir": str(reports), "keep_runs": 5}})
    a = edit_config(b, {"reports": {"keep_runs": 1}, "outputs": {"dir": str(tmp_path / "a-out")}}, to=tmp_path / "a.yaml")
    for _ in range(3):
        assert main(["run", "--force", "-c", str(b)]) == 0
    assert main(["run", "-c", str(a)]) == 0
    assert main(["run", "--force", "-c", str(a)]) == 0
    by_config = [entry.config for entry in recorded_runs(reports) if not entry.idle]
    assert by_config.count(str(b.resolve())) == 3 and by_config.count(str(a.resolve())) == 1


def test_the_morning_digest_puts_a_bad_night_and_its_failures_first(job_config, articles, tmp_path) -> None:
    (articles / "vide.txt").write_text("", encoding="utf-8")
    edit_config(job_config, {"reports": {"dir": str(tmp_path / "reports")}})
    assert main(["run", "-c", str(job_config)]) == 1
    markdown = next((tmp_path / "reports").glob("digest-*.md")).read_text(encoding="utf-8")
    lines = markdown.splitlines()
    assert lines[0].startswith("**⚠ NOT OK: Last run (") and "UTC" in lines[0]
    assert lines.index("## Failed") < lines.index("## French (fr)")
    assert "Links are relative to the reports folder" in markdown
    page = next((tmp_path / "reports").glob("digest-*.html")).read_text(encoding="utf-8")
    assert '<p class="last bad">' in page and page.index("<h2>Failed</h2>") < page.index("<h2>French (fr)</h2>")


def test_under_nohup_a_closed_terminal_does_not_stop_the_run() -> None:
    import signal

    from summarizer.stopping import SignalHandlers, StopSignal

    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with SignalHandlers(StopSignal()):
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_outputs_of_an_older_version_never_count_as_another_configs(job_config, articles, tmp_path, capsys) -> None:
    edit_config(job_config, {"outputs": {"dir": str(tmp_path / "shared")}})
    other = edit_config(job_config, {"summarization": {"generation": {"max_new_tokens": 5}}}, to=tmp_path / "other.yaml")
    assert main(["run", "-c", str(job_config)]) == 0
    for meta in (tmp_path / "shared").rglob("*.meta.json"):
        record = json.loads(meta.read_text(encoding="utf-8"))
        meta.write_text(json.dumps({**record, "summarizer_version": "0.0.1"}), encoding="utf-8")
    assert main(["run", "-c", str(other)]) == 0  # an upgrade redoes them once, whoever runs first
