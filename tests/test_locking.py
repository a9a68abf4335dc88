"""The run lock: one run per write location, never through a link, nothing created
before the arguments are checked."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import ARTICLE_VELO, many_articles, operations_config, write_config
from summarizer.cli import main
from summarizer.errors import LockHeldError, OutputWriteError
from summarizer.locking import LOCK_NAME, RunLock, lock_roots


def test_a_symlink_named_like_the_lock_is_never_followed(tmp_path: Path) -> None:
    victim = tmp_path / "precious.txt"
    victim.write_text("do not touch\n", encoding="utf-8")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / LOCK_NAME).symlink_to(victim)
    with pytest.raises(OutputWriteError, match="it is a symbolic link"):
        RunLock([folder]).acquire()
    assert victim.read_text(encoding="utf-8") == "do not touch\n"


def test_a_hard_link_named_like_the_lock_is_refused_and_its_file_untouched(tmp_path: Path) -> None:
    victim = tmp_path / "precious.txt"
    victim.write_text("do not touch\n", encoding="utf-8")
    folder = tmp_path / "in"
    folder.mkdir()
    os.link(victim, folder / LOCK_NAME)
    with pytest.raises(OutputWriteError, match="it is a hard link to another file"):
        RunLock([folder]).acquire()
    assert victim.read_text(encoding="utf-8") == "do not touch\n"


def test_a_fifo_named_like_the_lock_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / LOCK_NAME)
    with pytest.raises(OutputWriteError, match="not a regular file"):
        RunLock([tmp_path]).acquire()


@pytest.mark.parametrize("first_is_parent", [True, False])
def test_runs_on_a_folder_and_its_subfolder_exclude_each_other(tmp_path: Path, first_is_parent: bool) -> None:
    parent, child = tmp_path / "in", tmp_path / "in" / "sub"
    child.mkdir(parents=True)
    first, second = (parent, child) if first_is_parent else (child, parent)
    with RunLock([first]):
        with pytest.raises(LockHeldError) as caught:
            RunLock([second]).acquire()
    message = str(caught.value)
    assert f"another summarizer run (pid {os.getpid()}) holds the lock {first / LOCK_NAME}" in message
    assert f"overlaps this run's output location {second}" in message
    with RunLock([second]):  # released: nothing left behind blocks
        pass


def test_runs_on_separate_folders_and_stale_lock_files_do_not_block(tmp_path: Path) -> None:
    (tmp_path / "a" / "old").mkdir(parents=True)
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "old" / LOCK_NAME).write_text("123\n")  # left by a finished run
    with RunLock([tmp_path / "a"]), RunLock([tmp_path / "b"]):
        pass


def test_one_run_with_nested_inputs_locks_only_the_outer_folder(tmp_path: Path) -> None:
    (tmp_path / "in" / "sub").mkdir(parents=True)
    assert lock_roots([tmp_path / "in" / "sub", tmp_path / "in", tmp_path / "in"]) == [tmp_path / "in"]
    with RunLock([tmp_path / "in" / "sub", tmp_path / "in"]) as lock:
        assert lock.paths == [tmp_path / "in" / LOCK_NAME]


def _config(tmp_path: Path, name: str, body: str) -> Path:
    return write_config(tmp_path / name, body)


def test_two_configs_sharing_an_output_folder_exclude_each_other(tmp_path: Path, capsys) -> None:
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "velo.txt").write_text(ARTICLE_VELO, encoding="utf-8")
    second = _config(tmp_path, "two.yaml", "inputs: {paths: [two]}\noutputs: {dir: shared}\n")
    with RunLock([tmp_path / "shared"]):  # the first config's run
        assert main(["run", "-c", str(second)]) == 75
    assert f"holds the lock {tmp_path / 'shared' / LOCK_NAME}" in capsys.readouterr().err


def test_a_run_on_a_subfolder_waits_for_the_run_on_its_parent(tmp_path: Path, capsys) -> None:
    (tmp_path / "in" / "sub").mkdir(parents=True)
    (tmp_path / "in" / "sub" / "velo.txt").write_text(ARTICLE_VELO, encoding="utf-8")
    config = _config(tmp_path, "job.yaml", "inputs: {paths: [in]}\n")
    with RunLock([tmp_path / "in"]):
        assert main(["run", "-c", str(config), "--input", str(tmp_path / "in" / "sub")]) == 75
    assert "overlaps this run's output location" in capsys.readouterr().err
    assert not list((tmp_path / "in").rglob("*.meta.json"))


def test_a_file_that_is_not_an_article_exits_66_and_creates_nothing(tmp_path: Path, capsys) -> None:
    system = tmp_path / "etc"
    system.mkdir()
    (system / "passwd").write_text("root:x:0:0::/root:/bin/sh\n", encoding="utf-8")
    config = _config(tmp_path, "job.yaml", "inputs: {paths: [in]}\nreports: {dir: reports}\n")
    (tmp_path / "in").mkdir()
    before = sorted(p.name for p in system.iterdir())
    assert main(["run", "-c", str(config), "--input", str(tmp_path / "in"), str(system / "passwd")]) == 66
    assert "passwd: not an article file" in capsys.readouterr().err
    assert sorted(p.name for p in system.iterdir()) == before
    assert not (tmp_path / "in" / LOCK_NAME).exists()
    (report,) = (tmp_path / "reports").glob("*/report.json")  # the job's own folder: the morning sees it
    assert json.loads(report.read_text(encoding="utf-8"))["exit_code"] == 66


def test_a_second_run_exits_75_while_the_first_holds_the_lock(tmp_path, tiny_models, capsys) -> None:
    many_articles(tmp_path / "articles", 1)
    config = operations_config(tmp_path, tiny_models)
    with RunLock([tmp_path / "articles"]):
        assert main(["run", "-c", str(config)]) == 75
    err = capsys.readouterr().err
    lock = tmp_path / "articles" / ".summarizer.lock"
    assert f"another summarizer run (pid {os.getpid()}) holds the lock {lock}; exiting" in err
    assert not list((tmp_path / "articles").glob("*.meta.json"))
    assert main(["run", "-c", str(config)]) == 0  # released: no stale lock
    assert lock.read_text() == ""


def test_dry_run_does_not_take_the_lock(tmp_path, tiny_models) -> None:
    many_articles(tmp_path / "articles", 1)
    config = operations_config(tmp_path, tiny_models)
    with RunLock([tmp_path / "articles"]):
        assert main(["run", "-c", str(config), "--dry-run"]) == 0
