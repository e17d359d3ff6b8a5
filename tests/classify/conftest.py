"""Fixtures of the classify room: a model trained here on the seed set, so a retrain of the shipped one cannot break CI."""

from __future__ import annotations

import pytest

from classify.api import Classifier
from classify.lexicon import Lexicons
from classify.model import seed_items, train


@pytest.fixture(scope="session")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> Classifier:
    """A model fitted once per session on fixtures/labelled (the seed set) with the shipped lexicons and no claims."""
    folder = tmp_path_factory.mktemp("seed-model")
    train(seed_items(), [], Lexicons.load(), folder, evaluate=False)
    return Classifier.load(folder)
