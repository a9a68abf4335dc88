"""Through the CLI, with a scripted engine: a summary that changes a figure is generated
again and fixed; one that misspells a name and invents a weekday is kept, flagged, and
marked "check before use" in the digest with the exact words; a translation that
converts numbers correctly is not flagged, one that changes a figure is; a name the
translator invents is flagged in the English summary however the translation reads, and an
English summary left in French is flagged untranslated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import write_config
from summarizer.cli import main
from summarizer.models.base import Generation
from summarizer.records import EngineStats

INFLATION = """\
L’inflation ralentit en octobre
Selon l’Insee, l’inflation a atteint 1,8 % sur un an en octobre, après 2,1 % en septembre.
Le chômage reste stable à 7,4 % de la population active, a indiqué l’institut mardi.
"""
MOSCOU = """\
La police marocaine à Moscou
À Moscou, le directeur général de la Sûreté nationale, Abdellatif Hammouchi, a représenté le Maroc mardi.
La rencontre internationale sur la sécurité a réuni plus de 100 pays autour de Sergueï Choïgou.
"""
SNCF = """\
La SNCF a transporté 2,5 millions de voyageurs
La SNCF a transporté 2,5 millions de voyageurs pendant les vacances, avec un pic vendredi à 12h30.
Trois trains ont été annulés à cause de la grève, selon la direction de l’entreprise.
"""
PONT = """\
Un pont s’effondre à Nantes
Un pont s’est effondré jeudi à Nantes, faisant trois blessés, selon les pompiers de Loire-Atlantique.
"""

#: What the scripted summariser writes: (first try, retry) by a word of the article.
SUMMARIES = {
    "inflation": (
        "Selon l’Insee, l’inflation a atteint 8 % sur un an en octobre.",
        "Selon l’Insee, l’inflation a atteint 1,8 % sur un an en octobre.",
    ),
    "Hammouchi": (
        "Le patron de la police, Abdellatif Hammouchy, a représenté le Maroc lundi à Moscou.",
        "Le patron de la police, Abdellatif Hammouchy, a représenté le Maroc lundi à Moscou.",
    ),
    "SNCF": (
        "La SNCF a transporté 2,5 millions de voyageurs, avec un pic vendredi à 12h30.",
        "La SNCF a transporté 2,5 millions de voyageurs, avec un pic vendredi à 12h30.",
    ),
    "Nantes": ("Un pont s’est effondré jeudi à Nantes.", "Un pont s’est effondré jeudi à Nantes."),
}
#: What the scripted translator writes instead of echoing its input.
TRANSLATIONS = {
    "2,5 millions": "SNCF carried 2.5 million passengers",  # a correct conversion
    "12h30": "with a peak on Friday at 12:30.",
    "7,4 %": "Unemployment is stable at 4.7% of the workforce.",  # a changed figure
    "s’effondre à Nantes": "A bridge collapses in Nantes",
    # an invented name in the translation, and the same in the English summary
    "trois blessés": "A bridge collapsed on Thursday in Nantes, near Paris, injuring three, said the firefighters.",
    "jeudi à Nantes.": "A bridge collapsed on Thursday in Nantes, near Paris.",
}


class ScriptedEngine:
    """An engine that writes what the test says (and records the retries it is asked for)."""

    decoder_only = False

    retries: list[str] = []

    def __init__(self, spec):
        self.spec = spec
        self.stats = EngineStats()
        self.max_input_tokens = 10_000

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 1

    def counter(self, direction):
        return self.count_tokens

    def framing(self, direction):
        from summarizer.models.families import Framing

        return Framing("scripted")

    def describe_framing(self, framing) -> str:
        return framing.describe()

    def load(self) -> None:
        pass

    def unload(self) -> None:
        pass

    def describe(self) -> dict:
        return {"name": "scripted", "engine": "scripted"}

    def run(self, requests, on_progress=None, overrides=None):
        texts = [request.text for request in requests]
        results = []
        for text in texts:
            if self.spec.config_key.startswith("summarization"):
                key = next(k for k in SUMMARIES if k in text)
                if overrides is not None:
                    ScriptedEngine.retries.append(key)
                output = SUMMARIES[key][1 if overrides is not None else 0]
            else:
                output = next((v for k, v in TRANSLATIONS.items() if k in text), text)
            results.append(Generation(output, self.count_tokens(text), len(output.split()), 0.01))
        self.stats += EngineStats(segments=len(texts), batches=1)
        return results


@pytest.fixture
def night(tmp_path: Path, tiny_models, monkeypatch) -> Path:
    from summarizer.models import pool

    monkeypatch.setattr(pool, "engine_for_use", lambda config, use, **options: ScriptedEngine(use.spec))
    ScriptedEngine.retries = []
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name, text in (("inflation", INFLATION), ("moscou", MOSCOU), ("sncf", SNCF), ("pont", PONT)):
        (inbox / f"{name}.txt").write_text(text, encoding="utf-8")
    config = write_config(
        tmp_path / "job.yaml",
        f"""\
        inputs: {{paths: [inbox]}}
        reports: {{dir: reports}}
        languages: {{force: fr}}
        summarization: {{model: {tiny_models["summarizer"]}}}
        translation: {{model: {tiny_models["translator"]}}}
        """,
    )
    assert main(["run", "-c", str(config)]) == 0
    return tmp_path


def meta(night: Path, name: str) -> dict:
    return json.loads((night / "inbox" / f"{name}.meta.json").read_text(encoding="utf-8"))


def test_a_changed_figure_is_caught_and_the_retry_keeps_the_faithful_summary(night) -> None:
    inflation = meta(night, "inflation")
    assert "1,8 %" in (night / "inbox" / "inflation.summary.fr.txt").read_text(encoding="utf-8")
    assert inflation["tasks"]["summary"]["retried_segments"] == 1
    assert "number_mismatch" not in inflation["tasks"]["summary"]["flags"]
    assert "summary" not in inflation.get("findings", {})


def test_a_misspelt_name_and_an_invented_weekday_are_kept_flagged_with_the_words(night) -> None:
    moscou = meta(night, "moscou")
    assert moscou["tasks"]["summary"]["retried_segments"] == 1  # tried once more, still wrong
    assert moscou["findings"]["summary"] == {"unsupported_name": ["Hammouchy"], "unsupported_date": ["lundi"]}
    assert {"unsupported_name", "unsupported_date"} <= set(moscou["flags"])
    assert ScriptedEngine.retries.count("Hammouchi") == 1


def test_converted_numbers_pass_and_a_changed_one_is_flagged_in_the_translation(night) -> None:
    sncf = meta(night, "sncf")
    assert not set(sncf["flags"]) & {"number_mismatch", "unsupported_name", "unsupported_date"}
    assert sncf["tasks"]["summary"]["retried_segments"] == 0
    inflation = meta(night, "inflation")
    assert inflation["findings"]["translation"] == {"number_mismatch": ["4.7%"]}


def test_the_digest_says_check_before_use_with_the_exact_words(night) -> None:
    digest = next((night / "reports").glob("digest-*.md")).read_text(encoding="utf-8")
    block = digest[digest.index("La police marocaine") :]
    block = block[: block.index("`moscou.txt`")]
    assert "**Check before use:**" in block
    assert "unsupported\\_name: a name the article does not contain: Hammouchy (summary)" in block
    assert "unsupported\\_date: a weekday or month the article does not mention: lundi (summary)" in block
    report = json.loads(next((night / "reports").glob("*/report.json")).read_text(encoding="utf-8"))
    entry = next(a for a in report["articles"] if a["key"] == "moscou.txt")
    assert entry["findings"]["summary"]["unsupported_name"] == ["Hammouchy"]


def test_a_name_the_translation_invented_is_flagged_in_the_english_summary(night) -> None:
    pont = meta(night, "pont")
    assert pont["findings"]["summary_translation"] == {"unsupported_name": ["Paris"]}
    assert "unsupported_name" in pont["tasks"]["summary_translation"]["flags"]
    assert "unsupported_name" in pont["flags"]
    assert "summary" not in pont.get("findings", {})  # the French summary is faithful


def test_an_english_summary_left_in_french_is_flagged_untranslated(night) -> None:
    moscou, pont = meta(night, "moscou"), meta(night, "pont")  # no script for moscou's summary: echoed
    assert "untranslated" in moscou["tasks"]["summary_translation"]["flags"]
    assert "untranslated" not in pont["tasks"]["summary_translation"]["flags"]
