"""The ``LABKIT_*`` environment variables, checked as strictly as the options.

A setting is read where it is used (:mod:`labkit.spark`, :mod:`labkit.pipeline`), through
the functions here, so a bad value is an :class:`labkit.errors.InputError` that names the
variable, not a Java stack trace a minute later. :func:`check_all` runs them all at once:
the command line calls it with the options, before any work. An empty value counts as
unset, as a shell's ``NAME= command`` means.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

from labkit.errors import InputError
from labkit.machine import memory_bytes
from labkit.master import parse_master, redact

MASTER = "LABKIT_SPARK_MASTER"
DRIVER_MEMORY = "LABKIT_SPARK_DRIVER_MEMORY"
CACHE = "LABKIT_CACHE"
#: Every variable labkit or its scripts read (the last two: ``scripts/``, at set-up).
KNOWN = (MASTER, DRIVER_MEMORY, CACHE, "LABKIT_BUILD_JOBS", "LABKIT_WHEEL_CACHE")

#: A JVM memory size as ``-Xmx`` takes it: digits and an optional unit.
JVM_SIZE = re.compile(r"([0-9]{1,9})([kmgt]?)", re.ASCII | re.IGNORECASE)
UNIT_BYTES = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
#: Spark refuses a driver heap under 450 MiB; labkit asks for at least this much.
MIN_DRIVER_MIB = 512


def setting(name: str) -> str | None:
    """The variable's value, or ``None`` when it is unset or empty."""
    value = os.environ.get(name, "")
    return value if value.strip() else None


def spark_master() -> str | None:
    """``LABKIT_SPARK_MASTER``, checked as ``--master`` is."""
    value = setting(MASTER)
    if value is not None:
        try:
            parse_master(value)
        except InputError as error:
            raise InputError(f"{MASTER}: {error}") from None
    return value


def driver_memory() -> str | None:
    """``LABKIT_SPARK_DRIVER_MEMORY`` (``768m``, ``2g``): a JVM size from 512m to the
    memory this machine allows."""
    value = setting(DRIVER_MEMORY)
    if value is None:
        return None
    found = JVM_SIZE.fullmatch(value.strip())
    if found is None:
        raise InputError(f"{DRIVER_MEMORY}={redact(value)!r} is not a memory size such as "
                         f"768m or 2g")
    size = int(found[1]) * UNIT_BYTES[found[2].lower()]
    total = memory_bytes()
    if size < MIN_DRIVER_MIB * 2**20:
        raise InputError(f"{DRIVER_MEMORY}={value.strip()}: Spark's driver needs at least "
                         f"{MIN_DRIVER_MIB}m")
    if total is not None and size > total:
        raise InputError(f"{DRIVER_MEMORY}={value.strip()} is more than the "
                         f"{total // 2**20} MiB this machine allows")
    return value.strip()


def cache_root() -> Path:
    """Where prepared rows are kept: ``LABKIT_CACHE`` (``~`` expanded), else
    ``~/.cache/labkit``; refused where neither gives an absolute folder (``HOME`` unset
    or empty would put it at the file system's root or the current folder)."""
    value = setting(CACHE)
    if value is not None:
        root = Path(os.path.expanduser(value))
        if str(root).startswith("~"):
            raise InputError(f"{CACHE}={value!r}: no such user's home folder")
        if not root.is_absolute():
            raise InputError(f"{CACHE}={value!r} is not an absolute path")
        return root
    home = os.path.expanduser("~")
    if not os.path.isabs(home) or home == "/":
        raise InputError(f"HOME is {os.environ.get('HOME', 'unset')!r}, so labkit has no "
                         f"folder for its cache; set HOME, or {CACHE} to a folder")
    return Path(home) / ".cache" / "labkit"


def unknown() -> None:
    """Refuse a ``LABKIT_*`` variable that looks like a misspelt one labkit reads."""
    for name in sorted(os.environ):
        if name.startswith("LABKIT_") and name not in KNOWN:
            close = difflib.get_close_matches(name, KNOWN, n=1, cutoff=0.8)
            if close:
                raise InputError(f"{name} is not a labkit setting; did you mean {close[0]}?")


def check_all(spark: bool = True) -> None:
    """Every setting at once (the command line, before any work); those of Spark and
    the prepared-data cache only for a command that prepares data."""
    unknown()
    if spark:
        spark_master()
        driver_memory()
        cache_root()
