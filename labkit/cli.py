"""The ``labkit`` command: the lab without a notebook.

    labkit prep    [--data PATH] [--split honest|seed]
    labkit train   [--data PATH] [--epochs N] [--batch-size N] [--lr X] [--seed N]
                   [--split honest|seed] [--out MODEL] [--metrics-json FILE]
                   [--np N [--engine horovod|torch] [--master URL]]
    labkit predict --model MODEL [--unverified]
                   ISLAND CULMEN_LENGTH CULMEN_DEPTH FLIPPER_SCALED MASS_SCALED

A user error prints one line, ``labkit: error: ...``, and exits with status 2. Options
are checked before any work starts: numbers within their bounds, output paths writable,
the data file valid and a Spark master reachable, so that a mistake costs seconds, not a
training run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

from labkit.constants import SPECIES
from labkit.errors import InputError, LabkitError
from labkit.launch import ENGINES
from labkit.master import parse_master
from labkit.prep import SPLIT_MODES
from labkit.training import BATCH_SIZE, EPOCHS, LEARNING_RATE, SEED

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


def one_line(message: str) -> str:
    """The message as one plain line: no colour codes, control characters escaped."""
    text = ANSI_ESCAPE.sub("", message).strip()
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


#: Whole numbers and numbers as options may write them: ASCII digits only. (Python's
#: ``int`` and ``float`` also take ``1_000``, full-width digits and spaces.)
WHOLE = re.compile(r"[+-]?[0-9]+", re.ASCII)
DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)

#: Bounds of the numeric options: wide enough for any experiment, narrow enough that a
#: typo cannot start a run of days or a learning rate that can only diverge.
MAX_EPOCHS = 10_000
MAX_BATCH_SIZE = 1_000_000
LR_RANGE = (1e-8, 10.0)
SEED_MAX = 2**64 - 1  # torch.manual_seed takes 64 bits
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
                            "{text} must be a whole number from 0 to " f"{SEED_MAX} (64 bits)")
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


def run_prep(args: argparse.Namespace) -> None:
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


def check_outputs(args: argparse.Namespace) -> None:
    """Before any training: the model and metrics paths are distinct and writable."""
    from labkit.atomic import check_writable

    outputs = [args.out] + ([args.metrics_json] if args.metrics_json else [])
    if len({os.path.realpath(path) for path in outputs}) < len(outputs):
        fail(f"--out and --metrics-json name the same file {args.out!r}")
    for path in outputs:
        check_writable(path)


def run_train(args: argparse.Namespace) -> None:
    if args.np is not None:
        return run_train_distributed(args)
    if args.engine or args.master:
        fail("--engine and --master need --np N")
    from labkit.persistence import save_model
    from labkit.pipeline import prepare
    from labkit.training import fit_penguin_net

    check_outputs(args)
    prepared = prepare(args.data, args.split)
    data = prepared.data
    model, history = fit_penguin_net(data, epochs=args.epochs, batch_size=args.batch_size,
                                     lr=args.lr, seed=args.seed, progress=not args.no_progress)
    metrics = training_metrics(args, prepared, history, history.val_accuracy[-1])
    metrics_json = metrics_text(metrics)
    save_model(model, args.out)
    print(f"test accuracy {metrics['test_accuracy']:.1%} after {args.epochs} epochs "
          f"({history.seconds:.2f} s); model saved to {args.out}")
    write_metrics(args.metrics_json, metrics_json)


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


def write_metrics(path: str | None, text: str) -> None:
    """Write the metrics JSON, whole or not at all (nothing when no path was given)."""
    from labkit.atomic import atomic_write

    if path:
        atomic_write(path, text.encode())


def check_processes(np: int) -> None:
    """``--np -N`` runs N processes here: no more than this machine has CPU cores."""
    cores = os.cpu_count() or 1
    if np < 0 and -np > cores:
        fail(f"--np {np} asks for {-np} processes on this machine, which has {cores} CPU "
             f"cores; use at most --np -{cores}, or N > 0 for Spark tasks")


def run_train_distributed(args: argparse.Namespace) -> None:
    """``labkit train --np N``: the same training spread over N processes; the metrics are
    the single-node ones plus the engine, the process count and where the time went."""
    from labkit.data import validate_csv
    from labkit.distributed import train_distributed
    from labkit.launch import require_task_slots
    from labkit.master import reach_master
    from labkit.pipeline import prepare
    from labkit.spark import get_spark, stop_spark

    engine = args.engine or "horovod"
    check_processes(args.np)
    check_outputs(args)
    validate_csv(args.data)  # milliseconds, where starting Spark takes ten seconds
    master = args.master or os.environ.get("LABKIT_SPARK_MASTER")
    if master:
        reach_master(master)
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
    print(f"test accuracy {metrics['test_accuracy']:.1%} after {args.epochs} epochs on "
          f"{run.np} {engine} processes ({run.wall_seconds:.1f} s in all, "
          f"{run.history.seconds:.1f} s training); model saved to {args.out}")
    write_metrics(args.metrics_json, metrics_json)


def run_predict(args: argparse.Namespace) -> None:
    from labkit.persistence import load_model
    from labkit.predict import predict

    model = load_model(args.model, verify=not args.unverified)
    row = [args.island, args.culmen_length, args.culmen_depth, args.flipper_scaled,
           args.mass_scaled]
    (prediction,) = predict(model, [row])
    print(f"{prediction.species} ({prediction.index})")


COMMANDS = {"prep": run_prep, "train": run_train, "predict": run_predict}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except LabkitError as error:
        fail(str(error))
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        fail(f"{where}{error.strerror or error}")
    except KeyboardInterrupt:
        fail("interrupted")
    return 0
