"""Conversions in the job's cache (a GGUF file, pickle weights): one at a time per
conversion, under an flock on ``.NAME.lock`` beside its folder; a killed conversion's
staging folder removed by the next fetch or run; a manifest (sizes, SHA-256) written last
and checked when the conversion is loaded; every file with the mode a new file gets."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import ARTICLE_VELO, write_config, written_earlier

from summarizer.cli import main
from summarizer.models import gguf
from summarizer.models.conversion import convert_pickle_weights
from summarizer.models.tiny import build_tiny_chat_llm

REPO = Path(__file__).resolve().parents[1]
WAIT = 60
"""Seconds a test waits for the other side before it fails (never to let it get there)."""


@pytest.fixture(scope="module")
def llm(tmp_path_factory) -> Path:
    return build_tiny_chat_llm(tmp_path_factory.mktemp("llm") / "smollm2-like", max_positions=1024)


@pytest.fixture
def night(tmp_path: Path, llm: Path) -> Path:
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "velo.txt").write_text(ARTICLE_VELO, encoding="utf-8")
    written_earlier(feed)
    return write_config(
        tmp_path / "job.yaml",
        f"""\
        inputs: {{paths: [feed]}}
        languages: {{force: fr}}
        runtime: {{device: cpu}}
        hub: {{cache_dir: cache}}
        summarization:
          model: models/tiny.Q4.gguf
          max_input_tokens: 60
          generation: {{max_new_tokens: 4}}
        translation:
          model: {llm}
          max_input_tokens: 40
          pack_tokens: 30
          generation: {{max_new_tokens: 4}}
        """,
    )


def converted_root(night: Path) -> Path:
    return night.parent / "cache" / "summarizer" / "converted"


def the_conversion(night: Path) -> Path:
    (folder,) = [p for p in converted_root(night).iterdir() if p.is_dir() and not p.name.startswith(".")]
    return folder


def staging_folders(root: Path) -> list[str]:
    return sorted(p.name for p in root.glob(".*.converting"))


KILLED = """
import os, signal, sys
from pathlib import Path
from summarizer.models import gguf

def convert(source, staging):
    (staging / "model.safetensors").write_bytes(b"half a model" * 1000)
    os.kill(os.getpid(), signal.SIGKILL)

gguf._convert = convert
gguf._require_packages = lambda where: None
gguf.converted(Path(sys.argv[1]), Path(sys.argv[2]), "summarization.model")
"""


def killed_conversion(path: Path, cache_root: Path) -> str:
    """Convert ``path`` in another process killed half-way; the staging folder it left."""
    before = set(staging_folders(cache_root / "converted"))
    done = subprocess.run([sys.executable, "-c", KILLED, str(path), str(cache_root)], cwd=REPO)
    assert done.returncode == -signal.SIGKILL
    (left,) = set(staging_folders(cache_root / "converted")) - before
    return left


def held_staging(root: Path, name: str) -> tuple[Path, int]:
    """A conversion in progress in a live process: its staging folder, its lock held (the
    caller closes the descriptor to release it)."""
    staging = root / f".{name}.{os.getpid()}.converting"
    staging.mkdir(parents=True)
    (staging / "model.safetensors").write_bytes(b"being written")
    fd = os.open(root / f".{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return staging, fd


def edit_in_place(path: Path) -> None:
    """Change one byte in the middle of ``path``, keeping its size and its time."""
    before = path.stat()
    with open(path, "r+b") as stream:
        stream.seek(before.st_size // 2)
        byte = stream.read(1)
        stream.seek(-1, os.SEEK_CUR)
        stream.write(bytes([byte[0] ^ 0xFF]))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if "ERROR" in line]


# ------------------------------------------------------------- killed conversions


def test_a_killed_conversion_is_cleaned_by_the_next_fetch_and_a_live_one_is_left(night, fake_gguf) -> None:
    path, calls = fake_gguf
    root = converted_root(night)
    killed = killed_conversion(path, night.parent / "cache" / "summarizer")
    live, fd = held_staging(root, "gguf-other-0123456789ab")
    try:
        assert main(["fetch", "-c", str(night)]) == 0
        assert staging_folders(root) == [live.name]  # the killed one is gone, the live one kept
        assert (live / "model.safetensors").read_bytes() == b"being written"
    finally:
        os.close(fd)
    assert killed.startswith(f".{the_conversion(night).name}.") and len(calls) == 1
    assert (the_conversion(night) / "summarizer-manifest.json").is_file()


def test_a_killed_conversion_of_another_file_is_cleaned_by_the_next_run(night, fake_gguf, tmp_path) -> None:
    assert main(["fetch", "-c", str(night)]) == 0
    other = tmp_path / "models" / "other.gguf"
    other.write_bytes(b"GGUF another model")
    killed_conversion(other, night.parent / "cache" / "summarizer")
    assert staging_folders(converted_root(night))
    assert main(["run", "-c", str(night)]) == 0
    assert staging_folders(converted_root(night)) == []


# ------------------------------------------------------------ two conversions meet


class Seen(logging.Handler):
    """Sets ``event`` when the job logs a message holding ``words``."""

    def __init__(self, words: str) -> None:
        super().__init__(logging.DEBUG)
        self.words, self.event = words, threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.words in record.getMessage():
            self.event.set()


def test_a_second_conversion_waits_for_the_first_and_uses_what_it_made(tmp_path, llm, monkeypatch, caplog) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF a model")
    cache = tmp_path / "cache"
    inside, finish, calls = threading.Event(), threading.Event(), []

    def convert(source: Path, staging: Path) -> None:
        calls.append(staging)
        inside.set()
        assert finish.wait(WAIT)
        for entry in llm.iterdir():
            shutil.copy(entry, staging / entry.name)

    monkeypatch.setattr(gguf, "_convert", convert)
    monkeypatch.setattr(gguf, "_require_packages", lambda where: None)
    caplog.set_level(logging.INFO, logger="summarizer")
    waiting = Seen("waiting for")
    logging.getLogger("summarizer").addHandler(waiting)
    results: dict[str, object] = {}

    def convert_as(name: str) -> None:
        try:
            results[name] = gguf.converted(path, cache, "summarization.model")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertions below
            results[name] = exc

    first = threading.Thread(target=convert_as, args=("first",))
    second = threading.Thread(target=convert_as, args=("second",))
    try:
        first.start()
        assert inside.wait(WAIT)  # the first converts, holding the conversion's lock
        second.start()
        assert waiting.event.wait(WAIT)  # the second found it held: it waits, converts nothing
        assert "second" not in results and len(calls) == 1
    finally:
        finish.set()
        first.join(WAIT)
        second.join(WAIT)
        logging.getLogger("summarizer").removeHandler(waiting)
    assert isinstance(results["first"], Path) and results["second"] == results["first"]
    assert len(calls) == 1 and staging_folders(cache / "converted") == []
    assert [p.name for p in (cache / "converted").iterdir()] == [results["first"].name]  # no lock file left


# ------------------------------------------------------ edited conversions, manifests


def test_converted_weights_edited_in_place_are_refused_then_converted_again_by_fetch(night, fake_gguf, capsys) -> None:
    _, calls = fake_gguf
    assert main(["fetch", "-c", str(night)]) == 0
    folder = the_conversion(night)
    manifest = json.loads((folder / "summarizer-manifest.json").read_text(encoding="utf-8"))
    listed = {p.name for p in folder.iterdir() if not p.name.startswith(".")}
    assert set(manifest["files"]) == listed - {"summarizer-manifest.json"}
    edit_in_place(folder / "model.safetensors")
    capsys.readouterr()
    assert main(["run", "-c", str(night)]) == 78
    (line,) = error_lines(capsys.readouterr().err)
    assert "summarization.model" in line and "model.safetensors" in line and "summarizer fetch" in line
    assert not list((night.parent / "feed").glob("*.meta.json"))  # nothing made with it
    assert main(["check", "-c", str(night)]) == 78
    assert main(["fetch", "-c", str(night)]) == 0
    assert len(calls) == 2  # fetch converted it again
    assert main(["run", "-c", str(night)]) == 0


def test_a_gguf_file_edited_in_place_is_not_taken_for_its_old_conversion(night, fake_gguf, capsys) -> None:
    path, _ = fake_gguf
    assert main(["fetch", "-c", str(night)]) == 0
    edit_in_place(path)
    capsys.readouterr()
    assert main(["run", "-c", str(night)]) == 78
    assert "not converted from GGUF yet" in capsys.readouterr().err


def test_a_conversion_without_a_manifest_is_refused_and_made_again_by_fetch(night, fake_gguf, capsys) -> None:
    _, calls = fake_gguf
    assert main(["fetch", "-c", str(night)]) == 0
    (the_conversion(night) / "summarizer-manifest.json").unlink()  # as an earlier version left it
    capsys.readouterr()
    assert main(["run", "-c", str(night)]) == 78
    (line,) = error_lines(capsys.readouterr().err)
    assert "summarization.model" in line and "summarizer-manifest.json" in line and "summarizer fetch" in line
    assert main(["fetch", "-c", str(night)]) == 0 and len(calls) == 2
    assert main(["run", "-c", str(night)]) == 0


def test_a_conversion_has_a_digest_of_its_own_for_meta_files(night, fake_gguf, llm) -> None:
    import hashlib

    from summarizer.models.loading import ModelSpec, conversion_sha256

    path, _ = fake_gguf
    assert main(["fetch", "-c", str(night)]) == 0
    manifest = (the_conversion(night) / "summarizer-manifest.json").read_bytes()
    spec = ModelSpec(str(path), cache_dir=str(night.parent / "cache"))
    assert conversion_sha256(spec) == hashlib.sha256(manifest).hexdigest()
    assert conversion_sha256(ModelSpec(str(the_conversion(night)))) == conversion_sha256(spec)
    assert conversion_sha256(ModelSpec(str(llm))) is None  # a folder no one converted
    assert conversion_sha256(ModelSpec("org/model", revision="main")) is None


# ------------------------------------------------------------------------- modes


@pytest.fixture(params=[0o022, 0o027], ids=["umask-022", "umask-027"])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def modes(folder: Path) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}


def test_every_file_of_a_gguf_conversion_has_the_mode_of_a_new_file(night, fake_gguf, llm, umask) -> None:
    assert stat.S_IMODE((llm / "model.safetensors").stat().st_mode) == 0o600  # as safetensors writes it
    assert main(["fetch", "-c", str(night)]) == 0
    found = modes(the_conversion(night))
    assert "model.safetensors" in found and set(found.values()) == {0o666 & ~umask}


# -------------------------------------------------------------- pickle conversions


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_pickle_conversion_cleans_dead_staging_keeps_live_and_gives_every_file_one_mode(
    pickled_translator, tmp_path, umask
) -> None:
    target = tmp_path / "converted" / f"org-trans-{'e' * 12}"
    dead = target.with_name(f".{target.name}.{dead_pid()}.converting")
    dead.mkdir(parents=True)
    (dead / "model.safetensors").write_bytes(b"half a model")
    live, fd = held_staging(target.parent, f"org-other-{'f' * 12}")
    try:
        assert convert_pickle_weights(pickled_translator, target, "org/trans", "e" * 40) == target
        assert staging_folders(target.parent) == [live.name]
    finally:
        os.close(fd)
    found = modes(target)
    assert {"model.safetensors", "summarizer-manifest.json"} <= set(found) and set(found.values()) == {0o666 & ~umask}


def test_a_pickle_conversion_edited_in_place_is_made_again(pickled_translator, tmp_path) -> None:
    target = tmp_path / "converted" / f"org-trans-{'e' * 12}"
    convert_pickle_weights(pickled_translator, target, "org/trans", "e" * 40)
    weights = target / "model.safetensors"
    original = weights.read_bytes()
    edit_in_place(weights)
    assert convert_pickle_weights(pickled_translator, target, "org/trans", "e" * 40) == target
    assert weights.read_bytes() == original


def test_a_run_refuses_a_pickle_conversion_edited_in_place(pickled_translator, tmp_path) -> None:
    from summarizer.errors import ModelLoadError
    from summarizer.models.loading import ModelSpec, locate_model

    target = tmp_path / "converted" / f"org-trans-{'e' * 12}"
    convert_pickle_weights(pickled_translator, target, "org/trans", "e" * 40)
    spec = ModelSpec(str(target), config_key="translation.model")
    assert locate_model(spec)[0] == target
    edit_in_place(target / "model.safetensors")
    with pytest.raises(ModelLoadError, match=r"translation.model: .*not the one converted.*run `summarizer fetch"):
        locate_model(spec)
