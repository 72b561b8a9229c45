"""Distributed training on real Spark: HorovodRunner and TorchDistributor, np=2.

Every run here starts real processes: Spark tasks on the shared ``local[2]`` session, Horovod
ranks talking over Gloo, torchrun workers with DDP, and (in the last tests) a Spark
standalone cluster of one master and two one-core workers on 127.0.0.1. Nothing is mocked.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import cloudpickle
import pyspark.cloudpickle
import pytest

from labkit.cli import main as cli_main
from labkit.distributed import HorovodRunner, run_torch_distributor, train_distributed
from labkit.launch import DistributedError, free_task_slots, total_task_slots

# The functions below run in other processes, which cannot import this test module:
# ship them by value (Horovod pickles with cloudpickle, Spark with its own copy of it).
cloudpickle.register_pickle_by_value(sys.modules[__name__])
pyspark.cloudpickle.register_pickle_by_value(sys.modules[__name__])

#: A failing rank must fail the whole run within this many seconds.
FAIL_WITHIN = 60.0
#: Starting the processes on a busy two-core machine can take a minute by itself
#: (torchrun in a Spark task starts three Python processes per rank, each importing torch).
START_AND_FAIL_WITHIN = 150.0


def hvd_rank_and_size(greeting: str) -> tuple[int, int]:
    import horovod.torch as hvd

    hvd.init()
    print(f"{greeting} from rank {hvd.rank()}")
    return hvd.rank(), hvd.size()


def hvd_fails_on_rank_one() -> str:
    import time

    import horovod.torch as hvd
    import torch

    hvd.init()
    print(f"rank {hvd.rank()} starting")
    if hvd.rank() == 1:
        raise ValueError(f"rank 1 refuses to train on penguins (raised at {time.time()})")
    hvd.allreduce(torch.zeros(1))  # rank 0 waits here for rank 1, which never comes
    return "unreachable"


def ddp_fails_on_rank_one() -> str:
    import time

    import torch
    import torch.distributed as dist

    dist.init_process_group("gloo")
    print(f"rank {dist.get_rank()} starting")
    if dist.get_rank() == 1:
        raise ValueError(f"rank 1 refuses to train on penguins (raised at {time.time()})")
    dist.all_reduce(torch.zeros(1))
    return "unreachable"


def assert_session_usable(spark) -> None:
    assert spark.range(100).count() == 100
    deadline = time.monotonic() + 20
    while free_task_slots(spark) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert free_task_slots(spark) == 2


#: Epochs of the np=2 runs here. They check that the ranks take exactly the steps one
#: process takes on the ranks' joined batches, weight by weight, which a few epochs show as
#: well as the lab's 100; chapter 11 runs the 100 with both engines, and its cells assert
#: the same match (the book build executes it: tests/test_book.py).
SHORT_EPOCHS = 10


def largest_difference(model, other) -> float:
    return max((p - q).abs().max().item()
               for p, q in zip(model.parameters(), other.parameters()))


#: What the processes between the driver and a rank must not import to pass a run along.
HEAVY = ("torch", "pandas", "sklearn")


def test_processes_between_driver_and_ranks_pass_bytes(honest, tmp_path):
    """The wrapped function, as Spark's Python workers and Horovod's task services receive
    it (pickled), carries its model, data split and function as bytes: unpickling it in a
    fresh process imports none of torch, pandas or scikit-learn. The rank's return value
    travels back as bytes too, and only the driver unpickles it."""
    from labkit.distributed import train_hvd
    from labkit.model import PenguinNet
    from labkit.rank_output import RankMain, returned

    wrapped = RankMain(train_hvd, ("127.0.0.1", 9), "token", "HOROVOD_RANK",
                       {"model": PenguinNet(), "data": honest.data, "model_path": "m.pt"})
    shipped = tmp_path / "wrapped.pickle"
    shipped.write_bytes(cloudpickle.dumps(wrapped))
    script = (f"import pickle, sys; pickle.loads(open({str(shipped)!r}, 'rb').read()); "
              f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
    # The rank unpickles the bytes: torch, for the model, but not pandas or scikit-learn,
    # which only the data's preparation used (labkit.prep imports them where it uses them).
    payload = tmp_path / "payload.pickle"
    payload.write_bytes(wrapped.payload)
    script = (f"import pickle, sys; pickle.loads(open({str(payload)!r}, 'rb').read()); "
              f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "['torch']"
    main, kwargs = cloudpickle.loads(wrapped.payload)
    assert main is train_hvd and kwargs["data"].n_test == honest.data.n_test
    assert returned(cloudpickle.dumps({"size": 2})) == {"size": 2}


def test_slots_are_counted_on_local_session(spark):
    assert total_task_slots(spark) == 2
    assert free_task_slots(spark) == 2


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["horovod", "torch"])
def test_np2_over_spark_trains_like_one_process_on_the_joined_batches(engine, spark, honest,
                                                                      tmp_path, capsys):
    path = tmp_path / f"{engine}.pt"
    run = train_distributed(honest.data, 2, engine, model_path=path, epochs=SHORT_EPOCHS)
    assert run.engine == engine and run.np == 2
    assert path.exists()  # rank 0 saved it where the driver could load it
    assert len(run.history.train_loss) == SHORT_EPOCHS
    assert run.evaluation.total == honest.data.n_test
    replay = joined_shard_replay(honest.data, 2, SHORT_EPOCHS, engine == "horovod")
    assert largest_difference(run.model, replay) < 1e-5
    assert 0 < run.startup_seconds < run.wall_seconds
    out = capsys.readouterr().out
    # log_callback_only: only the message rank 0 sent with log_to_driver reaches us
    assert f"[0]<log>:rank 0 of 2: model saved to {path}" in out
    assert "<stdout>" not in out


@pytest.mark.slow
def test_horovod_negative_np_runs_locally_without_spark(capsys):
    rank, size = HorovodRunner(np=-2, driver_log_verbosity="all").run(
        hvd_rank_and_size, greeting="hi")
    assert (rank, size) == (0, 2)
    assert "[1]<stdout>:hi from rank 1" in capsys.readouterr().out


def joined_shard_replay(data, size: int, epochs: int, horovod_zero_step: bool):
    """What ``size`` ranks compute, in this process: each step's batch joins the ranks'
    batches of that step (chapter 11's replay, written again here)."""
    import torch

    from labkit.distributed import ShardBatches
    from labkit.model import PenguinNet
    from labkit.training import LEARNING_RATE, SEED, adam, fit, make_loader

    shards = [ShardBatches(data.x_train, data.y_train, rank, size) for rank in range(size)]

    class Joined:
        def __iter__(self):
            for parts in zip(*shards):
                yield torch.cat([x for x, _ in parts]), torch.cat([y for _, y in parts])

    torch.manual_seed(SEED)
    model = PenguinNet()
    optimizer = adam(model, LEARNING_RATE * size)
    if horovod_zero_step:  # hvd.broadcast_optimizer_state first steps with zero gradients
        for parameter in model.parameters():
            parameter.grad = torch.zeros_like(parameter)
        optimizer.step()
    fit(model, Joined(), make_loader(data.x_test, data.y_test), epochs=epochs,
        optimizer=optimizer, progress=False)
    return model


@pytest.mark.slow
def test_local_horovod_ranks_train_like_one_process_on_their_joined_batches(honest,
                                                                            tmp_path):
    import torch

    from labkit.distributed import train_hvd
    from labkit.model import PenguinNet
    from labkit.persistence import load_model

    path = tmp_path / "local.pt"
    torch.manual_seed(0)
    HorovodRunner(np=-2).run(train_hvd, model=PenguinNet(), data=honest.data,
                             model_path=str(path), epochs=2)
    trained = load_model(path)
    assert largest_difference(trained, joined_shard_replay(honest.data, 2, 2, True)) < 1e-5
    # without Horovod's zero step Adam's bias corrections differ: a visibly other model
    assert largest_difference(trained, joined_shard_replay(honest.data, 2, 2, False)) > 1e-4


@pytest.mark.parametrize("engine", ["horovod", "torch"])
def test_more_processes_than_slots_fails_at_once(engine, spark):
    start = time.monotonic()
    with pytest.raises(DistributedError, match=r"np=3 needs 3 free Spark task slots.* 2 free"):
        if engine == "horovod":
            HorovodRunner(np=3).run(hvd_rank_and_size, greeting="never")
        else:
            run_torch_distributor(ddp_fails_on_rank_one, 3)
    assert time.monotonic() - start < 5
    assert_session_usable(spark)


def test_the_failure_reported_is_the_cause_not_a_rank_cut_off_by_it():
    """Under load rank 0's HorovodInternalError ("Horovod has been shut down", raised only
    because rank 1 failed) reached the driver first, and the run was reported as rank 0's
    failure."""
    from labkit.launch import _Watcher
    from labkit.rank_output import ERROR, RankMessage

    watcher = _Watcher(server=None, verbosity="log_callback_only", cancel=lambda: None)
    cut_off = RankMessage(0, ERROR, "Traceback ...\nhorovod.common.exceptions."
                          "HorovodInternalError: Horovod has been shut down.")
    cause = RankMessage(1, ERROR, "Traceback ...\nValueError: rank 1 refuses")
    watcher.failures += [cut_off, cause]
    assert watcher.failure is cause
    watcher.failures[:] = [cut_off]            # only a consequence seen: report it
    assert watcher.failure is cut_off


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["horovod", "torch"])
def test_rank_that_raises_fails_the_run_with_its_traceback(engine, spark, capsys):
    start = time.time()
    with pytest.raises(DistributedError, match="rank 1 failed: ValueError: rank 1 refuses") as info:
        if engine == "horovod":
            HorovodRunner(np=2, driver_log_verbosity="all").run(hvd_fails_on_rank_one)
        else:
            run_torch_distributor(ddp_fails_on_rank_one, 2, "all")
    failed_at = time.time()
    raised_at = float(re.search(r"raised at ([0-9.]+)", str(info.value)).group(1))
    # The run fails soon after the rank raised (its other rank is left waiting in an
    # allreduce, which would otherwise hang); start-up before that is bounded separately.
    assert failed_at - raised_at < FAIL_WITHIN
    assert failed_at - start < START_AND_FAIL_WITHIN
    assert info.value.rank == 1
    assert "Traceback (most recent call last)" in info.value.rank_traceback
    assert "fails_on_rank_one" in info.value.rank_traceback
    captured = capsys.readouterr()
    assert "[1]<stderr>:ValueError: rank 1 refuses to train on penguins" in captured.err
    # driver_log_verbosity="all": every rank's output, prefixed by its rank
    assert "[0]<stdout>:rank 0 starting" in captured.out
    assert "[1]<stdout>:rank 1 starting" in captured.out
    assert_session_usable(spark)


def test_bad_arguments_are_refused():
    with pytest.raises(DistributedError, match="non-zero"):
        HorovodRunner(np=0)
    with pytest.raises(DistributedError, match="driver_log_verbosity"):
        HorovodRunner(np=2, driver_log_verbosity="everything")


def labkit_cli(*args: str, timeout: float = 420) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "labkit", *args], capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.parametrize("args, message", [
    (["--np", "0"], "argument --np: 0 processes"),
    (["--np", "two"], "argument --np: 'two' is not a whole number"),
    (["--np", "2", "--engine", "mpi"], "argument --engine: invalid choice"),
    (["--np", "2", "--master", "localhost"], "'localhost' is not a Spark master URL"),
    (["--engine", "torch"], "--engine and --master need --np N"),
])
def test_cli_refuses_bad_distributed_options(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["train", *args])
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("labkit: error: ")
    assert message in lines[0]


@pytest.fixture(scope="module")
def standalone(tmp_path_factory):
    """A master and two one-core workers on 127.0.0.1, stopped after the module's tests."""
    from spark_cluster import start_cluster

    cluster = start_cluster(tmp_path_factory.mktemp("standalone"))
    yield cluster
    cluster.stop()


@pytest.mark.slow
def test_cli_horovod_np2_on_standalone_cluster(standalone, honest, tmp_path):
    """Ranks in the executors of another JVM, as on a real cluster, train the lab's steps."""
    from labkit.persistence import load_model

    metrics_file, model = tmp_path / "metrics.json", tmp_path / "model.pt"
    result = labkit_cli("train", "--np", "2", "--master", standalone.url, "--out", str(model),
                        "--metrics-json", str(metrics_file), "--no-progress",
                        "--epochs", str(SHORT_EPOCHS))
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads(metrics_file.read_text())
    assert metrics["engine"] == "horovod" and metrics["np"] == 2
    assert len(metrics["train_loss"]) == len(metrics["val_loss"]) == SHORT_EPOCHS
    replay = joined_shard_replay(honest.data, 2, SHORT_EPOCHS, horovod_zero_step=True)
    assert largest_difference(load_model(model), replay) < 1e-5


@pytest.mark.slow
def test_the_cluster_daemons_map_the_spark_class_archive(standalone):
    """The cluster runs on labkit's JVM options (tests/spark_cluster.py), the class archive
    of labkit/spark_classes.py included, which takes a third off its daemons' CPU."""
    from labkit.spark_classes import archive_path

    for process in standalone.processes:
        maps = Path(f"/proc/{process.pid}/maps").read_text()
        assert str(archive_path()) in maps


@pytest.mark.slow
def test_cli_more_processes_than_cluster_slots_fails_fast(standalone):
    start = time.monotonic()
    result = labkit_cli("train", "--np", "3", "--master", standalone.url, "--no-progress",
                        timeout=120)
    assert time.monotonic() - start < FAIL_WITHIN
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(
        "labkit: error: np=3 needs 3 free Spark task slots")
    assert "2 free of 2" in result.stderr
