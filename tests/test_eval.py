"""`summarizer eval`: metrics checked on crafted pairs with known values, and the command
end to end on tiny models (scores are meaningless there; shape and plumbing are not)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("sacrebleu", reason="the eval extra is not installed")
pytest.importorskip("rouge_score", reason="the eval extra is not installed")

from conftest import edit_config  # noqa: E402
from summarizer.cli import main  # noqa: E402
from summarizer.evaluation.scores import (  # noqa: E402
    CorpusMetric,
    FrenchAwareTokenizer,
    bleu,
    chrf_plus_plus,
    paired_bootstrap,
    rouge_per_article,
    sentence_bleu,
)


def test_rouge_on_a_crafted_pair() -> None:
    (scores,) = rouge_per_article(["le chat est là"], ["le chat était là"])
    assert scores["rouge1"] == pytest.approx(75.0)  # 3 of 4 words
    assert scores["rouge2"] == pytest.approx(100 / 3)  # 1 of 3 bigrams
    assert scores["rougeL"] == pytest.approx(75.0)  # "le chat là"


def test_the_tokenizer_keeps_accents_and_splits_elisions() -> None:
    tokenize = FrenchAwareTokenizer().tokenize
    assert tokenize("L’Énergie d'été, coûte 5 €.") == ["l", "énergie", "d", "été", "coûte", "5"]
    (accents,) = rouge_per_article(["été"], ["ete"])
    assert accents["rouge1"] == 0.0
    (apostrophes,) = rouge_per_article(["l’énergie"], ["l'énergie"])
    assert apostrophes["rouge1"] == 100.0


def test_bleu_and_chrf_on_crafted_pairs() -> None:
    same = ["The city council approved the budget on Monday evening."]
    assert bleu(same, same) == pytest.approx(100.0)
    assert chrf_plus_plus(same, same) == pytest.approx(100.0)
    assert bleu(["zebras dance quietly"], same) == pytest.approx(0.0)
    assert chrf_plus_plus(["zebras dance quietly"], same) < 15
    # unigrams 5/6, bigrams 3/5, trigrams 1/4, no 4-gram: sacrebleu smooths the zero (exp),
    # same length so no brevity penalty
    half = bleu(["the cat sat on the mat"], ["the cat is on the mat"])
    assert 20 < half < 60
    assert sentence_bleu("the cat sat on the mat", "the cat sat on the mat") == pytest.approx(100.0)


def test_scores_from_statistics_match_sacrebleu_and_make_the_bootstrap_cheap() -> None:
    from sacrebleu.metrics import BLEU, CHRF

    hypotheses = ["The council voted the budget.", "Trains will be disrupted on Thursday.", ""]
    references = ["The city council adopted the budget.", "Metro traffic will be disrupted on Thursday.", "Nothing."]
    for name, metric in (("bleu", BLEU()), ("chrf++", CHRF(word_order=2))):
        ours = CorpusMetric(name)
        assert ours.corpus_score(hypotheses, references) == pytest.approx(
            metric.corpus_score(hypotheses, [references]).score
        )
        rows = ours.statistics(hypotheses, references)
        assert ours.score(rows[[0, 1]]) == pytest.approx(metric.corpus_score(hypotheses[:2], [references[:2]]).score)


def test_paired_bootstrap() -> None:
    a = [50.0] * 20
    same = paired_bootstrap(lambda picked: (sum(a[i] for i in picked), sum(a[i] for i in picked)), 20, 200)
    assert (same.delta, same.low, same.high, same.significant) == (0.0, 0.0, 0.0, False)
    better = [60.0 + (i % 3) for i in range(20)]
    found = paired_bootstrap(
        lambda picked: (sum(a[i] for i in picked) / len(picked), sum(better[i] for i in picked) / len(picked)),
        20,
        200,
    )
    assert found.delta == pytest.approx(11.0, abs=0.5)
    assert found.significant and found.low > 9
    noisy = [50.0 + (10 if i % 2 else -10) for i in range(20)]
    unsure = paired_bootstrap(
        lambda picked: (sum(a[i] for i in picked) / len(picked), sum(noisy[i] for i in picked) / len(picked)),
        20,
        200,
    )
    assert not unsure.significant


@pytest.fixture
def references(tmp_path: Path) -> Path:
    records = [
        {
            "id": "velo",
            "title": "Lyon veut doubler ses pistes cyclables",
            "text": "La métropole de Lyon a présenté mardi un plan pour doubler son réseau cyclable.\nLe projet coûtera 180 millions d'euros.",
            "summary": "Lyon veut doubler son réseau cyclable pour 180 millions d'euros.",
            "translation": "The Lyon metropolitan area presented a plan on Tuesday to double its cycle network.\n\nThe project will cost 180 million euros.",
        },
        {"id": "eau", "text": "Le niveau des nappes phréatiques reste bas en Bretagne malgré les pluies.", "summary": "Les nappes restent basses."},
    ]
    path = tmp_path / "refs.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    return path


def test_eval_compares_configs_without_writing_outputs(job_config, references, tmp_path, capsys) -> None:
    other = edit_config(
        job_config, {"summarization": {"generation": {"max_new_tokens": 6, "min_new_tokens": 2}}}, tmp_path / "other.yaml"
    )
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["eval", "-c", str(job_config), "-c", str(other), "--refs", str(references),
                 "--samples", "100", "--format", "json"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    result = json.loads(capsys.readouterr().out)
    assert (result["references"], result["with_summary"], result["with_translation"]) == (2, 2, 1)
    first, second = result["systems"]
    assert (first["config"], second["config"]) == ("job.yaml", "other.yaml")
    assert set(first["scores"]) == {"rouge1", "rouge2", "rougeL", "chrf++", "bleu"}
    assert all(0 <= v <= 100 for v in first["scores"].values())
    assert first["generated_tokens"] > 0 and first["model_mb"] > 0
    assert set(first["flag_rates"]) == set(first["flags"])  # a rate for each flag raised, per config
    assert all(0 < rate <= 1 for rate in first["flag_rates"].values())
    assert [row["id"] for row in first["per_article"]] == ["velo", "eau"]
    assert set(result["differences"]["other.yaml"]) == {"rouge1", "rouge2", "rougeL", "chrf++", "bleu"}
    assert main(["eval", "-c", str(job_config), "--refs", str(references), "--format", "markdown", "--samples", "50"]) == 0
    out = capsys.readouterr().out
    assert "| config | ROUGE-1 | ROUGE-2 | ROUGE-L | chrF++ | BLEU |" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "a", "text": "Un texte."}\n', "no record has a reference 'summary' or 'translation'"),
        ('{"id": "a"}\n', "missing 'text'"),
        ('{"id": "a", "text": "x", "summary": 3}\n', "'summary' must be a string"),
    ],
)
def test_bad_reference_files_exit_2(job_config, tmp_path, capsys, content, message) -> None:
    refs = tmp_path / "refs.jsonl"
    refs.write_text(content, encoding="utf-8")
    assert main(["eval", "-c", str(job_config), "--refs", str(refs)]) == 2
    assert message in capsys.readouterr().err
    assert main(["eval", "-c", str(job_config), "--refs", str(tmp_path / "none.jsonl")]) == 2


def test_the_same_config_twice_and_translation_only_references(job_config, tmp_path, capsys) -> None:
    refs = tmp_path / "refs.jsonl"
    refs.write_text(
        json.dumps({"id": "a", "text": "Le conseil municipal a voté le budget lundi soir.",
                    "translation": "The city council voted on the budget on Monday evening."}) + "\n",
        encoding="utf-8",
    )
    assert main(["eval", "-c", str(job_config), "-c", str(job_config), "--refs", str(refs),
                 "--samples", "20", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    names = [system["config"] for system in result["systems"]]
    assert len(set(names)) == 2 and all(name.endswith(("(#1)", "(#2)")) for name in names)
    assert set(result["systems"][0]["scores"]) == {"chrf++", "bleu"}
    (difference,) = result["differences"].values()
    assert difference["bleu"]["delta"] == 0.0  # same config, same greedy outputs
    assert main(["eval", "-c", str(job_config), "--refs", str(refs), "--samples", "20"]) == 0
    table = capsys.readouterr().out
    assert "ROUGE-1" in table and "flags" in table


def test_a_references_file_named_like_an_output_file_exits_2(job_config, tmp_path, capsys) -> None:
    refs = tmp_path / "day.results.jsonl"
    refs.write_text('{"id": "a", "text": "Un texte.", "summary": "Un résumé."}\n', encoding="utf-8")
    assert main(["eval", "-c", str(job_config), "--refs", str(refs)]) == 2
    assert "one of summarizer's own output files; rename it" in capsys.readouterr().err
