"""Writing files so that a reader sees the old file or the new one, never half of one.

The bytes go to a temporary file beside the target, ``.NAME.PID.RANDOM.tmp``, which is
flushed to disk and then renamed over the target. Along the way:

- the new file keeps the mode of the file it replaces (a new file gets the mode the
  umask gives, as ``open`` would, not the 0600 of ``tempfile.mkstemp``);
- a symlink at the target is followed: the file it points to is replaced, the link stays;
- only a regular file is ever replaced: a directory, FIFO, device or socket at the target,
  or a path through ``/dev`` or ``/proc`` (``/dev/stdout`` may lead to the log a shell
  opened for appending), is refused with :class:`labkit.errors.OutputError`;
- a process killed midway leaves its temporary file behind, so every write first removes
  the temporary files of the same target that labkit can prove it made: exactly its name
  pattern (``.NAME.PID.8 hex digits.tmp``), a regular file of this user, whose process
  is gone; a file that only looks similar is never touched;
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

from labkit.errors import OutputError
from labkit.files import kind_of

#: A temporary file of labkit's whose process is gone is removed on the next write; one
#: whose process id was reused since is removed once it is this old.
STALE_SECONDS = 24 * 3600
#: Folders whose entries are devices and processes' open files, never files to replace.
SPECIAL_FOLDERS = ("/dev/", "/proc/")


def atomic_write(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, flush it to disk, then rename
    it over ``path`` (a rename within one folder is atomic on POSIX and Windows)."""
    target = Path(os.path.realpath(path))  # through a symlink, to the file it names
    require_replaceable(path)
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
    require_replaceable(path)
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


def require_replaceable(path: str | os.PathLike[str]) -> None:
    """Raise :class:`OutputError` unless ``path`` is missing or a regular file that is
    not reached through ``/dev`` or ``/proc``: renaming over anything else would destroy
    it (a FIFO someone reads, ``/dev/null``, the log behind ``/dev/stdout``)."""
    text = os.fspath(path)
    if text == "":
        raise OutputError("the output path is empty; name a file")
    try:
        info = os.stat(text)
    except FileNotFoundError:
        return
    except OSError:
        return  # the write itself names the problem (permission, loop, ...)
    if stat.S_ISDIR(info.st_mode):
        return  # "Is a directory", from the write
    if not stat.S_ISREG(info.st_mode):
        raise OutputError(f"{text}: is {kind_of(info.st_mode)}; labkit replaces only "
                          f"regular files, so it was left as it is")
    folder = os.path.realpath(os.path.dirname(os.path.abspath(text)))
    if (special(os.path.abspath(text)) or special(folder + "/")
            or is_link_into_special(text)):
        raise OutputError(f"{text}: leads through /dev or /proc to an open file (a log "
                          f"a shell opened, perhaps); labkit will not replace it")


def is_link_into_special(path: str) -> bool:
    """Whether a chain of symlinks at ``path`` passes through ``/dev`` or ``/proc``."""
    seen = 0
    while os.path.islink(path) and seen < 40:
        path = os.path.join(os.path.dirname(path), os.readlink(path))
        if special(os.path.abspath(path)):
            return True
        seen += 1
    return False


def special(path: str) -> bool:
    """A path in ``/dev`` or ``/proc`` (``/dev/shm``, plain shared memory, excepted)."""
    return path.startswith(SPECIAL_FOLDERS) and not path.startswith("/dev/shm/")


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
    """Remove temporary files of ``target`` left by labkit processes that were killed.

    Only what :func:`create_temporary` makes qualifies: ``.NAME.PID.XXXXXXXX.tmp`` exactly
    (eight lower-case hex digits), a regular file with one link, owned by this user, whose
    process is gone (or, if the id was reused, older than :data:`STALE_SECONDS`)."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.([0-9]+)\.[0-9a-f]{{8}}\.tmp")
    try:
        names = os.listdir(target.parent)
    except OSError:
        return
    for name in names:
        found = pattern.fullmatch(name)
        if found is None:
            continue
        leftover = target.parent / name
        try:
            info = leftover.lstat()
            ours = (stat.S_ISREG(info.st_mode) and info.st_nlink == 1
                    and info.st_uid == os.geteuid())
            old = time.time() - info.st_mtime > STALE_SECONDS
            if ours and (old or not process_alive(int(found.group(1)))):
                leftover.unlink()
        except (OSError, OverflowError):
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
