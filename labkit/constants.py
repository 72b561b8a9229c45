"""Names and encodings shared by every step of the lab, in one place."""

from __future__ import annotations

#: Column names of the CSV, in the order the file stores them.
CSV_COLUMNS: tuple[str, ...] = (
    "Island", "CulmenLength", "CulmenDepth", "FlipperLength", "BodyMass", "Species",
)
#: Measurements that must be positive numbers.
MEASUREMENTS: tuple[str, ...] = ("CulmenLength", "CulmenDepth", "FlipperLength", "BodyMass")

#: The island index is fixed by sorting the names. The original lab numbered the islands in
#: the order ``collect_set`` happened to return them, which Spark does not guarantee.
ISLANDS: tuple[str, ...] = ("Biscoe", "Dream", "Torgersen")
#: Species codes used by the data set: 0 = Adelie, 1 = Gentoo, 2 = Chinstrap.
SPECIES: tuple[str, ...] = ("Adelie", "Gentoo", "Chinstrap")

#: The five model inputs and the label, as the lab names them.
FEATURES: tuple[str, ...] = (
    "IslandIdx", "CulmenLength", "CulmenDepth", "FlipperScaled", "MassScaled",
)
LABEL: str = "Species"

#: Units of the measurements (labkit/dataset/PROVENANCE.md).
UNITS: dict[str, str] = {
    "CulmenLength": "mm", "CulmenDepth": "mm", "FlipperLength": "mm", "BodyMass": "g",
}
#: What a measurement may be: the smallest and largest values labkit accepts. The packaged
#: data ranges over culmen length 32.1-59.6 mm, culmen depth 13.1-21.5 mm, flipper length
#: 172-231 mm and body mass 2700-6300 g (the 342 complete rows); the bounds below are
#: generous (about half the smallest and twice the largest value seen), so that any real
#: penguin of these species passes, while a unit mistake (metres, kilograms), a typo of
#: several digits or a value beyond float32 (1e39) is an error instead of a silent
#: outlier.
PLAUSIBLE: dict[str, tuple[float, float]] = {
    "CulmenLength": (15.0, 120.0),
    "CulmenDepth": (6.0, 45.0),
    "FlipperLength": (80.0, 460.0),
    "BodyMass": (1000.0, 13000.0),
}

#: The lab's training settings (:mod:`labkit.training`), here so that the command line can
#: show them without importing torch.
BATCH_SIZE = 20
LEARNING_RATE = 0.001
EPOCHS = 100
SEED = 0
#: Bounds of epochs and batch size: wide enough for any experiment, narrow enough that a
#: typo cannot start a run of days.
MAX_EPOCHS = 10_000
MAX_BATCH_SIZE = 1_000_000

#: How :func:`labkit.prep.split` may split: ``honest`` (split, then oversample) or ``seed``
#: (oversample, then split, as the lab does); and the share of penguins held out for testing.
SPLIT_MODES: tuple[str, ...] = ("honest", "seed")
TEST_SIZE = 0.30
#: The lab's two self-unions double the rows twice: 4x, not the "triple" its comment says.
OVERSAMPLE_FACTOR = 4
