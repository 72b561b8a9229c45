"""labkit: the real code of the penguin lab, imported by every chapter of the course.

Where to find things:
- ``labkit.data``        loading and validating penguins.csv (``load_penguins``)
- ``labkit.prep``        the Spark transform, oversampling, the split and the leakage check
- ``labkit.model``       ``PenguinNet``
- ``labkit.training``    ``train``, ``test``, ``fit`` and ``fit_penguin_net``
- ``labkit.persistence`` ``save_model`` and ``load_model``
- ``labkit.predict``     ``predict`` for new penguins
- ``labkit.pipeline``    ``prepare``: the data steps chained, Spark's result reused
- ``labkit.spark``       ``get_spark`` and ``stop_spark``, the session the lab runs on
- ``labkit.machine``     the memory this machine (or Binder's container) allows
- ``labkit.distributed`` ``HorovodRunner``, ``train_hvd`` and TorchDistributor training
- ``labkit.horovod_runner``, ``labkit.launch``, ``labkit.rank_output``: how the ranks are
  started, watched and heard from
- ``labkit.atomic``      writing files whole or not at all
- ``labkit.cli``         the ``labkit`` command
"""

from labkit.constants import FEATURES, ISLANDS, LABEL, SPECIES
from labkit.data import load_penguins
from labkit.errors import DataError, InputError, LabkitError, ModelFileError
from labkit.model import PenguinNet
from labkit.persistence import load_model, save_model
from labkit.predict import predict
from labkit.prep import Split, leakage, split, transform
from labkit.training import History, fit, fit_penguin_net, make_loader, test, train

__version__ = "0.1.0"

__all__ = [
    "FEATURES", "ISLANDS", "LABEL", "SPECIES", "DataError", "History", "InputError",
    "LabkitError", "ModelFileError", "PenguinNet", "Split", "fit", "fit_penguin_net",
    "leakage", "load_model", "load_penguins", "make_loader", "predict", "save_model", "split",
    "test", "train", "transform",
]
