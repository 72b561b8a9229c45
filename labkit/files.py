"""Reading a file a user named, without trusting what it is.

A path can name a FIFO (reading blocks until someone writes), a device (``/dev/zero``
never ends) or a directory. :func:`read_regular_file` opens without blocking, asks the
open file (not the path, which may change in between) what it is, and reads at most
``limit`` bytes, so a wrong path costs one line of error and never a hang or all memory.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from labkit.errors import LabkitError

#: What ``stat`` calls each kind of file that is not a regular file, for the message.
KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
         (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
         (stat.S_ISSOCK, "a socket"))


def kind_of(mode: int) -> str:
    """``a directory``, ``a FIFO (named pipe)``... for a file that is not regular."""
    return next((name for test, name in KINDS if test(mode)), "not a regular file")


def read_regular_file(path: Path, limit: int, shown: str, what: str,
                      error: type[LabkitError]) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes.

    Anything else raises ``error`` with one line that starts with ``shown`` (the path as
    the user gave it) and says ``what`` was expected (``CSV file``).
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise error(f"{shown}: no such {what}") from None
    except IsADirectoryError:
        raise error(f"{shown}: is a directory, expected a {what}") from None
    except OSError as problem:
        raise error(f"{shown}: cannot be opened ({problem.strerror})") from None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
        os.close(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{shown}: is {kind_of(info.st_mode)}, expected a {what}")
        raise error(f"{shown}: is {info.st_size} bytes, more than the {limit} bytes "
                    f"a {what} may have")
    with os.fdopen(descriptor, "rb", buffering=0) as stream:
        chunks, size = [], 0
        try:
            while size <= limit and (chunk := stream.read(limit + 1 - size)):
                chunks.append(chunk)
                size += len(chunk)
        except OSError as problem:
            raise error(f"{shown}: cannot be read ({problem.strerror})") from None
    if size > limit:  # it grew while we read it
        raise error(f"{shown}: is more than the {limit} bytes a {what} may have")
    return b"".join(chunks)
