"""Checking a Spark master URL before Spark is started with it.

Spark itself takes a minute and hundreds of lines of Java to say that nobody listens at
``spark://127.0.0.1:7077``, and ``local[0]`` or an empty ``spark://`` fail in as many
ways. :func:`parse_master` refuses what cannot be a master URL, :func:`reach_master`
refuses, within :data:`REACH_SECONDS`, a master nobody answers at.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from urllib.parse import urlsplit

from labkit.errors import InputError

#: How long :func:`reach_master` may take in all.
REACH_SECONDS = 15.0
#: How long one TCP connection attempt may take.
CONNECT_SECONDS = 5.0

LOCAL = re.compile(r"local(\[(?P<threads>[0-9]+|\*)(,(?P<failures>[0-9]+))?\])?", re.ASCII)
LOCAL_CLUSTER = re.compile(r"local-cluster\[([0-9]+),([0-9]+),([0-9]+)\]", re.ASCII)
HOST_PORT = re.compile(r"(?P<host>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\]):(?P<port>[0-9]{1,5})",
                       re.ASCII)
KINDS = "local, local[N], spark://HOST:PORT, yarn, k8s://HOST:PORT"
#: ``user:password@`` in a URL: the password is never repeated in a message.
USER_INFO = re.compile(r"(?P<user>[^/@:\s]*):[^/@\s]*@")


def redact(text: str) -> str:
    """``text`` with any password in it (``user:secret@host``) shown as ``***``."""
    return USER_INFO.sub(lambda found: f"{found['user']}:***@", text)


def parse_master(text: str) -> list[tuple[str, int]]:
    """Check ``text`` is a master URL Spark can use; return the (host, port) addresses
    to reach (none for ``local``). Raises :class:`InputError` in one line, which never
    shows a password the URL holds."""
    try:
        return _parse_master(text)
    except InputError as error:
        raise InputError(redact(str(error))) from None


def _parse_master(text: str) -> list[tuple[str, int]]:
    local = LOCAL.fullmatch(text)
    if local:
        if local["threads"] not in (None, "*") and int(local["threads"]) < 1:
            raise InputError(f"{text!r} runs no tasks; use local[N] with N of 1 or more")
        return []
    cluster = LOCAL_CLUSTER.fullmatch(text)
    if cluster:
        if min(int(n) for n in cluster.groups()) < 1:
            raise InputError(f"{text!r}: workers, cores and memory must be 1 or more")
        return []
    if text == "yarn":
        if not (os.environ.get("HADOOP_CONF_DIR") or os.environ.get("YARN_CONF_DIR")):
            raise InputError("'yarn' needs the cluster's configuration in HADOOP_CONF_DIR "
                             "or YARN_CONF_DIR, and neither is set")
        return []
    if text.startswith("spark://"):
        return [_address(text, part) for part in text[len("spark://"):].split(",")]
    if text.startswith("k8s://"):
        rest = text[len("k8s://"):]
        try:
            url = urlsplit(rest if "://" in rest else f"https://{rest}")
            port = url.port or (443 if url.scheme == "https" else 80)
        except ValueError:  # "Invalid IPv6 URL", a port that is not a number
            url, port = None, 0
        if url is None or not url.hostname or not 0 < port < 65536:
            raise InputError(f"{text!r} names no Kubernetes API server (k8s://HOST:PORT)")
        return [(url.hostname, port)]  # type: ignore[union-attr]
    raise InputError(f"{text!r} is not a Spark master URL ({KINDS})")


def _address(text: str, part: str) -> tuple[str, int]:
    found = HOST_PORT.fullmatch(part)
    if found is None or not 0 < int(found["port"]) < 65536:
        raise InputError(f"{text!r}: {part!r} is not HOST:PORT with a port from 1 to "
                         f"65535 (spark://HOST:PORT)")
    return found["host"].strip("[]"), int(found["port"])


def reach_master(text: str, seconds: float = REACH_SECONDS) -> None:
    """Raise :class:`InputError` unless a server answers at one of the master's
    addresses within ``seconds`` (name lookup included). ``local`` needs no check."""
    addresses = parse_master(text)
    if not addresses:
        return
    problems: list[str] = []
    reached = threading.Event()

    def try_all() -> None:
        for host, port in addresses:
            try:
                with socket.create_connection((host, port), timeout=CONNECT_SECONDS):
                    reached.set()
                    return
            except OSError as error:
                problems.append(f"{host}:{port}: {error.strerror or error}")

    # A thread, because a name lookup cannot be given a timeout.
    worker = threading.Thread(target=try_all, daemon=True, name="labkit-reach-master")
    worker.start()
    worker.join(seconds)
    if not reached.is_set():
        why = "; ".join(problems) if problems else f"no answer within {seconds:g} s"
        raise InputError(redact(f"no Spark master answers at {text} ({why})"))
