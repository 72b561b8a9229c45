"""Where a command may write, decided before any work: never over what it reads, never by
replacing something that is not a regular file.

Each output option names a path, and the path decides how it is written:

- a regular file, or nothing yet: replaced whole by :func:`labkit.atomic.atomic_write`,
  unless it is a file the command reads (``--data``, also through a symlink, a ``file:``
  URI or a hard link: files are compared by device and inode) or the file standard
  output or standard error goes to (a log the shell opened for appending);
- for text (``--metrics-json``) only, a target that is a stream is written *through*,
  never replaced: ``/dev/stdout`` (or anything that is the same file as standard output)
  gets the text on standard output, so ``>> build.log`` appends to the log; a character
  device (``/dev/null``, a terminal) or a FIFO is opened for writing and written;
- anything else (a directory, a socket, a block device, a stream as the model) is refused
  in one line, as are an empty path and a path ending in ``/``.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from labkit.atomic import atomic_write, check_writable, require_replaceable
from labkit.errors import OutputError
from labkit.files import kind_of

#: Standard output and standard error: the descriptors, and the names they go by.
STREAMS = {1: "standard output", 2: "standard error"}


@dataclass(frozen=True)
class Output:
    """One output option, checked: where and how it will be written."""

    option: str
    path: str
    stream: int | None = None  # write to this descriptor (1 or 2)
    through: bool = False  # open the device or FIFO and write, never replace


def identity(info: os.stat_result) -> tuple[int, int]:
    return info.st_dev, info.st_ino


def stream_identities() -> dict[tuple[int, int], int]:
    """The files standard output and standard error are now, by (device, inode)."""
    found = {}
    for descriptor in STREAMS:
        try:
            found.setdefault(identity(os.fstat(descriptor)), descriptor)
        except OSError:
            continue  # closed
    return found


def plan_output(option: str, path: str, inputs: dict[str, Path], *, text: bool) -> Output:
    """Check one output path; return how to write it, or raise :class:`OutputError`.

    ``inputs`` maps an option (``--data``) to the file it reads; ``text`` allows writing
    through a stream (a model must be a regular file, to be loaded again)."""
    shown = f"{option} {path!r}"
    if path == "":
        raise OutputError(f"{option} is empty; name the file to write")
    if path.endswith(("/", os.sep)):
        raise OutputError(f"{shown} ends with '/', so it names a folder; name a file in it")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise OutputError(f"{shown}: {error.strerror}") from None
    if info is None:
        check_writable(path)
        return Output(option, path)
    descriptor = stream_identities().get(identity(info))
    for name, read in inputs.items():
        try:
            if identity(info) == identity(os.stat(read)):
                raise OutputError(f"{shown} is the file {name} reads; writing it would "
                                  f"destroy the input, so choose another path")
        except FileNotFoundError:
            continue
    if descriptor is not None:
        if not text:
            raise OutputError(f"{shown} is where {STREAMS[descriptor]} goes; the model "
                              f"must be a file of its own")
        return Output(option, path, stream=descriptor)
    if stat.S_ISDIR(info.st_mode):
        raise OutputError(f"{shown} is a directory; name a file")
    if stat.S_ISCHR(info.st_mode) or stat.S_ISFIFO(info.st_mode):
        if not text:
            raise OutputError(f"{shown} is {kind_of(info.st_mode)}; the model must be a "
                              f"regular file, to be loaded again")
        return Output(option, path, through=True)
    if not stat.S_ISREG(info.st_mode):
        raise OutputError(f"{shown} is {kind_of(info.st_mode)}; name a regular file")
    require_replaceable(path)
    check_writable(path)
    return Output(option, path)


def plan_outputs(wanted: list[tuple[str, str, bool]], inputs: dict[str, Path]
                 ) -> list[Output]:
    """:func:`plan_output` for each ``(option, path, text)``, and no two outputs may be
    the same file (nor the same device or stream: both would be written into it)."""
    outputs = [plan_output(option, path, inputs, text=text) for option, path, text in wanted]
    seen: dict[object, str] = {}
    for output in outputs:
        try:
            key: object = identity(os.stat(output.path))
        except OSError:
            key = os.path.realpath(output.path)
        if key in seen:
            raise OutputError(f"{seen[key]} and {output.option} name the same file "
                              f"{output.path!r}")
        seen[key] = output.option
    return outputs


def write_output(output: Output, data: bytes) -> None:
    """Write ``data`` as :func:`plan_output` decided: through a stream, or whole."""
    if output.stream is not None:
        stream = sys.stdout if output.stream == 1 else sys.stderr
        stream.flush()
        stream.write(data.decode())
        stream.flush()
    elif output.through:
        flags = os.O_WRONLY | os.O_APPEND | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
        descriptor = os.open(output.path, flags)  # no O_CREAT, no O_TRUNC: written into
        try:
            if stat.S_ISREG(os.fstat(descriptor).st_mode):  # it changed since the check
                raise OutputError(f"{output.option} {output.path!r} became a regular "
                                  f"file during the run; nothing was written")
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view):]
        finally:
            os.close(descriptor)
    else:
        atomic_write(output.path, data)
