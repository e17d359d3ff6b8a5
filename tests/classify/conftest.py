"""Fixtures of the classify room: the shipped model, loaded once per test session."""

from __future__ import annotations

import pytest

from classify.api import Classifier


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    """The shipped model (classify/models/) with the shipped lexicons and no claims."""
    return Classifier.load()
