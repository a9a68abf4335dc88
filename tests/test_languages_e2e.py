"""A mixed feed in one run: routing by language, HTML pages, quality flags, retries, inspect."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import ARTICLE_VELO, DELETE, edit_config, write_config
from summarizer.cli import main
from summarizer.flags import FAITHFULNESS_FLAGS

GERMAN = """\
Streik bei der Bahn am Donnerstag
Die Gewerkschaften rufen für Donnerstag zu einem weiteren Streiktag auf. Der Regionalverkehr dürfte nach Angaben der Bahn stark beeinträchtigt sein.
Die Verhandlungen über die Löhne sollen in der kommenden Woche fortgesetzt werden, teilte ein Sprecher mit.
"""
ENGLISH = """\
City budget approved
The city council approved a budget of 520 million euros for next year on Monday evening. The opposition voted against it, criticising a rise in property tax.
"""
ITALIAN = """\
Sciopero dei treni giovedì
I sindacati hanno indetto una nuova giornata di sciopero per giovedì. Secondo l'azienda, il traffico dei treni regionali sarà fortemente rallentato.
"""
PAGE = """\
<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<title>Les nappes phréatiques sous la normale | Le Journal</title>
<meta property="og:title" content="Les nappes phréatiques sous la normale">
<meta property="article:published_time" content="2026-11-28T08:00:00+01:00">
<link rel="canonical" href="https://www.example.org/eau/nappes.html">
<style>.pub { color: red } body::after { content: "STYLE_TEXT" }</style>
<script>var tracker = "SCRIPT_TEXT"; document.write("SCRIPT_TEXT");</script>
</head><body>
<nav><a href="/">Accueil</a> <a href="/meteo">NAV_TEXT Météo</a> <a href="/sport">Sport</a></nav>
<div class="pub">Publicité : AD_TEXT achetez maintenant</div>
<article>
<h1>Les nappes phréatiques sous la normale</h1>
<p>Malgré les pluies de novembre, le niveau des nappes phréatiques reste inférieur aux moyennes de saison dans une grande partie de la Bretagne, a indiqué vendredi le service géologique.</p>
<script>console.log("INLINE_SCRIPT_TEXT")</script>
<p>Dans le Finistère et les Côtes-d’Armor, plusieurs communes maintiennent des restrictions d’usage de l’eau. Les agriculteurs demandent une aide exceptionnelle.</p>
<p>« Il faudra un hiver très pluvieux pour retrouver des niveaux normaux », estime un hydrogéologue de l’université de Rennes.</p>
</article>
<aside>Les plus lus : SIDEBAR_TEXT</aside>
<footer>FOOTER_TEXT © Le Journal</footer>
</body></html>
"""
JUNK_MARKERS = ("STYLE_TEXT", "SCRIPT_TEXT", "NAV_TEXT", "AD_TEXT", "SIDEBAR_TEXT", "FOOTER_TEXT")


def meta(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def multilingual(tmp_path: Path, tiny_models) -> tuple[Path, Path]:
    models = tmp_path / "models"
    for name, source in (
        ("t5-fr", "summarizer"),
        ("t5-default", "summarizer"),
        ("marian-fr", "translator"),
        ("marian-de", "translator"),
        ("marian-it", "translator"),
    ):
        shutil.copytree(tiny_models[source], models / name)
    for language in ("de", "it"):  # a Marian tokenizer declares its pair, and the job checks it
        settings = models / f"marian-{language}" / "tokenizer_config.json"
        text = settings.read_text(encoding="utf-8").replace('"source_lang": "fr"', f'"source_lang": "{language}"')
        settings.write_text(text, encoding="utf-8")
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "velo.txt").write_text(ARTICLE_VELO, encoding="utf-8")
    (feed / "bahn.txt").write_text(GERMAN, encoding="utf-8")
    (feed / "budget.txt").write_text(ENGLISH, encoding="utf-8")
    (feed / "treni.txt").write_text(ITALIAN, encoding="utf-8")
    (feed / "nappes.html").write_text(PAGE, encoding="utf-8")
    config = write_config(
        tmp_path / "job.yaml",
        """\
        inputs: {paths: [feed]}
        reports: {dir: reports}
        runtime: {device: cpu, max_models_in_memory: 2}
        summarization:
          generation: {max_new_tokens: 10, min_new_tokens: 3}
          models:
            fr: ./models/t5-fr
            default: {model: ./models/t5-default, generation: {max_new_tokens: 6}}
        translation:
          target: en
          models: {fr: ./models/marian-fr, de: ./models/marian-de}
        """,
    )
    return config, feed


def test_a_mixed_feed_is_routed_by_language(multilingual, capsys) -> None:
    config, feed = multilingual
    assert main(["run", "-c", str(config)]) == 0
    velo, bahn, budget, treni, nappes = (
        meta(feed / f"{name}.meta.json") for name in ("velo", "bahn", "budget", "treni", "nappes")
    )
    assert (velo["language"], bahn["language"], budget["language"], treni["language"]) == ("fr", "de", "en", "it")
    assert velo["language_confidence"] > 0.9
    assert velo["models"]["summarization"]["name"].endswith("t5-fr")
    assert velo["models"]["translation"]["name"].endswith("marian-fr")
    assert bahn["models"]["summarization"]["name"].endswith("t5-default")
    assert bahn["models"]["translation"]["name"].endswith("marian-de")
    assert bahn["outputs"] == ["bahn.summary.de.txt", "bahn.summary.en.txt", "bahn.translation.en.txt"]
    assert (feed / "bahn.summary.de.txt").read_text(encoding="utf-8").strip()

    assert budget["status"] == "ok"
    assert "already_target_language" in budget["flags"]
    assert budget["outputs"] == ["budget.summary.en.txt"]
    assert set(budget["models"]) == {"summarization"}
    assert not (feed / "budget.translation.en.txt").exists()

    assert treni["status"] == "skipped"
    assert "unsupported_language" in treni["flags"]
    assert "no translation model for language 'it'" in treni["reason"]
    assert not (feed / "treni.summary.it.txt").exists()

    assert nappes["status"] == "ok" and nappes["language"] == "fr"
    assert nappes["title"] == "Les nappes phréatiques sous la normale"
    assert nappes["metadata"]["url"] == "https://www.example.org/eau/nappes.html"
    assert nappes["metadata"]["date"] == "2026-11-28"
    assert nappes["metadata"]["extractor"].startswith("trafilatura ")
    assert nappes["tasks"]["translation"]["segments"] >= 4  # title + 3 paragraphs

    report = json.loads(next((config.parent / "reports").glob("*/report.json")).read_text())
    assert report["counts"]["unsupported"] == 1 and report["counts"]["done"] == 4
    assert {key: m["loads"] for key, m in report["models"].items()} == {
        "summarization.models.fr": 1,
        "summarization.models.default": 1,
        "translation.models.fr": 1,
        "translation.models.de": 1,
    }
    digest = next((config.parent / "reports").glob("digest-*.md")).read_text(encoding="utf-8")
    assert digest.index("## French (fr)") < digest.index("## German (de)")
    assert "## English (en)" in digest and "## Not processed" in digest
    assert "`treni.txt`: no translation model for language 'it'" in digest

    capsys.readouterr()
    assert main(["run", "-c", str(config)]) == 0
    assert "0 done, 5 skipped" in capsys.readouterr().err


def test_adding_a_model_for_one_language_redoes_only_that_language(multilingual, capsys) -> None:
    config, feed = multilingual
    assert main(["run", "-c", str(config)]) == 0
    edit_config(config, {"translation": {"models": {"it": "./models/marian-it"}}})
    capsys.readouterr()
    assert main(["run", "-c", str(config)]) == 0
    assert "1 done, 4 skipped" in capsys.readouterr().err
    assert meta(feed / "treni.meta.json")["status"] == "ok"


def test_html_extraction_keeps_the_article_and_nothing_else(multilingual) -> None:
    config, feed = multilingual
    from summarizer.io.readers import discover, read_source

    (article,) = read_source(discover([feed / "nappes.html"], [".html"])[0])
    assert article.title == "Les nappes phréatiques sous la normale"
    paragraphs = article.text.split("\n")
    assert len(paragraphs) == 3
    assert paragraphs[0].startswith("Malgré les pluies de novembre")
    assert paragraphs[2].startswith("« Il faudra un hiver très pluvieux")
    for marker in JUNK_MARKERS:
        assert marker not in article.text and marker not in article.title


def test_a_forced_language_skips_detection(multilingual) -> None:
    config, feed = multilingual
    config.write_text(config.read_text() + "languages: {force: fr}\n")
    assert main(["run", "-c", str(config)]) == 0
    bahn = meta(feed / "bahn.meta.json")
    assert bahn["language"] == "fr" and bahn["language_confidence"] is None


def test_tiny_model_gibberish_is_flagged_and_retried(multilingual) -> None:
    config, feed = multilingual
    assert main(["run", "-c", str(config)]) == 0
    velo = meta(feed / "velo.meta.json")
    translation = velo["tasks"]["translation"]
    assert translation["flags"]  # random weights: loops, wrong lengths, invented numbers and names
    gibberish = {"repetition", "length_ratio", "empty_output", *FAITHFULNESS_FLAGS}
    assert set(translation["flags"]) <= gibberish
    assert translation["retried_segments"] > 0
    assert set(translation["flags"]) <= set(velo["flags"])


def test_an_echoing_translator_is_flagged_untranslated(multilingual, monkeypatch) -> None:
    from summarizer.models import seq2seq
    from summarizer.models.seq2seq import Generation

    config, feed = multilingual
    original = seq2seq.Seq2SeqEngine._generate_batch

    def echo(self, indices, encoded, settings):
        if "marian" not in self.spec.name:
            return original(self, indices, encoded, settings)
        return {
            i: Generation(self.tokenizer.decode(encoded[i], skip_special_tokens=True), len(encoded[i]), 5)
            for i in indices
        }

    monkeypatch.setattr(seq2seq.Seq2SeqEngine, "_generate_batch", echo)
    assert main(["run", "-c", str(config)]) == 0
    velo = meta(feed / "velo.meta.json")
    assert "untranslated" in velo["tasks"]["translation"]["flags"]
    assert "untranslated" in velo["flags"]
    assert "untranslated" not in meta(feed / "budget.meta.json")["flags"]


def test_inspect_shows_what_the_models_would_get(multilingual, capsys) -> None:
    config, feed = multilingual
    assert main(["inspect", "-c", str(config), str(feed / "nappes.html")]) == 0
    out = capsys.readouterr().out
    assert "language        fr (detected, confidence 1.00)" in out
    assert "title           Les nappes phréatiques sous la normale" in out
    assert "extractor       trafilatura" in out
    assert "paragraphs      3" in out
    assert "summarization   " in out and "chunk 1: " in out and " tokens: " in out
    assert "translation     " in out and "paragraph 3: " in out
    for marker in JUNK_MARKERS:
        assert marker not in out
    assert main(["inspect", "-c", str(config), str(feed / "treni.txt")]) == 0
    assert "none for language 'it': the article would be skipped" in capsys.readouterr().out
    assert not list(feed.glob("*.meta.json"))


def test_old_single_model_configs_still_work(job_config, articles) -> None:
    assert main(["run", "-c", str(job_config)]) == 0
    velo = meta(articles / "2026-11-28" / "velo.meta.json")
    assert velo["language"] == "fr"
    assert velo["models"]["translation"]["name"].endswith("marian")


def test_a_short_article_the_detector_is_unsure_about_goes_to_the_main_language(job_config, articles) -> None:
    (articles / "foot.txt").write_text("Football : OM 3-0 Nice\nBut de Greenwood (12e).\n", encoding="utf-8")
    assert main(["run", "-c", str(job_config)]) == 0
    foot = meta(articles / "foot.meta.json")
    assert foot["status"] == "ok" and foot["language"] == "fr"
    assert foot["detected_language"] != "fr" and foot["language_confidence"] < 0.5
    assert "language_uncertain" in foot["flags"]


def test_a_page_with_only_menus_is_not_an_article(tmp_path) -> None:
    from summarizer.io.readers import discover, read_source
    from summarizer.records import ReadFailure

    page = tmp_path / "menu.html"
    page.write_text("<html><body><nav>Accueil Politique Sport</nav></body></html>", encoding="utf-8")
    (failure,) = read_source(discover([page], [".html"])[0])
    assert isinstance(failure, ReadFailure)
    assert failure.error == "no article text found in the HTML page"


def test_the_digest_names_the_target_language(multilingual) -> None:
    config, feed = multilingual
    settings = config.parent / "models" / "marian-fr" / "tokenizer_config.json"  # a French-German model
    settings.write_text(settings.read_text(encoding="utf-8").replace('"target_lang": "en"', '"target_lang": "de"'))
    edit_config(config, {"translation": {"target": "de", "models": {"de": DELETE}}})
    assert main(["run", "-c", str(config)]) == 0
    assert meta(feed / "bahn.meta.json")["outputs"] == ["bahn.summary.de.txt"]
    digest = next((config.parent / "reports").glob("digest-*.md")).read_text(encoding="utf-8")
    assert "**Summary (German):**" in digest and "Summary (English)" not in digest
    assert "*Already in the target language: summarised, not translated.*" in digest
