"""The errors labkit raises on purpose, so that callers (and the command line) can tell
a learner's mistake from a bug."""

from __future__ import annotations


class LabkitError(Exception):
    """Base class: a problem with what the user gave us, explained in one line."""


class DataError(LabkitError):
    """The penguin CSV cannot be used; the message names the file and, where there is one,
    the line and column (``file:line:column: what is wrong``)."""


class ModelFileError(LabkitError):
    """A saved model is missing, truncated, or does not fit PenguinNet."""


class OutputError(LabkitError):
    """A path labkit was asked to write must not be written: it is the input, where
    standard output goes, or something other than a regular file."""


class InputError(LabkitError):
    """Rows given to ``predict`` (or options given to a command) have the wrong shape or type."""


class TrainingError(LabkitError):
    """Training cannot go on: the loss became NaN or infinite (the learning rate is far
    too large, or the data holds values the network cannot handle)."""
