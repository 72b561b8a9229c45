"""Writing files so that a reader sees the old file or the new one, never half of one.

The bytes go to a temporary file beside the target, ``.NAME.PID.RANDOM.tmp``, which is
flushed to disk and then renamed over the target. Along the way:

- the new file keeps the mode of the file it replaces (a new file gets the mode the
  umask gives, as ``open`` would, not the 0600 of ``tempfile.mkstemp``);
- a symlink at the target is followed: the file it points to is replaced, the link stays;
- a process killed midway leaves its temporary file behind, so every write first removes
  the temporary files of the same target whose process is gone;
- an error names the path the caller gave, never the temporary file.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: A temporary file nobody's process owns any more is removed on the next write; one whose
#: process id cannot be read (or was reused) is removed once it is this old.
STALE_SECONDS = 24 * 3600


def atomic_write(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, flush it to disk, then rename
    it over ``path`` (a rename within one folder is atomic on POSIX and Windows)."""
    target = Path(os.path.realpath(path))  # through a symlink, to the file it names
    with naming(path):  # an OSError names the caller's path, not the temporary file
        make_folder(target.parent)
        remove_stale_temporaries(target)
        handle, temporary = create_temporary(target)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    return Path(path)


def check_writable(path: str | os.PathLike[str]) -> None:
    """Raise the ``OSError`` that :func:`atomic_write` would raise for ``path``, now,
    by creating (and removing) a temporary file in the folder that would hold it.
    Creates no folder: the nearest existing one is tried instead."""
    target = Path(os.path.realpath(path))
    with naming(path):
        if target.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        folder = target.parent
        while not folder.exists():
            folder = folder.parent
        if not folder.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
        handle, temporary = create_temporary(folder / target.name)
        os.close(handle)
        temporary.unlink()


def make_folder(folder: Path) -> None:
    """Create ``folder`` and its parents; a file in the way is "Not a directory"."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR)) from None


@contextmanager
def naming(path: str | os.PathLike[str]) -> Iterator[None]:
    """Re-raise an ``OSError`` with ``path`` as its file name."""
    try:
        yield
    except OSError as error:
        if error.errno is None:
            raise
        raise OSError(error.errno, error.strerror, os.fspath(path)) from None


def create_temporary(target: Path) -> tuple[int, Path]:
    """Create ``.NAME.PID.RANDOM.tmp`` beside ``target``, with ``target``'s mode."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    handle = os.open(temporary, flags, 0o666)  # the umask applies, as for open()
    try:
        if hasattr(os, "fchmod") and target.exists():
            os.fchmod(handle, stat.S_IMODE(target.stat().st_mode))
    except BaseException:
        os.close(handle)
        temporary.unlink(missing_ok=True)
        raise
    return handle, temporary


def remove_stale_temporaries(target: Path) -> None:
    """Remove temporary files of ``target`` left by processes that were killed."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(\d+\.)?\w+\.tmp")
    try:
        names = os.listdir(target.parent)
    except OSError:
        return
    for name in names:
        found = pattern.fullmatch(name)
        if found is None:
            continue
        leftover = target.parent / name
        pid = int(found.group(1)[:-1]) if found.group(1) else None
        try:
            old = time.time() - leftover.lstat().st_mtime > STALE_SECONDS
            if old or (pid is not None and not process_alive(pid)):
                leftover.unlink()
        except OSError:
            continue  # gone already, or not ours to remove


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
