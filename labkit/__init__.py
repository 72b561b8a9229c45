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
- ``labkit.spark_classes`` the class archive that halves a Spark session's start-up
- ``labkit.machine``     the memory this machine (or Binder's container) allows
- ``labkit.distributed`` ``HorovodRunner``, ``train_hvd`` and TorchDistributor training
- ``labkit.horovod_runner``, ``labkit.launch``, ``labkit.rank_output``: how the ranks are
  started, watched and heard from
- ``labkit.notebook``, ``labkit.figures``: numbers and figures for the book's pages (glue),
  each figure drawn in both editions' languages (``glue_figures``)
- ``labkit.atomic``      writing files whole or not at all
- ``labkit.outputs``     where a command may write: never over its input or a stream
- ``labkit.settings``    the ``LABKIT_*`` environment variables, checked
- ``labkit.arguments``, ``labkit.features``, ``labkit.archive``: checks in plain Python
  (arguments, a penguin's five features, a model file's zip archive), before torch loads
- ``labkit.cli``         the ``labkit`` command

The names below are imported when first used, so that the command line answers a mistake
before torch, pandas and scikit-learn have loaded.
"""

from __future__ import annotations

import importlib

from labkit.constants import FEATURES, ISLANDS, LABEL, SPECIES
from labkit.errors import DataError, InputError, LabkitError, ModelFileError

__version__ = "0.1.0"

#: Names ``from labkit import NAME`` gives, and the module each lives in. They are imported
#: when first used, so that ``labkit --help`` or a refused option answers without waiting
#: seconds for torch, pandas and scikit-learn.
LAZY = {
    "load_penguins": "labkit.data", "PenguinNet": "labkit.model",
    "load_model": "labkit.persistence", "save_model": "labkit.persistence",
    "predict": "labkit.predict", "Split": "labkit.prep", "leakage": "labkit.prep",
    "split": "labkit.prep", "transform": "labkit.prep", "History": "labkit.training",
    "fit": "labkit.training", "fit_penguin_net": "labkit.training",
    "make_loader": "labkit.training", "test": "labkit.training", "train": "labkit.training",
}


def __getattr__(name: str) -> object:
    if name in LAZY:
        value = getattr(importlib.import_module(LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'labkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(LAZY))


__all__ = [
    "FEATURES", "ISLANDS", "LABEL", "SPECIES", "DataError", "History", "InputError",
    "LabkitError", "ModelFileError", "PenguinNet", "Split", "fit", "fit_penguin_net",
    "leakage", "load_model", "load_penguins", "make_loader", "predict", "save_model", "split",
    "test", "train", "transform",
]
