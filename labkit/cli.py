"""The ``labkit`` command: the lab without a notebook.

    labkit prep    [--data PATH] [--split honest|seed]
    labkit train   [--data PATH] [--epochs N] [--batch-size N] [--lr X] [--seed N]
                   [--split honest|seed] [--out MODEL] [--metrics-json FILE]
                   [--np N [--engine horovod|torch] [--master URL]]
    labkit predict --model MODEL [--unverified]
                   ISLAND CULMEN_LENGTH CULMEN_DEPTH FLIPPER_SCALED MASS_SCALED

A user error prints one line, ``labkit: error: ...``, and exits with status 2. Options
and ``LABKIT_*`` settings are checked before any work starts: numbers within their bounds,
output paths writable and never the input (:mod:`labkit.outputs`), the data file valid and
large enough to split, and a Spark master reachable, so that a mistake costs a moment, not
a training run. torch, pandas, scikit-learn and PySpark are imported only once the checks
pass: a refusal answers before they would have finished loading.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from labkit import arguments, settings
from labkit.archive import check_archive
from labkit.constants import (
    BATCH_SIZE,
    EPOCHS,
    LEARNING_RATE,
    MAX_BATCH_SIZE,
    MAX_EPOCHS,
    SEED,
    SPECIES,
    SPLIT_MODES,
)
from labkit.data import check_splittable, resolve_local_path, validate_csv
from labkit.errors import InputError, LabkitError, ModelFileError
from labkit.features import check_rows
from labkit.files import read_regular_file
from labkit.launch import ENGINES
from labkit.master import parse_master
from labkit.outputs import Output, plan_outputs, write_output

USAGE_ERROR = 2


class Parser(argparse.ArgumentParser):
    """argparse, but every usage error is the same one line the rest of labkit prints."""

    def error(self, message: str) -> NoReturn:
        fail(message)


def fail(message: str) -> NoReturn:
    print(f"labkit: error: {one_line(message)}", file=sys.stderr)
    raise SystemExit(USAGE_ERROR)


#: Terminal escape sequences (colours), which no error line should carry.
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


#: An error line is read by a person: longer messages are cut, saying how much was cut.
MAX_LINE = 600


def one_line(message: str) -> str:
    """The message as one short plain line: no colour codes, control characters escaped."""
    text = ANSI_ESCAPE.sub("", message).strip()
    text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    if len(text) > MAX_LINE:
        text = f"{text[:MAX_LINE - 40]}... ({len(text) - MAX_LINE + 40} more characters)"
    return text


#: Whole numbers and numbers as options may write them: ASCII digits only. (Python's
#: ``int`` and ``float`` also take ``1_000``, full-width digits and spaces.)
WHOLE = re.compile(r"[+-]?[0-9]+", re.ASCII)
DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)

#: The learning rate's bounds (epochs' and batch size's: labkit.constants): outside
#: them training can only diverge or never move.
LR_RANGE = (1e-8, 10.0)
#: torch seeds take 64 bits, and each epoch adds one to the seed (labkit.arguments.seed):
#: the largest seed the option takes leaves room for the most epochs.
SEED_MAX = arguments.SEED_LIMIT - (MAX_EPOCHS - 1)
MAX_PROCESSES = 256


def number_option(kind: type, accept, rule: str):
    """An argparse type: parse ``text`` as ``kind`` and keep it only if ``accept(value)``."""
    noun = "whole number" if kind is int else "number"
    pattern = WHOLE if kind is int else DECIMAL

    def parse(text: str):
        if not pattern.fullmatch(text):
            raise argparse.ArgumentTypeError(f"{text!r} is not a {noun}")
        value = kind(text)
        if not accept(value):
            raise argparse.ArgumentTypeError(rule.format(text=repr(text), raw=text))
        return value

    return parse


epochs_option = number_option(int, lambda v: 1 <= v <= MAX_EPOCHS,
                              "{text} must be at least 1 and at most " f"{MAX_EPOCHS}")
batch_option = number_option(int, lambda v: 1 <= v <= MAX_BATCH_SIZE,
                             "{text} must be at least 1 and at most " f"{MAX_BATCH_SIZE}")
lr_option = number_option(float, lambda v: LR_RANGE[0] <= v <= LR_RANGE[1],
                          "{text} must be a number from " f"{LR_RANGE[0]:g} to {LR_RANGE[1]:g}")
seed_option = number_option(int, lambda v: 0 <= v <= SEED_MAX,
                            "{text} must be a whole number from 0 to " f"{SEED_MAX} (torch "
                            "seeds are 64 bits, and each epoch adds one)")
np_option = number_option(int, lambda v: v != 0 and abs(v) <= MAX_PROCESSES,
                          "{raw} processes: use N > 0 for Spark tasks, N < 0 for -N "
                          f"processes on this machine, at most {MAX_PROCESSES}")


def spark_master(text: str) -> str:
    try:
        parse_master(text)
    except InputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def build_parser() -> Parser:
    parser = Parser(prog="labkit", description="The penguin deep-learning lab, without a notebook.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data_options = Parser(add_help=False)
    data_options.add_argument("--data", metavar="PATH",
                              help="CSV to read (default: the copy packaged with labkit)")
    data_options.add_argument("--split", choices=SPLIT_MODES, default="honest",
                              help="honest: split, then oversample (default); "
                                   "seed: oversample, then split, as the original lab")

    commands.add_parser("prep", parents=[data_options],
                        help="prepare the data; print row counts, class balance and leakage")

    train = commands.add_parser("train", parents=[data_options],
                                help="train, evaluate and save PenguinNet")
    train.add_argument("--epochs", type=epochs_option, default=EPOCHS)
    train.add_argument("--batch-size", type=batch_option, default=BATCH_SIZE)
    train.add_argument("--lr", type=lr_option, default=LEARNING_RATE)
    train.add_argument("--seed", type=seed_option, default=SEED)
    train.add_argument("--out", metavar="MODEL", default="penguin_classifier.pt",
                       help="where to save the weights (default: %(default)s)")
    train.add_argument("--metrics-json", metavar="FILE", help="write the metrics here as JSON")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    train.add_argument("--np", type=np_option, metavar="N",
                       help="train data-parallel on N processes as Spark tasks "
                            "(N < 0: -N processes on this machine, without Spark)")
    train.add_argument("--engine", choices=ENGINES,
                       help="with --np: horovod (HorovodRunner, default) or torch "
                            "(TorchDistributor)")
    train.add_argument("--master", type=spark_master, metavar="URL",
                       help="with --np: the Spark master to run on (default: local[2])")

    predict = commands.add_parser("predict", help="predict the species of one penguin")
    predict.add_argument("--model", required=True, metavar="MODEL")
    predict.add_argument("--unverified", action="store_true",
                         help="also accept a plain state_dict without labkit's checksums "
                              "(as the original lab saves it); names, shapes, dtype and "
                              "finiteness are still checked")
    predict.add_argument("island", metavar="ISLAND", help="Biscoe, Dream, Torgersen or 0..2")
    for name in ("culmen_length", "culmen_depth", "flipper_scaled", "mass_scaled"):
        predict.add_argument(name, metavar=name.upper())
    return parser


def check_data(args: argparse.Namespace) -> None:
    """The CSV is valid and can be split as ``--split`` asks: milliseconds, before any
    import of torch or Spark and before Spark prepares anything."""
    check_splittable(validate_csv(args.data), args.split, args.data)


def run_prep(args: argparse.Namespace) -> None:
    check_data(args)
    from labkit.pipeline import prepare
    from labkit.prep import class_counts

    prepared = prepare(args.data, args.split)
    data = prepared.data
    print(f"penguins after dropping incomplete rows: {len(prepared.penguins)}")
    print(f"split: {args.split}; training rows: {data.n_train}; test rows: {data.n_test}")
    for name, rows in (("training", data.y_train), ("test", data.y_test)):
        counts = class_counts(rows)
        balance = ", ".join(f"{species} {count}" for species, count in zip(SPECIES, counts))
        print(f"{name} classes: {balance}")
    print(f"leakage: {prepared.leakage:.1%} of test rows are copies of training rows")


def check_outputs(args: argparse.Namespace) -> dict[str, Output]:
    """Before any training (and again before writing): the model and metrics paths are
    files labkit may write, distinct, and neither is the data file."""
    wanted = [("--out", args.out, False)]
    if args.metrics_json is not None:
        wanted.append(("--metrics-json", args.metrics_json, True))
    inputs = {"--data": resolve_local_path(args.data)}
    return {output.option: output for output in plan_outputs(wanted, inputs)}


def check_training(args: argparse.Namespace) -> dict[str, Output]:
    """Everything ``labkit train`` can check without torch: the seed for these epochs,
    the outputs, the data."""
    try:
        arguments.seed(args.seed, args.epochs)
    except InputError as error:
        fail(f"argument --seed: {error}")
    outputs = check_outputs(args)
    check_data(args)
    return outputs


def summary_stream(outputs: dict[str, Output]):
    """Where the closing line goes: standard error when the metrics go to standard
    output, so that ``--metrics-json /dev/stdout | jq`` reads JSON only."""
    metrics = outputs.get("--metrics-json")
    return sys.stderr if metrics is not None and metrics.stream == 1 else sys.stdout


def run_train(args: argparse.Namespace) -> None:
    if args.np is not None:
        return run_train_distributed(args)
    if args.engine or args.master:
        fail("--engine and --master need --np N")
    outputs = check_training(args)
    from labkit.persistence import save_model
    from labkit.pipeline import prepare
    from labkit.training import fit_penguin_net

    prepared = prepare(args.data, args.split)
    data = prepared.data
    model, history = fit_penguin_net(data, epochs=args.epochs, batch_size=args.batch_size,
                                     lr=args.lr, seed=args.seed, progress=not args.no_progress)
    metrics = training_metrics(args, prepared, history, history.val_accuracy[-1])
    metrics_json = metrics_text(metrics)
    outputs = check_outputs(args)  # again: nothing may have taken the paths' place
    save_model(model, args.out)
    print(f"test accuracy {metrics['test_accuracy']:.1%} after {args.epochs} epochs "
          f"({history.seconds:.2f} s); model saved to {args.out}", file=summary_stream(outputs))
    write_metrics(outputs.get("--metrics-json"), metrics_json)


def training_metrics(args: argparse.Namespace, prepared, history, accuracy: float) -> dict:
    """What ``--metrics-json`` records of any training run, one process or many."""
    return {
        "test_accuracy": accuracy,
        "train_seconds": history.seconds,
        "leakage": prepared.leakage,
        "train_loss": history.train_loss,
        "val_loss": history.val_loss,
        "n_train": prepared.data.n_train,
        "n_test": prepared.data.n_test,
        "split": args.split,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "seed": args.seed,
        "model": str(args.out),
    }


def metrics_text(metrics: dict) -> str:
    """The metrics as strict JSON: a NaN or infinity is an error, never written."""
    try:
        return json.dumps(metrics, indent=2, allow_nan=False) + "\n"
    except ValueError:
        bad = [name for name, value in metrics.items() if not strict_json(value)]
        raise InputError(f"the metrics hold NaN or infinite values ({', '.join(bad)}); "
                         f"nothing was written") from None


def strict_json(value: object) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        return False
    return True


def write_metrics(output: Output | None, text: str) -> None:
    """Write the metrics JSON as :mod:`labkit.outputs` planned (nothing without
    ``--metrics-json``)."""
    if output is not None:
        write_output(output, text.encode())


def check_processes(np: int) -> None:
    """``--np -N`` runs N processes here: no more than this machine has CPU cores."""
    cores = os.cpu_count() or 1
    if np < 0 and -np > cores:
        fail(f"--np {np} asks for {-np} processes on this machine, which has {cores} CPU "
             f"cores; use at most --np -{cores}, or N > 0 for Spark tasks")


def run_train_distributed(args: argparse.Namespace) -> None:
    """``labkit train --np N``: the same training spread over N processes; the metrics are
    the single-node ones plus the engine, the process count and where the time went."""
    from labkit.master import reach_master

    engine = args.engine or "horovod"
    check_processes(args.np)
    outputs = check_training(args)  # milliseconds, where starting Spark takes ten seconds
    master = args.master or settings.spark_master()
    if master:
        reach_master(master)
    from labkit.distributed import train_distributed
    from labkit.launch import require_task_slots
    from labkit.pipeline import prepare
    from labkit.spark import get_spark, stop_spark

    spark = get_spark(master=args.master)
    try:
        if args.np > 0:
            require_task_slots(spark, args.np)  # before preparing data: fail in seconds
        prepared = prepare(args.data, args.split, spark)
        data = prepared.data
        run = train_distributed(data, args.np, engine, epochs=args.epochs,
                                batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                                model_path=args.out)
    finally:
        stop_spark()
    metrics = {
        **training_metrics(args, prepared, run.history, run.evaluation.accuracy),
        "engine": engine,
        "np": run.np,
        "wall_seconds": run.wall_seconds,
        "startup_seconds": run.startup_seconds,
    }
    metrics_json = metrics_text(metrics)
    outputs = check_outputs(args)
    print(f"test accuracy {metrics['test_accuracy']:.1%} after {args.epochs} epochs on "
          f"{run.np} {engine} processes ({run.wall_seconds:.1f} s in all, "
          f"{run.history.seconds:.1f} s training); model saved to {args.out}",
          file=summary_stream(outputs))
    write_metrics(outputs.get("--metrics-json"), metrics_json)


def run_predict(args: argparse.Namespace) -> None:
    row = [args.island, args.culmen_length, args.culmen_depth, args.flipper_scaled,
           args.mass_scaled]
    raw = read_regular_file(Path(args.model), 2**20, args.model, "model file",
                            ModelFileError)
    check_archive(raw, args.model)  # the file, then the row, before torch loads
    check_rows([row])
    from labkit.persistence import load_model
    from labkit.predict import predict

    model = load_model(args.model, verify=not args.unverified)
    (prediction,) = predict(model, [row])
    print(f"{prediction.species} ({prediction.index})")


COMMANDS = {"prep": run_prep, "train": run_train, "predict": run_predict}


class Interrupts:
    """Ctrl-C, answered with one line however deep the command is.

    Until Spark has started, Ctrl-C reaches the handler here, which ends labkit's child
    processes at once (a JVM being launched would otherwise die noisily when PySpark
    removes its connection file, or linger). Once started, PySpark replaces the handler
    with its own, which calls into the JVM and fails there: the signal still writes a
    byte to a pipe (``signal.set_wakeup_fd``), so :meth:`seen` knows it came. Either
    way :meth:`answer` prints the line once, silences standard error (Py4J's tracebacks,
    the JVM's last words) and ends the child processes, the JVM among them, which
    ignores Ctrl-C and, cut off mid-work, may hang instead of following Python out."""

    def __init__(self) -> None:
        self.answered = False
        self.installed = False
        self.reader = self.writer = -1
        self.previous_fd = -1

    def start(self) -> None:
        logging.getLogger().addHandler(logging.NullHandler())  # no logging.basicConfig
        try:
            self.reader, self.writer = os.pipe()
            for end in (self.reader, self.writer):
                os.set_blocking(end, False)
            self.previous_fd = signal.set_wakeup_fd(self.writer)
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                self.installed = True
                signal.signal(signal.SIGINT, self.on_signal)
        except (OSError, ValueError):  # not the main thread: Ctrl-C is someone else's
            self.close_pipe()

    def stop(self) -> None:
        if self.writer >= 0:
            signal.set_wakeup_fd(self.previous_fd)
        if self.installed and not self.answered:  # once answered, the process is leaving
            signal.signal(signal.SIGINT, signal.default_int_handler)
            self.installed = False
        self.close_pipe()

    def close_pipe(self) -> None:
        for end in (self.reader, self.writer):
            if end >= 0:
                os.close(end)
        self.reader = self.writer = -1

    def on_signal(self, signum: int, frame: object) -> NoReturn:
        self.answer()
        raise KeyboardInterrupt

    def seen(self) -> bool:
        try:
            return self.reader >= 0 and signal.SIGINT in os.read(self.reader, 512)
        except BlockingIOError:
            return False

    def answer(self) -> None:
        if self.answered:
            return
        self.answered = True
        if self.installed:  # one answer: a second Ctrl-C must not cut the exit short
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("labkit: error: interrupted", file=sys.stderr, flush=True)
        silence_stderr()
        end_children()


def silence_stderr() -> None:
    """Point file descriptor 2 (and so Python's ``sys.stderr``) at /dev/null."""
    try:
        sys.stderr.flush()
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        os.close(null)
    except (OSError, ValueError):
        pass


def end_children() -> None:
    """Kill this process's children (Linux: found in /proc), and collect them."""
    me = str(os.getpid())
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
            if fields[1] == me:
                os.kill(int(entry.parent.name), signal.SIGKILL)
        except (OSError, IndexError, ValueError):
            continue
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def main(argv: Sequence[str] | None = None) -> int:
    interrupts = Interrupts()
    try:  # from the first step: Ctrl-C at any moment gets the same one line
        interrupts.start()
        args = build_parser().parse_args(argv)
        try:
            settings.check_all(spark=args.command != "predict")
        except InputError as error:
            fail(str(error))
        COMMANDS[args.command](args)
    except BaseException as error:
        if isinstance(error, KeyboardInterrupt) or interrupts.seen():
            interrupts.answer()
            raise SystemExit(USAGE_ERROR) from None
        if isinstance(error, LabkitError):
            fail(str(error))
        if isinstance(error, OSError):
            where = f"{error.filename}: " if error.filename else ""
            fail(f"{where}{error.strerror or error}")
        raise
    finally:
        interrupts.stop()
    return 0
