"""Carrying what each distributed rank prints, and how it fails, back to the driver.

Horovod and TorchDistributor start their ranks as separate processes, often on other
machines, where ``print`` lands in an executor log nobody reads. Here every rank connects
back to a small server on the driver and sends its output line by line, tagged with its
rank; if the rank raises, it sends the traceback before it dies. The driver then prints
the lines (``driver_log_verbosity="all"``) or only the messages sent with
:func:`log_to_driver` (``"log_callback_only"``), and always shows a failing rank's traceback.

Messages are JSON lines: ``{"rank": 0, "kind": "stdout" | "stderr" | "log" | "error",
"text": ...}``. A connection must first send the run's random token; others are ignored.

:class:`RankMain` also carries the function, its arguments and its return value as pickled
bytes. Between the driver and a rank sit other Python processes (Spark's Python workers,
Horovod's task services, TorchDistributor's launcher); left to unpickle a model, a data split or
a training history, each of them would import torch, pandas and scikit-learn only to pass the
object on, seconds of CPU per process on a small machine.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import queue
import secrets
import socket
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import cloudpickle

#: Kinds of message a rank sends.
STDOUT, STDERR, LOG, ERROR = "stdout", "stderr", "log", "error"


@dataclass(frozen=True)
class RankMessage:
    """One line of output (or one traceback) from one rank."""

    rank: int
    kind: str
    text: str


class RankOutputServer:
    """Driver side: accept rank connections and queue their messages."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.token = secrets.token_hex(16)
        self.messages: queue.Queue[RankMessage] = queue.Queue()
        self._socket = socket.create_server((host, 0))
        self._socket.settimeout(0.5)
        self.address = (host, self._socket.getsockname()[1])
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="rank-output", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._read, args=(connection,), daemon=True).start()

    def _read(self, connection: socket.socket) -> None:
        with connection, connection.makefile("r", encoding="utf-8") as lines:
            if lines.readline().strip() != self.token:
                return
            for line in lines:
                try:
                    raw = json.loads(line)
                    self.messages.put(RankMessage(int(raw["rank"]), str(raw["kind"]),
                                                  str(raw["text"])))
                except (ValueError, KeyError, TypeError):
                    continue

    def drain(self, timeout: float = 0.0) -> Iterator[RankMessage]:
        """Yield the queued messages, waiting up to ``timeout`` seconds for the first."""
        try:
            yield self.messages.get(timeout=timeout) if timeout else self.messages.get_nowait()
        except queue.Empty:
            return
        while True:
            try:
                yield self.messages.get_nowait()
            except queue.Empty:
                return

    def close(self) -> None:
        self._closed.set()
        self._socket.close()

    def __enter__(self) -> RankOutputServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class _Connection:
    """Rank side: a connection to the driver's :class:`RankOutputServer`."""

    def __init__(self, address: tuple[str, int], token: str, rank: int) -> None:
        self.rank = rank
        self._lock = threading.Lock()
        self._socket = socket.create_connection(address, timeout=10)
        self._socket.settimeout(None)
        self._socket.sendall((token + "\n").encode())

    def send(self, kind: str, text: str) -> None:
        line = json.dumps({"rank": self.rank, "kind": kind, "text": text}) + "\n"
        with self._lock:
            try:
                self._socket.sendall(line.encode())
            except OSError:
                pass  # the driver has gone; nothing useful left to do with output

    def close(self) -> None:
        try:
            self._socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._socket.close()


class _LineStream(io.TextIOBase):
    """A text stream that sends each complete line to the driver (a stand-in for stdout)."""

    def __init__(self, connection: _Connection, kind: str) -> None:
        self._connection, self._kind, self._pending = connection, kind, ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self._connection.send(self._kind, line)
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._connection.send(self._kind, self._pending)
            self._pending = ""


_connection: _Connection | None = None


def log_to_driver(message: str) -> None:
    """Show ``message`` on the driver even with ``driver_log_verbosity="log_callback_only"``.

    Called outside a distributed run it simply prints.
    """
    if _connection is None:
        print(message)
    else:
        _connection.send(LOG, str(message))


def current_rank(rank_env: str) -> int:
    """This process's rank as its launcher announced it in the environment."""
    return int(os.environ.get(rank_env, "0"))


class RankMain:
    """Wraps the user's function so that, on each rank, its output and any exception
    travel to the driver. It is pickled and shipped to the ranks by the launcher, and is
    called there without arguments.

    ``main`` and ``kwargs`` travel inside it as bytes (cloudpickle), unpickled only on the
    rank, and the rank returns ``main``'s value as bytes: :func:`returned` unpickles it on
    the driver. So the processes in between never import what those objects are made of
    (see the module documentation). ``rank_env`` names the variable the launcher sets to the
    process's rank (``HOROVOD_RANK`` for Horovod, ``RANK`` for torchrun).
    """

    def __init__(self, main: Callable[..., Any], address: tuple[str, int], token: str,
                 rank_env: str, kwargs: dict[str, Any] | None = None) -> None:
        self.payload = cloudpickle.dumps((main, kwargs or {}))
        self.address, self.token, self.rank_env = address, token, rank_env

    def __call__(self) -> bytes:
        global _connection
        rank = current_rank(self.rank_env)
        try:
            connection = _Connection(self.address, self.token, rank)
        except OSError:
            connection = None  # driver unreachable: run anyway, output stays in the task log
        if connection is None:
            main, kwargs = pickle.loads(self.payload)
            return cloudpickle.dumps(main(**kwargs))
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _LineStream(connection, STDOUT), _LineStream(connection, STDERR)
        _connection = connection
        try:
            main, kwargs = pickle.loads(self.payload)  # a failure here is the rank's, too
            return cloudpickle.dumps(main(**kwargs))
        except BaseException:
            connection.send(ERROR, traceback.format_exc())
            raise
        finally:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            sys.stdout, sys.stderr = saved
            _connection = None
            connection.close()


def returned(value: bytes) -> Any:
    """What a rank's ``main`` returned, from the bytes :class:`RankMain` sent back."""
    return pickle.loads(value)
