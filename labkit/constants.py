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
