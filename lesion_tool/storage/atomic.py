"""Atomic file output: a file is either its old version or its complete new one, never a part.

Every output of the tool (assessments, SRs, CSVs, reports) goes through :func:`atomic_write`:
the content is written to a hidden temporary file beside the target, flushed and fsynced, then
renamed over the target with :func:`os.replace`, and the folder is fsynced so the rename survives
a crash. A full disk or a kill leaves the old file (or none) and no temporary file behind.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from lesion_tool.errors import LesionToolError

__all__ = ["atomic_write", "fsync_dir", "refuse_inputs_as_outputs"]


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (a rename) to disk where the platform allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_TMP_SUFFIX = ".tmp"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _remove_orphans(target: Path) -> None:
    """Delete temporary files of ``target`` left by a writer that was killed mid-write.

    Temporary names carry the writer's process id (``.NAME.PID.RANDOM.tmp``); one whose process
    is gone can never be completed, so it is removed. Another live writer's file is left alone.
    """
    head = f".{target.name}."
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if not (name.startswith(head) and name.endswith(_TMP_SUFFIX)):
            continue
        pid_text = name[len(head) :].split(".", 1)[0]
        if pid_text.isdigit() and int(pid_text) != os.getpid() and not _pid_alive(int(pid_text)):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def _new_file_mode() -> int:
    """The mode an ordinary new file gets here (0o666 less the umask), read without a race."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "w", *, overwrite: bool = True
) -> Iterator[IO[Any]]:
    """Open a temporary file to write ``path`` with; on success it replaces ``path`` atomically.

    A symlink is followed, so the file it points to is updated and the link kept. The new file
    keeps the mode of the file it replaces (or gets the usual mode of a new file, not the 0600 of
    a temporary one). On any error the temporary file is removed and ``path`` is untouched.

    Raises
    ------
    FileExistsError
        ``overwrite`` is false and ``path`` exists (checked before anything is written).
    OSError
        The folder cannot be written (the message is the system's).
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    target = Path(os.path.realpath(path))
    if not overwrite and target.exists():
        raise FileExistsError(f"{path} exists")
    try:
        file_mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        file_mode = _new_file_mode()
    folder = target.parent
    _remove_orphans(target)
    prefix = f".{target.name}.{os.getpid()}."
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=_TMP_SUFFIX)
    tmp = Path(tmp_name)
    try:
        text = {"encoding": "utf-8", "newline": ""} if mode == "w" else {}
        with os.fdopen(fd, mode, **text) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, file_mode)
        if not overwrite and target.exists():
            raise FileExistsError(f"{path} exists")
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(folder)


def refuse_inputs_as_outputs(
    outputs: Iterable[tuple[str, str | os.PathLike[str] | None]],
    inputs: Iterable[str | os.PathLike[str]],
) -> None:
    """Raise before anything is written when an output would replace one of the inputs.

    ``outputs`` pairs each option's name (for the message) with its path (None or ``-`` for
    none / standard output). An existing output is compared with the inputs as a file on disk
    (device and inode: symbolic and hard links, ``..``), so ``rescore a.json --timepoints-csv
    ./a.json`` is caught as well as the literal repeat; one not there yet by its absolute path.
    One ``stat`` per input, not a ``realpath`` (a look-up per folder level): a trial has 10^4.
    """
    existing: dict[tuple[int, int], tuple[str, str | os.PathLike[str]]] = {}
    missing: dict[str, tuple[str, str | os.PathLike[str]]] = {}
    for option, out in outputs:
        if out is None or str(out) == "-":
            continue
        try:
            info = os.stat(out)
        except OSError:
            missing[os.path.abspath(out)] = (option, out)
        else:
            existing[(info.st_dev, info.st_ino)] = (option, out)
    if not existing and not missing:
        return
    for path in inputs:
        hit = missing.get(os.path.abspath(path)) if missing else None
        if hit is None and existing:
            try:
                info = os.stat(path)
            except OSError:
                continue
            hit = existing.get((info.st_dev, info.st_ino))
        if hit is not None:
            option, out = hit
            raise LesionToolError(
                f"{option} {out} is the input file {Path(path)}; writing it would destroy the "
                "input. Choose another output file."
            )
