"""Data-parallel training of PenguinNet: the lab's ``train_hvd``, done right, and the same
training through Spark's ``TorchDistributor``.

Every rank holds a full copy of the model and trains on its own share of the rows; after
each backward pass the ranks average their gradients (an allreduce), so all copies take
the same step. ``np`` ranks with batches of 20 therefore step like one process with
batches of ``20 * np``, and the learning rate is scaled by ``np`` to make up for taking
``np`` times fewer steps per epoch.

What the lab's ``train_hvd`` got wrong, and what is done here instead:
- its ``DistributedSampler`` never had ``set_epoch`` called, so every epoch saw the rows in
  the same order: :class:`ShardBatches` calls it at the start of every pass;
- ``train`` did not move batches to the model's device (fixed in :mod:`labkit.training`);
- rank 0 saved with ``torch.save`` straight onto the target: here
  :func:`labkit.persistence.save_model` writes atomically, and only rank 0 writes;
- the comment said "Train over 50 epochs" above ``epochs = 100``: we train ``epochs``.

The model file must be on storage the driver can read (on Databricks, ``/dbfs/...``; on
one machine, any local path): the driver loads it and tests it.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from torch.utils.data import TensorDataset
from torch.utils.data.distributed import DistributedSampler

from labkit import arguments
from labkit.constants import MAX_BATCH_SIZE, MAX_EPOCHS
from labkit.launch import (
    ENGINES,
    VERBOSITIES,
    DistributedError,
    HorovodMissing,
    require_memory,
    require_task_slots,
    supervise,
)
from labkit.model import PenguinNet
from labkit.persistence import load_model, save_model
from labkit.prep import Split
from labkit.rank_output import RankMain, RankOutputServer, log_to_driver, returned
from labkit.training import (
    BATCH_SIZE,
    EPOCHS,
    LEARNING_RATE,
    SEED,
    Evaluation,
    History,
    TensorBatches,
    adam,
    fit,
    make_loader,
    test,
)

try:  # On Databricks ML runtimes, use Databricks' own HorovodRunner.
    from sparkdl import HorovodRunner  # type: ignore[import-not-found]
except ImportError:
    from labkit.horovod_runner import HorovodRunner

Engine = Literal["horovod", "torch"]

__all__ = [
    "ENGINES", "DistributedRun", "HorovodMissing", "HorovodRunner", "ShardBatches",
    "log_to_driver",
    "run_torch_distributor", "train_ddp", "train_distributed", "train_hvd",
]


class ShardBatches:
    """One rank's batches: a ``DistributedSampler`` picks this rank's rows, reshuffled
    each pass (``set_epoch`` is called at the start of every iteration), then the rows
    are cut into batches as :class:`labkit.training.TensorBatches` does."""

    def __init__(self, x: Any, y: Any, rank: int, size: int,
                 batch_size: int = BATCH_SIZE, seed: int = SEED) -> None:
        self.x = torch.as_tensor(x, dtype=torch.float32)
        self.y = torch.as_tensor(y, dtype=torch.int64)
        self.sampler = DistributedSampler(TensorDataset(self.x, self.y),
                                          num_replicas=size, rank=rank, shuffle=True,
                                          seed=seed)
        self.batch_size, self.epoch = batch_size, 0

    def __len__(self) -> int:
        return -(-len(self.sampler) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        self.sampler.set_epoch(self.epoch)
        self.epoch += 1
        rows = torch.tensor(list(self.sampler))
        yield from TensorBatches(self.x[rows], self.y[rows], self.batch_size)


def _fit_shard(model: torch.nn.Module, optimizer: torch.optim.Optimizer, data: Split,
               rank: int, size: int, epochs: int, batch_size: int, seed: int) -> dict:
    """The part both engines share: train on this rank's shard with
    :func:`labkit.training.fit` (which also tests after each epoch, as single-process
    training does)."""
    started_at = time.time()
    shard = ShardBatches(data.x_train, data.y_train, rank, size, batch_size, seed)
    history = fit(model, shard, make_loader(data.x_test, data.y_test, batch_size),
                  epochs=epochs, optimizer=optimizer, progress=False)
    return {"history": history, "started_at": started_at, "size": size}


def train_hvd(model: PenguinNet, data: Split, model_path: str, epochs: int = EPOCHS,
              batch_size: int = BATCH_SIZE, lr: float = LEARNING_RATE,
              seed: int = SEED) -> dict:
    """The lab's Horovod training function, run on every rank by HorovodRunner."""
    import horovod.torch as hvd

    hvd.init()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cuda":
        torch.cuda.set_device(hvd.local_rank())  # one GPU per process on a machine
    model = model.to(device)
    # np ranks with batches of batch_size step like one batch of batch_size * np:
    # scale the learning rate by np.
    optimizer = hvd.DistributedOptimizer(adam(model, lr * hvd.size()),
                                         named_parameters=model.named_parameters())
    # Every rank starts from rank 0's weights and optimizer state.
    hvd.broadcast_parameters(model.state_dict(), root_rank=0)
    hvd.broadcast_optimizer_state(optimizer, root_rank=0)
    result = _fit_shard(model, optimizer, data, hvd.rank(), hvd.size(), epochs,
                        batch_size, seed)
    if hvd.rank() == 0:
        save_model(model, model_path)
        log_to_driver(f"rank 0 of {hvd.size()}: model saved to {model_path}")
    return result


def train_ddp(model: PenguinNet, data: Split, model_path: str, epochs: int = EPOCHS,
              batch_size: int = BATCH_SIZE, lr: float = LEARNING_RATE,
              seed: int = SEED) -> dict:
    """The same training with torch.distributed (DDP on Gloo), run by
    TorchDistributor."""
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    dist.init_process_group("gloo")
    try:
        rank, size = dist.get_rank(), dist.get_world_size()
        # DDP copies rank 0's weights to every rank, and averages the gradients
        # during backward().
        ddp = DistributedDataParallel(model)
        optimizer = adam(ddp, lr * size)
        result = _fit_shard(ddp, optimizer, data, rank, size, epochs, batch_size, seed)
        if rank == 0:
            save_model(model, model_path)  # the plain module: keys without "module."
            log_to_driver(f"rank 0 of {size}: model saved to {model_path}")
        return result
    finally:
        dist.destroy_process_group()


#: Spark's thread-local properties that ``setJobGroup`` sets.
JOB_GROUP_PROPERTIES = ("spark.jobGroup.id", "spark.job.description",
                        "spark.job.interruptOnCancel")


def run_torch_distributor(main: Callable[..., Any], np: int,
                          driver_log_verbosity: str = "log_callback_only",
                          **kwargs: Any) -> Any:
    """Run ``main(**kwargs)`` in ``|np|`` torch.distributed processes with TorchDistributor;
    return rank 0's value. As with HorovodRunner, ``np > 0`` runs Spark tasks (barrier
    mode) and ``np < 0`` runs processes on the driver (``local_mode=True``)."""
    from pyspark.ml.torch.distributor import TorchDistributor
    from pyspark.sql import SparkSession

    if isinstance(np, bool) or not isinstance(np, int) or np == 0:
        raise DistributedError(f"np must be a non-zero whole number, not {np!r}")
    if driver_log_verbosity not in VERBOSITIES:
        raise DistributedError(f"driver_log_verbosity must be one of {', '.join(VERBOSITIES)}")
    spark = SparkSession.getActiveSession()
    if spark is None:
        raise DistributedError("TorchDistributor needs an active SparkSession; start one "
                               "first (labkit.spark.get_spark())")
    require_memory(np, "torch")
    if np > 0:
        require_task_slots(spark, np)
    sc = spark.sparkContext
    host = "127.0.0.1" if np < 0 else sc.getConf().get("spark.driver.host", "127.0.0.1")
    group = f"labkit.torch_distributor.{time.time_ns()}"
    what = f"TorchDistributor(num_processes={abs(np)})"
    with RankOutputServer(host) as server:
        wrapped = RankMain(main, server.address, server.token, "RANK", kwargs)

        def launch() -> Any:
            # The job group is a property of this thread: put back what was there before,
            # so that the caller's later Spark jobs do not join (or get cancelled with) ours.
            previous = {key: sc.getLocalProperty(key) for key in JOB_GROUP_PROPERTIES}
            sc.setJobGroup(group, what, interruptOnCancel=True)
            try:
                distributor = TorchDistributor(num_processes=abs(np), local_mode=np < 0,
                                               use_gpu=False)
                distributor.logger.setLevel("WARNING")
                return returned(distributor.run(wrapped))
            finally:
                for key, value in previous.items():
                    sc.setLocalProperty(key, value)  # None removes the property

        return supervise(launch, server, driver_log_verbosity,
                         lambda: sc.cancelJobGroup(group), what)


@dataclass
class DistributedRun:
    """What :func:`train_distributed` measured."""

    engine: str
    np: int
    model: PenguinNet
    evaluation: Evaluation
    history: History
    wall_seconds: float
    startup_seconds: float
    model_path: Path


def train_distributed(data: Split, np: int = 2, engine: Engine = "horovod", *,
                      epochs: int = EPOCHS, batch_size: int = BATCH_SIZE,
                      lr: float = LEARNING_RATE, seed: int = SEED,
                      model_path: str | Path | None = None,
                      driver_log_verbosity: str = "log_callback_only") -> DistributedRun:
    """Train PenguinNet on ``|np|`` ranks with ``engine``, then test the saved model here.

    Starts from the same seeded weights as :func:`labkit.training.fit_penguin_net`.
    ``wall_seconds`` covers the whole run; ``startup_seconds`` the time until rank 0 began
    its first epoch (starting processes, connecting them, shipping the function).
    """
    if engine not in ENGINES:
        raise DistributedError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    arguments.whole("epochs", epochs, 1, MAX_EPOCHS)
    arguments.seed(seed, epochs)  # each rank seeds its sampler with seed + epoch
    arguments.whole("batch_size", batch_size, 1, MAX_BATCH_SIZE)
    arguments.positive_number("lr", lr)
    if model_path is None:
        model_path = Path(tempfile.mkdtemp(prefix="labkit-")) / f"penguin_{engine}.pt"
    model_path = Path(model_path).resolve()
    torch.manual_seed(seed)
    model = PenguinNet()
    kwargs = {"model": model, "data": data, "model_path": str(model_path), "epochs": epochs,
              "batch_size": batch_size, "lr": lr, "seed": seed}
    start = time.time()
    if engine == "horovod":
        result = HorovodRunner(np=np, driver_log_verbosity=driver_log_verbosity).run(
            train_hvd, **kwargs)
    else:
        result = run_torch_distributor(train_ddp, np, driver_log_verbosity, **kwargs)
    wall = time.time() - start
    trained = load_model(model_path)
    evaluation = test(trained, make_loader(data.x_test, data.y_test, batch_size))
    return DistributedRun(engine, abs(np), trained, evaluation, result["history"], wall,
                          result["started_at"] - start, model_path)
