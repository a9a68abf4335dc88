"""`fetch`, against a fake hub: it gets the default models whatever state the hub is in.

The configured revision first; when the hub says it is gone (or it holds only pickle
weights): the open safetensors conversion pull request, then the main branch if it has
safetensors, then a local conversion of the pickle weights when the config allows it.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import ARTICLE_VELO, write_config, fr_en
from summarizer.cli import main

GONE = "9" * 40


class RevisionNotFoundError(Exception):
    """What huggingface_hub raises for a revision the hub does not have (matched by name)."""


class FakeHub:
    """Stands in for huggingface_hub.HfApi: repos by (id, revision name or commit)."""

    def __init__(self, repos: dict, prs: dict | None = None, down: bool = False, folders: dict | None = None):
        self.repos, self.prs, self.down = repos, prs or {}, down
        self.folders = folders or {}
        self.downloads: list[tuple] = []

    def _repo(self, repo_id, revision):
        if self.down:
            raise ConnectionError("Name or service not known")
        revision = revision or "main"
        for (name, ref), entry in self.repos.items():
            if name == repo_id and revision in (ref, entry["sha"]):
                return entry
        raise RevisionNotFoundError(f"Invalid rev id: {revision}")

    def list_repo_files(self, repo_id, *, revision=None):
        return self._repo(repo_id, revision)["files"]

    def model_info(self, repo_id, *, revision=None):
        return SimpleNamespace(sha=self._repo(repo_id, revision)["sha"])

    def get_repo_discussions(self, repo_id, *, discussion_type, discussion_status):
        assert (discussion_type, discussion_status) == ("pull_request", "open")
        return [SimpleNamespace(num=n, title=t) for n, t in self.prs.get(repo_id, [])]

    def snapshot_download(self, repo_id, **kwargs):
        self.downloads.append((repo_id, kwargs))
        sha = self._repo(repo_id, kwargs["revision"])["sha"]
        return str(self.folders.get((repo_id, sha), f"/cache/{repo_id}/{sha}"))


@pytest.fixture
def hub(monkeypatch):
    """Install a FakeHub built from the arguments as the hub client."""
    from summarizer import hub as hub_module

    def install(*args, **kwargs) -> FakeHub:
        fake = FakeHub(*args, **kwargs)
        monkeypatch.setattr(hub_module, "default_client", lambda: fake)
        return fake

    return install


def fetch_config(tmp_path: Path, revision: str = "main", extra: str = "") -> Path:
    return write_config(
        tmp_path / "c.yaml",
        f"""\
        hub: {{cache_dir: cache}}
        summarization: {{model: org/summ, revision: "{revision}"}}
        translation: {{model: org/trans, revision: {"b" * 40}}}
        {extra}""",
    )


SAFE_TRANS = {("org/trans", "b" * 40): {"files": ["config.json", "model.safetensors"], "sha": "b" * 40}}


def routed(config_path: Path, role: str):
    from summarizer.config import load_config
    from summarizer.routing import route

    return getattr(route(load_config(config_path), "fr"), role).spec


def test_fetch_downloads_safetensors_and_prints_commits(tmp_path, hub, capsys) -> None:
    fake = hub(
        {
            ("org/summ", "main"): {"files": ["config.json", "model.safetensors", "spiece.model"], "sha": "a" * 40},
            **SAFE_TRANS,
        }
    )
    assert main(["fetch", "-c", str(fetch_config(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert f"revision main = commit {'a' * 40}" in out
    assert f"pin it: set summarization.revision: {'a' * 40}" in out
    assert "pin it: set translation" not in out
    repo, kwargs = fake.downloads[0]
    assert repo == "org/summ" and kwargs["revision"] == "main"
    assert "*.safetensors" in kwargs["allow_patterns"]
    assert not any("bin" in pattern for pattern in kwargs["allow_patterns"])


def test_a_pinned_commit_that_exists_is_used_as_it_is(tmp_path, hub, capsys) -> None:
    hub({("org/summ", "a" * 40): {"files": ["config.json", "model.safetensors"], "sha": "a" * 40}, **SAFE_TRANS})
    config = fetch_config(tmp_path, revision="a" * 40)
    assert main(["fetch", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert f"revision {'a' * 40} = commit {'a' * 40}" in out and "pin it" not in out
    assert routed(config, "summarizer").revision == "a" * 40
    assert routed(config, "summarizer").origin is None


def test_a_pinned_commit_that_is_gone_falls_back_to_the_conversion_pull_request(tmp_path, hub, capsys) -> None:
    fake = hub(
        {
            ("org/summ", "main"): {"files": ["config.json", "pytorch_model.bin"], "sha": "a" * 40},
            ("org/summ", "refs/pr/1"): {"files": ["config.json", "pytorch_model.bin"], "sha": "c" * 40},
            ("org/summ", "refs/pr/2"): {"files": ["config.json", "model.safetensors"], "sha": "d" * 40},
            **SAFE_TRANS,
        },
        prs={"org/summ": [(1, "Add a model card"), (2, "Adding `safetensors` variant of this model")]},
    )
    config = fetch_config(tmp_path, revision=GONE)
    assert main(["fetch", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert f"revision {GONE} does not exist on the hub" in out
    assert f"used the hub's safetensors conversion, pull request #2 (refs/pr/2) = commit {'d' * 40}" in out
    assert f"pin it: set summarization.revision: {'d' * 40}" in out
    assert ("org/summ", "d" * 40) in [(repo, kwargs["revision"]) for repo, kwargs in fake.downloads]
    spec = routed(config, "summarizer")  # runs use what fetch used, until the config pins it
    assert spec.revision == "d" * 40 and "pull request #2" in spec.origin


def test_a_pickle_only_main_uses_the_conversion_pull_request(tmp_path, hub, capsys) -> None:
    hub(
        {
            ("org/summ", "main"): {"files": ["config.json", "pytorch_model.bin"], "sha": "a" * 40},
            ("org/summ", "refs/pr/2"): {"files": ["config.json", "model.safetensors"], "sha": "d" * 40},
            **SAFE_TRANS,
        },
        prs={"org/summ": [(2, "Adding `safetensors` variant of this model")]},
    )
    assert main(["fetch", "-c", str(fetch_config(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "org/summ@main has only pickle weights (.bin), which runs never load" in out
    assert f"pin it: set summarization.revision: {'d' * 40}" in out


def test_a_gone_pin_falls_back_to_main_when_it_has_safetensors(tmp_path, hub, capsys) -> None:
    hub({("org/summ", "main"): {"files": ["config.json", "model.safetensors"], "sha": "e" * 40}, **SAFE_TRANS})
    config = fetch_config(tmp_path, revision=GONE)
    assert main(["fetch", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert f"used the main branch, which has safetensors weights = commit {'e' * 40}" in out
    assert f"pin it: set summarization.revision: {'e' * 40}" in out
    assert routed(config, "summarizer").revision == "e" * 40


def test_only_pickle_weights_without_leave_to_convert_exit_78_with_the_remedy(tmp_path, hub, capsys) -> None:
    hub({("org/summ", "main"): {"files": ["config.json", "pytorch_model.bin"], "sha": "e" * 40}, **SAFE_TRANS})
    assert main(["fetch", "-c", str(fetch_config(tmp_path, revision=GONE))]) == 78
    err = capsys.readouterr().err
    assert "org/summ: the hub has no safetensors weights for it" in err
    assert "Set summarization.convert_pickle_weights: true to let fetch convert them" in err


def test_only_pickle_weights_are_converted_locally_and_translate_identically(
    tmp_path, hub, capsys, tiny_models, pickled_translator
) -> None:
    from summarizer.config import RuntimeConfig
    from summarizer.models.factory import build_engine
    from summarizer.models.loading import ModelSpec

    files = sorted(p.name for p in pickled_translator.iterdir())
    hub(
        {("org/trans", "main"): {"files": files, "sha": "e" * 40}},
        folders={("org/trans", "e" * 40): pickled_translator},
    )
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "velo.txt").write_text(ARTICLE_VELO, encoding="utf-8")
    config = write_config(
        tmp_path / "c.yaml",
        f"""\
        inputs: {{paths: [in]}}
        hub: {{cache_dir: cache}}
        runtime: {{device: cpu}}
        summarization:
          model: {tiny_models["summarizer"]}
          generation: {{max_new_tokens: 6, min_new_tokens: 2}}
        translation:
          model: org/trans
          revision: "{GONE}"
          convert_pickle_weights: true
          generation: {{max_new_tokens: 8}}
        """,
    )
    assert main(["fetch", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    converted = tmp_path / "cache" / "summarizer" / "converted" / f"org-trans-{'e' * 12}"
    assert f"used its pickle weights at commit {'e' * 40}, converted to safetensors here" in out
    assert f"pin it: set translation.model: {converted} (and remove translation.revision" in out
    assert (converted / "model.safetensors").is_file() and not (converted / "pytorch_model.bin").exists()
    source = json.loads((converted / "summarizer-source.json").read_text())
    assert (source["repo"], source["commit"]) == ("org/trans", "e" * 40)

    sentences = ["Le conseil municipal a voté le budget.", "Il a beaucoup plu en Bretagne cet automne."]
    runtime = RuntimeConfig(device="cpu")
    original, copy = (
        build_engine(ModelSpec(str(folder)), runtime, generation={"max_new_tokens": 8}, backend="transformers")
        for folder in (tiny_models["translator"], converted)
    )
    assert copy.generate(sentences, fr_en()) == original.generate(sentences, fr_en())

    assert main(["run", "-c", str(config)]) == 0  # offline: the run finds what fetch made
    meta = json.loads((tmp_path / "in" / "velo.meta.json").read_text())
    assert meta["models"]["translation"]["name"] == str(converted)
    assert meta["models"]["translation"]["origin"] == f"converted from the pickle weights of org/trans@{'e' * 40}"


def test_fetch_reports_an_unreachable_hub_with_69_and_both_ways_forward(tmp_path, hub, capsys) -> None:
    hub({}, down=True)
    assert main(["fetch", "-c", str(fetch_config(tmp_path))]) == 69
    err = capsys.readouterr().err
    assert "cannot reach the hub (ConnectionError" in err
    assert "connect this machine and run `summarizer fetch` again" in err
    assert "point summarization.model at a local folder holding the model" in err and "make demo" in err
