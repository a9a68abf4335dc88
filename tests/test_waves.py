"""Waves cut by cost as well as by count (issue 28, item 10): one huge article never holds
up the small ones. Small articles are processed and written first; an article longer than
``runtime.wave_chars`` goes in a wave of its own, after every shorter one; a night stopped
while it is in progress keeps everything else and leaves it, named, for the next night."""

from __future__ import annotations

import json
import sys
from pathlib import Path, PurePosixPath

import pytest
from conftest import assert_complete, edit_config, many_articles, metas, operations_config, written_earlier
from hypothesis import given
from hypothesis import strategies as st

from summarizer.cli import main
from summarizer.executors.execution import Wave, model_chars, plan_waves
from summarizer.records import Article, ReadFailure, SourceFile
from summarizer.routing import Route

HUGE_SENTENCE = "Le marathon de Brest a réuni des milliers de coureurs sous la pluie battante. "


def article(key: str, chars: int, route: Route | None = None) -> Article:
    source = SourceFile(Path(f"/in/{key}"), Path("/in"), PurePosixPath(key), "text", key)
    return Article(key, source, None, "x" * chars, "sha", route=route)


def keys(waves: list[Wave]) -> list[list[str]]:
    return [[item.key for item in wave.items] for wave in waves]


# The wave plan, a pure function.


def test_waves_are_cut_by_count_in_plan_order() -> None:
    items = [article(f"a{n}", 10) for n in range(5)]
    assert keys(plan_waves(items, max_articles=2, max_chars=1000)) == [["a0", "a1"], ["a2", "a3"], ["a4"]]


def test_waves_are_cut_by_characters_too() -> None:
    items = [article(f"a{n}", 40) for n in range(5)]
    waves = plan_waves(items, max_articles=64, max_chars=100)
    assert keys(waves) == [["a0", "a1"], ["a2", "a3"], ["a4"]]
    assert not any(wave.alone for wave in waves)


def test_an_article_longer_than_the_budget_is_alone_after_every_shorter_one_shortest_first() -> None:
    items = [article("s1", 30), article("h300", 300), article("s2", 30), article("h200", 200), article("s3", 30)]
    waves = plan_waves(items, max_articles=64, max_chars=100)
    assert keys(waves) == [["s1", "s2", "s3"], ["h200"], ["h300"]]
    assert [wave.alone for wave in waves] == [False, True, True]


def test_an_article_exactly_at_the_budget_is_not_alone() -> None:
    waves = plan_waves([article("a", 100), article("b", 1)], max_articles=64, max_chars=100)
    assert keys(waves) == [["a"], ["b"]] and not any(wave.alone for wave in waves)


def test_zero_means_no_limit() -> None:
    items = [article("a", 10), article("b", 5000), article("c", 10)]
    assert keys(plan_waves(items, max_articles=0, max_chars=0)) == [["a", "b", "c"]]
    assert keys(plan_waves(items, max_articles=0, max_chars=100)) == [["a", "c"], ["b"]]
    assert keys(plan_waves(items, max_articles=1, max_chars=0)) == [["a"], ["b"], ["c"]]


def test_inputs_no_model_reads_cost_nothing() -> None:
    source = article("f", 0).source
    failure = ReadFailure("f", source, "x" * 5000)
    unsupported = article("de", 5000, Route("de", None, None, False, "en", skip_reason="no model for de"))
    assert model_chars(failure) == 0 and model_chars(unsupported) == 0
    titled = Article("t", source, "Un titre", "x" * 90, "sha")
    assert model_chars(titled) == len("Un titre") + 90
    assert keys(plan_waves([failure, unsupported, article("a", 50)], max_articles=64, max_chars=100)) == [["f", "de", "a"]]


@given(
    sizes=st.lists(st.integers(min_value=0, max_value=400), max_size=30),
    max_articles=st.integers(min_value=0, max_value=8),
    max_chars=st.integers(min_value=0, max_value=300),
)
def test_every_article_is_in_one_wave_within_the_limits(sizes: list[int], max_articles: int, max_chars: int) -> None:
    items = [article(f"a{n}", size) for n, size in enumerate(sizes)]
    waves = plan_waves(items, max_articles, max_chars)
    planned = [item.key for wave in waves for item in wave.items]
    assert sorted(planned) == sorted(item.key for item in items)
    assert all(wave.items for wave in waves)
    together = [wave for wave in waves if not wave.alone]
    alone = [wave for wave in waves if wave.alone]
    assert waves == together + alone  # the long ones come last
    shared = [item.key for wave in together for item in wave.items]
    assert shared == [item.key for item in items if item.key in set(shared)]  # plan order kept
    for wave in together:
        assert not max_articles or len(wave.items) <= max_articles
        assert not max_chars or sum(map(model_chars, wave.items)) <= max_chars
    lengths = [model_chars(wave.items[0]) for wave in alone]
    assert all(len(wave.items) == 1 and model_chars(wave.items[0]) > max_chars > 0 for wave in alone)
    assert lengths == sorted(lengths)


# Nights through the command line.


def huge_night_config(tmp_path: Path, tiny_models) -> Path:
    """Four small articles (460 characters each) and one of about 4,000, in one night whose
    waves hold 64 articles or 2,000 characters."""
    articles = tmp_path / "articles"
    many_articles(articles, 4)
    (articles / "a01-marathon.txt").write_text("Le marathon de Brest\n" + HUGE_SENTENCE * 50, encoding="utf-8")
    written_earlier(articles)
    config = operations_config(tmp_path, tiny_models)
    return edit_config(config, {"runtime": {"wave_articles": 64, "wave_chars": 2000}})


def stop_on_the_huge_article(monkeypatch, seen: list[set[str]], folder: Path) -> None:
    """The first engine call that reads the huge article requests a stop (as SIGTERM does),
    after noting which articles were written by then."""
    from summarizer.models.base import BaseEngine

    run = BaseEngine.run

    def run_until_huge(self, requests, *args, **kwargs):
        if any("Brest" in request.text for request in requests) and not seen:
            seen.append(set(metas(folder)))
            self.stop.request("received SIGTERM", 143)
        return run(self, requests, *args, **kwargs)

    monkeypatch.setattr(BaseEngine, "run", run_until_huge)


def test_a_night_stopped_during_a_huge_article_keeps_the_small_ones_and_leaves_it_for_the_next(
    tmp_path, tiny_models, monkeypatch, capsys
) -> None:
    config = huge_night_config(tmp_path, tiny_models)
    articles = tmp_path / "articles"
    small = {f"a{n:02d}.meta.json" for n in range(4)}
    seen: list[set[str]] = []
    stop_on_the_huge_article(monkeypatch, seen, articles)
    assert main(["run", "-c", str(config)]) == 143
    err = capsys.readouterr().err
    assert seen == [small]  # every small article was written before the huge one began
    first = metas(articles)
    assert set(first) == small  # and the huge one is left
    assert_complete(articles)
    report = json.loads(next((tmp_path / "reports").glob("*/report.json")).read_text(encoding="utf-8"))
    assert report["counts"]["done"] == 4 and report["counts"]["left"] == 1
    line = next(line for line in err.splitlines() if "a01-marathon.txt" in line and "WARNING" in line)
    assert "over runtime.wave_chars (2,000)" in line and "left for the next run" in line
    assert "runtime.time_budget_minutes" in line and "inputs.max_article_chars" in line
    monkeypatch.undo()
    assert main(["run", "-c", str(config)]) == 0  # the next night finishes it, redoing nothing
    assert "1 done, 4 skipped" in capsys.readouterr().err
    second = metas(articles)
    assert set(second) == small | {"a01-marathon.meta.json"}
    assert all(second[name] == stamp for name, stamp in first.items())
    assert_complete(articles)


def test_a_feeds_results_are_on_disk_before_a_huge_record_begins(tmp_path, tiny_models, monkeypatch) -> None:
    """A night killed outright during the huge record (the watchdog, SIGKILL) keeps the
    records finished before it: their results file is written before it starts."""
    articles = tmp_path / "articles"
    articles.mkdir()
    records = [{"id": f"r{n}", "title": f"Budget {n}", "text": f"Le conseil a voté le budget {n} mardi soir."} for n in range(3)]
    records.insert(1, {"id": "huge", "title": "Le marathon de Brest", "text": HUGE_SENTENCE * 50})
    feed = articles / "depeches.jsonl"
    feed.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    written_earlier(articles)
    config = edit_config(operations_config(tmp_path, tiny_models), {"runtime": {"wave_articles": 64, "wave_chars": 2000}})
    from summarizer.models.base import BaseEngine

    run, on_disk = BaseEngine.run, []

    def run_noting_the_results(self, requests, *args, **kwargs):
        if any("Brest" in request.text for request in requests) and not on_disk:
            results = articles / "depeches.results.jsonl"
            lines = results.read_text(encoding="utf-8").splitlines() if results.exists() else []
            on_disk.append(sorted(json.loads(line)["id"] for line in lines))
        return run(self, requests, *args, **kwargs)

    monkeypatch.setattr(BaseEngine, "run", run_noting_the_results)
    assert main(["run", "-c", str(config)]) == 0
    assert on_disk == [["r0", "r1", "r2"]]
    lines = (articles / "depeches.results.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["r0", "huge", "r1", "r2"]  # input order, all done


# The Ray executor shares the wave plan: an article over the budget is a batch of its own, after the rest.


def test_ray_runs_the_articles_that_share_waves_then_each_long_one_alone() -> None:
    from summarizer.executors.ray import ray_parts
    from summarizer.processing import ArticleWork

    items = [article("s1", 30), article("h300", 300), article("s2", 30), article("h200", 200)]
    work = [ArticleWork(item, None, None) for item in reversed(items)]  # type: ignore[arg-type]
    parts = ray_parts(plan_waves(items, max_articles=1, max_chars=100), work, batch_articles=8)
    assert [([w.article.key for w in part], size, alone) for part, size, alone in parts] == [
        (["s1", "s2"], 8, False),  # plan order, Ray's own batch size
        (["h200", "h300"], 1, True),  # then one at a time, the shortest first
    ]
    only_long = ray_parts(plan_waves(items[1:2], 64, 100), work[2:3], 8)
    assert [([w.article.key for w in part], size, alone) for part, size, alone in only_long] == [(["h300"], 1, True)]


@pytest.fixture
def local_ray():
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def _spying_stage(log: Path):
    from summarizer.executors.ray import SummariseStage

    class SpyingSummarise(SummariseStage):
        """Notes each batch's articles (one line per batch, in the order they are done)."""

        def step(self, work):
            with open(log, "a", encoding="utf-8") as out:
                out.write(json.dumps(sorted(item.article.key for item in work)) + "\n")
            return super().step(work)

    return SpyingSummarise


@pytest.mark.ray
def test_on_ray_a_huge_article_is_a_batch_of_its_own_after_every_other(tmp_path, tiny_models, local_ray) -> None:
    import functools

    from summarizer import RunOptions, load_config, run_job
    from summarizer.executors.ray import TranslateStage, process_on_ray

    path = edit_config(huge_night_config(tmp_path, tiny_models), {"runtime": {"executor": "ray"}, "ray": {"batch_articles": 3}})
    log = tmp_path / "batches.jsonl"
    executor = functools.partial(process_on_ray, stages=(_spying_stage(log), TranslateStage))
    report = run_job(load_config(path), RunOptions(), executor=executor)
    assert report.counts["done"] == 5
    batches = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert batches[-1] == ["a01-marathon.txt"]
    assert sorted(key for batch in batches[:-1] for key in batch) == [f"a{n:02d}.txt" for n in range(4)]
