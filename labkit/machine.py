"""What the machine gives the lab: how much memory this process and its children may use.

On Binder a session is a container with 2 GB, whatever the host has; a laptop has its own
memory. labkit sizes Spark's driver from this (:mod:`labkit.spark`) and checks it before it
starts distributed ranks (:mod:`labkit.launch`), so that a run too big for the machine stops
with one line instead of being killed half-way.
"""

from __future__ import annotations

import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _cgroup_limit_files() -> list[Path]:
    """Where this process's memory limit may be written: its container's root (cgroup v2,
    as on Binder, or v1) and its own cgroup's folder, as /proc/self/cgroup names it."""
    files = [CGROUP_ROOT / "memory.max", CGROUP_ROOT / "memory" / "memory.limit_in_bytes"]
    try:
        entries = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        entries = []
    for entry in entries:
        _, controllers, path = entry.split(":", 2)
        if controllers == "":  # cgroup v2
            files.append(CGROUP_ROOT / path.lstrip("/") / "memory.max")
        elif "memory" in controllers.split(","):
            files.append(CGROUP_ROOT / "memory" / path.lstrip("/") / "memory.limit_in_bytes")
    return files


def memory_bytes() -> int | None:
    """Memory this process may use: its container's limit where there is one, as on Binder,
    else the machine's physical memory; None where neither is known."""
    limits = []
    for path in _cgroup_limit_files():
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            limits.append(int(text))
    try:
        limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        pass
    return min(limits) if limits else None
