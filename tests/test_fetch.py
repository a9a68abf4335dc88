"""`fetch`, against a fake hub."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from conftest import write_config
from summarizer.cli import main


class FakeHub:
    """Stands in for huggingface_hub.HfApi."""

    def __init__(self, repos: dict, prs: dict | None = None, down: bool = False) -> None:
        self.repos, self.prs, self.down = repos, prs or {}, down
        self.downloads: list[tuple] = []

    def _repo(self, repo_id, revision):
        if self.down:
            raise ConnectionError("Name or service not known")
        return self.repos[(repo_id, revision)]

    def list_repo_files(self, repo_id, *, revision=None):
        return self._repo(repo_id, revision)["files"]

    def model_info(self, repo_id, *, revision=None):
        return SimpleNamespace(sha=self._repo(repo_id, revision)["sha"])

    def get_repo_discussions(self, repo_id, *, discussion_type, discussion_status):
        assert (discussion_type, discussion_status) == ("pull_request", "open")
        return [SimpleNamespace(num=n, title=t) for n, t in self.prs.get(repo_id, [])]

    def snapshot_download(self, repo_id, **kwargs):
        self.downloads.append((repo_id, kwargs))
        return f"/cache/{repo_id}/{self._repo(repo_id, kwargs['revision'])['sha']}"


def fetch_config(tmp_path: Path, revision: str = "main") -> Path:
    return write_config(
        tmp_path / "c.yaml",
        f"""\
        summarization: {{model: org/summ, revision: {revision}}}
        translation: {{model: org/trans, revision: {"b" * 40}}}
        """,
    )


def test_fetch_downloads_safetensors_and_prints_commits(tmp_path, monkeypatch, capsys) -> None:
    from summarizer import hub

    fake = FakeHub(
        {
            ("org/summ", "main"): {"files": ["config.json", "model.safetensors", "spiece.model"], "sha": "a" * 40},
            ("org/trans", "b" * 40): {"files": ["config.json", "model.safetensors"], "sha": "b" * 40},
        }
    )
    monkeypatch.setattr(hub, "default_client", lambda: fake)
    assert main(["fetch", "-c", str(fetch_config(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert f"revision main = commit {'a' * 40}" in out
    assert f"pin it: set summarization.revision: {'a' * 40}" in out
    assert "pin it: set translation" not in out
    repo, kwargs = fake.downloads[0]
    assert repo == "org/summ" and kwargs["revision"] == "main"
    assert "*.safetensors" in kwargs["allow_patterns"]
    assert not any("bin" in pattern for pattern in kwargs["allow_patterns"])


def test_fetch_finds_the_safetensors_conversion_of_a_pickle_only_model(tmp_path, monkeypatch, capsys) -> None:
    from summarizer import hub

    fake = FakeHub(
        {
            ("org/summ", "main"): {"files": ["config.json", "pytorch_model.bin"], "sha": "a" * 40},
            ("org/summ", "refs/pr/1"): {"files": ["config.json", "pytorch_model.bin"], "sha": "c" * 40},
            ("org/summ", "refs/pr/2"): {"files": ["config.json", "model.safetensors"], "sha": "d" * 40},
            ("org/trans", "b" * 40): {"files": ["config.json", "model.safetensors"], "sha": "b" * 40},
        },
        prs={"org/summ": [(1, "Add a model card"), (2, "Adding `safetensors` variant of this model")]},
    )
    monkeypatch.setattr(hub, "default_client", lambda: fake)
    assert main(["fetch", "-c", str(fetch_config(tmp_path))]) == 78
    err = capsys.readouterr().err
    assert (
        "org/summ@main has only pickle weights (.bin); the hub's safetensors conversion is pull "
        f"request #2: set summarization.revision: {'d' * 40}  (refs/pr/2)"
    ) in err
    assert [repo for repo, _ in fake.downloads] == ["org/trans"]


def test_fetch_reports_an_unreachable_hub_with_69(tmp_path, monkeypatch, capsys) -> None:
    from summarizer import hub

    monkeypatch.setattr(hub, "default_client", lambda: FakeHub({}, down=True))
    assert main(["fetch", "-c", str(fetch_config(tmp_path))]) == 69
    assert "cannot reach the hub (ConnectionError" in capsys.readouterr().err
