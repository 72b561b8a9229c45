"""Shared fixtures: one real local Spark session for the whole run, and the prepared data."""

from __future__ import annotations

import pytest

from labkit.pipeline import Prepared, prepare
from labkit.spark import get_spark


@pytest.fixture(scope="session")
def spark():
    """A real ``local[2]`` SparkSession (two task slots, enough for np=2 Horovod runs)."""
    session = get_spark("labkit-tests", master="local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def honest(spark) -> Prepared:
    """The packaged data prepared the honest way (split, then oversample)."""
    return prepare(mode="honest", spark=spark)


@pytest.fixture(scope="session")
def seeded(spark) -> Prepared:
    """The packaged data prepared the lab's way (oversample, then split)."""
    return prepare(mode="seed", spark=spark)


@pytest.fixture(scope="session")
def lab_model(honest):
    """PenguinNet trained with the lab's defaults on the honest split (about 3 seconds)."""
    from labkit.training import fit_penguin_net

    model, _ = fit_penguin_net(honest.data, progress=False)
    return model
