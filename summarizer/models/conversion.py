"""Conversions the job makes once into a cache folder, and pickle weights to safetensors.

``convert_once`` makes every conversion (a GGUF file, pickle weights; CTranslate2 can
call it too): under an flock on ``.NAME.lock`` beside the folder ``NAME`` (a second
converter waits for the first, then uses what it made), into a staging folder
``.NAME.PID.converting`` renamed into place, every file given the mode a new file gets
(0666 less the umask: safetensors writes 0600), ``summarizer-manifest.json`` (each
file's size and SHA-256) written last. A staging folder whose lock no live process holds
was left by a killed conversion (a pid is no proof: pids are reused): the next
conversion or load in that cache folder removes it, under its lock.

``conversion_problem`` checks a conversion against its manifest: names and sizes, then
each file's stamp (size, mtime, ctime, inode) against those of its last full check
(kept in ``.summarizer-checked.json`` in the folder, and in memory), hashing the files
only when a stamp differs. An edit in place changes a file's ctime, which no one can
set back, so it is always hashed; a night with nothing changed hashes nothing.

The pickle (``pytorch_model.bin``) is read with torch's restricted loader
(``weights_only=True``: tensors and plain containers only, no code runs; safe
on torch 2.10 and later, which the package requires), the model is saved as
``model.safetensors`` with its config, generation config and tokenizer files,
and ``summarizer-source.json`` says which repository and commit the weights came
from. Runs only ever load the safetensors.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import stat
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from .._version import __version__
from ..errors import ModelLoadError, OutputWriteError
from ..io.files import parse_json, read_json_object, read_regular_file
from ..io.folders import atomic_write_json, new_file_mode
from ..locking import lock_holder, open_lock_file, take_lock

logger = logging.getLogger(__name__)

SOURCE_FILE = "summarizer-source.json"
MANIFEST_FILE = "summarizer-manifest.json"
CHECK_FILE = ".summarizer-checked.json"
"""The stamps of the conversion's files when it last matched its manifest in full."""
_WEIGHT_SUFFIXES = (".bin", ".safetensors", ".h5", ".msgpack", ".ckpt", ".pt", ".pth")
_STAGING = re.compile(r"\.(?P<name>.+)\.\d+\.(?:converting|discarded)")
_MAX_MANIFEST_BYTES = 1024 * 1024
_checked: dict[str, tuple[str | None, dict[str, list[int]]]] = {}
"""Conversions this process checked in full: folder -> (manifest digest, file stamps)."""


# ---------------------------------------------------------------- making once


def convert_once(target: Path, make: Callable[[Path], None]) -> Path:
    """``target``, made by ``make(staging)`` (an empty folder it fills) unless it is there
    and matches its manifest. Made under the conversion's lock, waiting for another
    process's conversion of it; a bad ``target`` is replaced whole. Whatever ``make``
    raises is raised, its staging folder removed."""
    remove_stale_staging(target.parent)
    if conversion_problem(target) is None:
        return target
    with _conversion_lock(target, wait=True):
        _remove_staging_of(target)  # under its lock: none of them is live
        problem = conversion_problem(target)
        if problem is None:
            return target  # made by the process this one waited for
        if os.path.lexists(target):
            logger.warning("%s %s; converting it again", target, problem)
        staging = target.with_name(f".{target.name}.{os.getpid()}.converting")
        try:
            staging.mkdir()
            make(staging)
            _seal(staging)
            _swap(staging, target)
        except BaseException:
            _remove(staging)
            raise
        _record_check(target, _file_stamps(target))
    return target


@contextlib.contextmanager
def _conversion_lock(target: Path, *, wait: bool) -> Iterator[bool]:
    """The conversion's lock, ``.NAME.lock`` beside it: True once held (with ``wait``,
    after waiting for its holder); False when another holds it. OutputWriteError when
    the lock file cannot be used. The holder removes the file before it lets go: one that
    got the lock of a removed file tries the new one."""
    path = target.with_name(f".{target.name}.lock")
    while True:
        fd = open_lock_file(path)
        try:
            held = take_lock(fd, wait=False)
            if not held and wait:
                logger.info("waiting for pid %s, which is converting %s", lock_holder(fd), target)
                held = take_lock(fd, wait=True)
        except BaseException:
            os.close(fd)
            raise
        if not held or _names(path, fd):
            break
        os.close(fd)  # the file was removed while this process waited for it
    try:
        yield held
    finally:
        if held:
            with contextlib.suppress(OSError):
                os.unlink(path)
        os.close(fd)  # releases the lock


def _names(path: Path, fd: int) -> bool:
    """Whether ``path`` still names the open file ``fd``."""
    try:
        named, opened = os.stat(path, follow_symlinks=False), os.fstat(fd)
    except OSError:
        return False
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


def remove_stale_staging(folder: Path) -> None:
    """Remove the staging folders in ``folder`` that no live conversion holds (a killed
    conversion's), each under its conversion's lock; a held one is left alone."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return
    for target in sorted({folder / name for name in map(_staged, names) if name}):
        try:
            with _conversion_lock(target, wait=False) as held:
                if held:
                    _remove_staging_of(target)
        except OutputWriteError as exc:  # a cache this account cannot write: left as it is
            logger.debug("cannot clean the staging folders of %s: %s", target, exc)


def _remove_staging_of(target: Path) -> None:
    """Remove ``target``'s staging folders (the caller holds its lock)."""
    with contextlib.suppress(OSError):
        for name in sorted(os.listdir(target.parent)):
            if _staged(name) == target.name:
                _remove(target.parent / name)
                logger.info("removed %s, left by a conversion that did not finish", target.parent / name)


def _staged(name: str) -> str | None:
    """The name of the conversion a staging folder (or a set-aside old one) is for."""
    found = _STAGING.fullmatch(name)
    return found["name"] if found and found["name"] not in (".", "..") else None


def _remove(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        with contextlib.suppress(OSError):
            path.unlink()
    else:
        shutil.rmtree(path, ignore_errors=True)


def _seal(staging: Path) -> None:
    """Every file of ``staging`` given the mode of a new file and flushed to disk, then the
    manifest of their names, sizes and SHA-256, written last."""
    mode, files = new_file_mode(), {}
    for name in _file_names(staging):
        fd = os.open(staging / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            os.fchmod(fd, mode)
            os.fsync(fd)
            files[name] = {"size": os.fstat(fd).st_size, "sha256": _fd_sha256(fd)}
        finally:
            os.close(fd)
    manifest = {"made_by": f"summarizer {__version__}", "files": files}
    atomic_write_json(staging / MANIFEST_FILE, manifest)


def _swap(staging: Path, target: Path) -> None:
    """Put ``staging`` in ``target``'s place (an old ``target`` is set aside, then removed)."""
    if not os.path.lexists(target):
        os.replace(staging, target)
        return
    old = target.with_name(f".{target.name}.{os.getpid()}.discarded")
    _remove(old)
    os.replace(target, old)
    os.replace(staging, target)
    _remove(old)


# ------------------------------------------------------------------- checking


def conversion_problem(folder: Path) -> str | None:
    """What is wrong with the conversion in ``folder`` (a phrase: "is missing", "holds X,
    which its manifest does not list"...), or None when it matches its manifest."""
    if not folder.is_dir():
        return "is missing"
    manifest, digest = _manifest(folder)
    if manifest is None:
        return f"has no readable {MANIFEST_FILE} (made by an earlier version, or damaged)"
    try:
        stamps = _file_stamps(folder)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    for name in sorted(set(stamps) | set(manifest)):
        if name not in manifest:
            return f"holds {name}, which its {MANIFEST_FILE} does not list"
        if name not in stamps:
            return f"has lost {name}"
        if stamps[name][0] != manifest[name]["size"]:
            return f"has a {name} of another size than when it was converted"
    if _checked.get(str(folder)) == (digest, stamps) or _recorded_check(folder) == (digest, stamps):
        return None
    for name in sorted(manifest):
        try:
            sha256 = _path_sha256(folder / name)
        except OSError as exc:
            return f"cannot be read ({name}: {exc.strerror or exc})"
        if sha256 != manifest[name]["sha256"]:
            return f"has a {name} that is not the one converted (it changed since)"
    _record_check(folder, stamps)
    return None


def conversion_digest(folder: Path) -> str | None:
    """The conversion's own digest (the SHA-256 of its manifest: every file's name, size and
    hash), for meta files; None without a readable manifest."""
    return _manifest(folder)[1]


def _manifest(folder: Path) -> tuple[dict[str, dict[str, object]] | None, str | None]:
    """The manifest's files (name -> size and sha256) and the manifest's SHA-256."""
    try:
        data = read_regular_file(folder / MANIFEST_FILE, _MAX_MANIFEST_BYTES)
        files = parse_json(data.decode("utf-8")).get("files")
    except (ValueError, AttributeError):
        return None, None
    good = isinstance(files, dict) and all(
        isinstance(entry, dict)
        and isinstance(entry.get("size"), int)
        and isinstance(entry.get("sha256"), str)
        for entry in files.values()
    )
    return (files, hashlib.sha256(data).hexdigest()) if good else (None, None)


def _file_names(folder: Path) -> list[str]:
    """The files of a conversion, as paths relative to it: not its manifest, nor hidden
    files (transformers reads none; a check's own record and temporary files are)."""
    found = []
    for here, subfolders, files in os.walk(folder):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        base = Path(here).relative_to(folder)
        found += [(base / name).as_posix() for name in sorted(files) if not name.startswith(".")]
    return [name for name in found if name != MANIFEST_FILE]


def file_stamp(info: os.stat_result) -> list[int]:
    """What says a file is unchanged since it was hashed: its size, mtime, ctime and inode
    (an edit in place changes the ctime, even when its size and mtime are put back)."""
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]


def _file_stamps(folder: Path) -> dict[str, list[int]]:
    """``file_stamp`` of each file of the conversion in ``folder``."""
    stamps = {}
    for name in _file_names(folder):
        info = os.lstat(folder / name)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"{name} is not a regular file")
        stamps[name] = file_stamp(info)
    return stamps


def _recorded_check(folder: Path) -> tuple[object, object] | None:
    record = read_json_object(folder / CHECK_FILE) or {}
    return (record.get("manifest"), record.get("stamps")) if "stamps" in record else None


def _record_check(folder: Path, stamps: dict[str, list[int]]) -> None:
    """Remember that ``folder`` matched its manifest with these stamps: in this process,
    and in the folder when this account may write there (else the next process hashes)."""
    digest = conversion_digest(folder)
    _checked[str(folder)] = (digest, stamps)
    try:
        atomic_write_json(folder / CHECK_FILE, {"manifest": digest, "stamps": stamps})
    except OutputWriteError as exc:
        logger.debug("cannot record the check of %s: %s", folder, exc)


def _fd_sha256(fd: int) -> str:
    digest = hashlib.sha256()
    while block := os.read(fd, 1 << 20):
        digest.update(block)
    return digest.hexdigest()


def _path_sha256(path: Path) -> str:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        return _fd_sha256(fd)
    finally:
        os.close(fd)


# ------------------------------------------------------------ pickle weights


def converted_folder(root: Path, model: str, commit: str) -> Path:
    """Where the conversion of ``model@commit`` lives under the job's cache ``root``."""
    slug = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in model)
    return root / "converted" / f"{slug}-{commit[:12]}"


def convert_pickle_weights(snapshot: Path, target: Path, model: str, commit: str) -> Path:
    """The safetensors conversion of the pickle checkpoint in ``snapshot``, made once
    into ``target`` (``convert_once``: made again when it does not match its manifest)."""

    def make(staging: Path) -> None:
        from transformers import AutoModelForSeq2SeqLM

        for entry in snapshot.iterdir():  # tokenizer and config files, not the weights
            if entry.is_file() and not entry.name.endswith(_WEIGHT_SUFFIXES) and "pytorch_model" not in entry.name:
                shutil.copyfile(entry, staging / entry.name)
        model_object = AutoModelForSeq2SeqLM.from_pretrained(
            str(snapshot), use_safetensors=False, weights_only=True, trust_remote_code=False
        )
        model_object.save_pretrained(str(staging), safe_serialization=True)
        source = {
            "repo": model,
            "commit": commit,
            "converted_from": sorted(p.name for p in snapshot.iterdir() if p.name.startswith("pytorch_model")),
            "converted_by": f"summarizer {__version__}",
            "converted_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        (staging / SOURCE_FILE).write_text(json.dumps(source, indent=2) + "\n", encoding="utf-8")

    try:
        return convert_once(target, make)
    except Exception as exc:  # noqa: BLE001 - unpickling refused, a broken checkpoint, disk full
        raise ModelLoadError(
            f"{model}@{commit}: its pickle weights could not be converted to safetensors "
            f"({type(exc).__name__}: {' '.join(str(exc).split())[:300]})"
        ) from None
