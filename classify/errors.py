"""User-caused errors of the classify room (light module: the CLI imports it at start-up)."""

from __future__ import annotations


class ModelError(RuntimeError):
    """The model folder is missing, incomplete or from an incompatible version; says what to run."""


class TrainingDataError(ValueError):
    """A labelled file has a bad line; the message names the file, line and field."""


class LexiconError(ValueError):
    """A lexicon file cannot be read; the message names the file and what to fix."""


class DataMissingError(FileNotFoundError):
    """The real-data folder (or one of its files) is not there; says which path to pass."""


class BatchInputError(ValueError):
    """The batch input file cannot be read at all (missing, not UTF-8); bad lines are reported, not raised."""
