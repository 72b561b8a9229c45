"""The ``labkit`` command: the lab without a notebook.

    labkit prep    [--data PATH] [--split honest|seed]
    labkit train   [--data PATH] [--epochs N] [--batch-size N] [--lr X] [--seed N]
                   [--split honest|seed] [--out MODEL] [--metrics-json FILE]
                   [--np N [--engine horovod|torch] [--master URL]]
    labkit predict --model MODEL ISLAND CULMEN_LENGTH CULMEN_DEPTH FLIPPER_SCALED MASS_SCALED

A user error prints one line, ``labkit: error: ...``, and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

from labkit.constants import SPECIES
from labkit.errors import LabkitError
from labkit.launch import ENGINES
from labkit.prep import SPLIT_MODES
from labkit.training import BATCH_SIZE, EPOCHS, LEARNING_RATE, SEED

USAGE_ERROR = 2


class Parser(argparse.ArgumentParser):
    """argparse, but every usage error is the same one line the rest of labkit prints."""

    def error(self, message: str) -> NoReturn:
        fail(message)


def fail(message: str) -> NoReturn:
    print(f"labkit: error: {message}", file=sys.stderr)
    raise SystemExit(USAGE_ERROR)


def number_option(kind: type, accept, rule: str):
    """An argparse type: parse ``text`` as ``kind`` and keep it only if ``accept(value)``."""
    noun = "whole number" if kind is int else "number"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {noun}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(rule.format(text=repr(text)))
        return value

    return parse


positive_int = number_option(int, lambda v: v > 0, "{text} must be at least 1")
positive_float = number_option(float, lambda v: 0 < v < float("inf"),
                               "{text} must be a positive number")
nonzero_int = number_option(int, lambda v: v != 0, "0 processes: use N > 0 for Spark tasks, "
                            "N < 0 for -N processes on this machine")


def spark_master(text: str) -> str:
    local = re.fullmatch(r"local(\[(\d+|\*)(,\d+)?\])?", text)
    if not (local or text == "yarn" or text.startswith(("spark://", "k8s://"))):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a Spark master URL (local[N], spark://HOST:PORT, yarn, k8s://...)")
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
    train.add_argument("--epochs", type=positive_int, default=EPOCHS)
    train.add_argument("--batch-size", type=positive_int, default=BATCH_SIZE)
    train.add_argument("--lr", type=positive_float, default=LEARNING_RATE)
    train.add_argument("--seed", type=int, default=SEED)
    train.add_argument("--out", metavar="MODEL", default="penguin_classifier.pt",
                       help="where to save the weights (default: %(default)s)")
    train.add_argument("--metrics-json", metavar="FILE", help="write the metrics here as JSON")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    train.add_argument("--np", type=nonzero_int, metavar="N",
                       help="train data-parallel on N processes as Spark tasks "
                            "(N < 0: -N processes on this machine, without Spark)")
    train.add_argument("--engine", choices=ENGINES,
                       help="with --np: horovod (HorovodRunner, default) or torch "
                            "(TorchDistributor)")
    train.add_argument("--master", type=spark_master, metavar="URL",
                       help="with --np: the Spark master to run on (default: local[2])")

    predict = commands.add_parser("predict", help="predict the species of one penguin")
    predict.add_argument("--model", required=True, metavar="MODEL")
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


def run_train(args: argparse.Namespace) -> None:
    if args.np is not None:
        return run_train_distributed(args)
    if args.engine or args.master:
        fail("--engine and --master need --np N")
    from labkit.persistence import save_model
    from labkit.pipeline import prepare
    from labkit.training import fit_penguin_net

    prepared = prepare(args.data, args.split)
    data = prepared.data
    model, history = fit_penguin_net(data, epochs=args.epochs, batch_size=args.batch_size,
                                     lr=args.lr, seed=args.seed, progress=not args.no_progress)
    save_model(model, args.out)
    metrics = training_metrics(args, prepared, history, history.val_accuracy[-1])
    print(f"test accuracy {metrics['test_accuracy']:.1%} after {args.epochs} epochs "
          f"({history.seconds:.2f} s); model saved to {args.out}")
    write_metrics(args.metrics_json, metrics)


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


def write_metrics(path: str | None, metrics: dict) -> None:
    """Write the metrics as JSON, whole or not at all (nothing when no path was given)."""
    from labkit.atomic import atomic_write

    if path:
        atomic_write(path, (json.dumps(metrics, indent=2) + "\n").encode())


def run_train_distributed(args: argparse.Namespace) -> None:
    """``labkit train --np N``: the same training spread over N processes; the metrics are
    the single-node ones plus the engine, the process count and where the time went."""
    from labkit.distributed import train_distributed
    from labkit.launch import require_task_slots
    from labkit.pipeline import prepare
    from labkit.spark import get_spark, stop_spark

    engine = args.engine or "horovod"
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
    print(f"test accuracy {metrics['test_accuracy']:.1%} after {args.epochs} epochs on "
          f"{run.np} {engine} processes ({run.wall_seconds:.1f} s in all, "
          f"{run.history.seconds:.1f} s training); model saved to {args.out}")
    write_metrics(args.metrics_json, metrics)


def run_predict(args: argparse.Namespace) -> None:
    from labkit.persistence import load_model
    from labkit.predict import predict

    model = load_model(args.model)
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
        fail(f"{error.filename or ''}: {error.strerror}".lstrip(": "))
    except KeyboardInterrupt:
        fail("interrupted")
    return 0
