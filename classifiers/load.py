"""Choose the classifier configuration asks for: the shipped lexicon, or a trained model file.

The choice sits above both classifiers and the evaluation harness, so the import graph stays a line:
verdict/lexicon/language → trade → evaluate → linear → load. (It used to live in ``trade`` and reach up
to ``linear`` through a lazy import, a cycle trade → linear → evaluate → trade.)
"""

from __future__ import annotations

from pathlib import Path

from classifiers.evaluate import Scores, evaluate, read_labels
from classifiers.linear import load_model
from classifiers.trade import default_classifier
from classifiers.verdict import Classifier


def load_classifier(model_path: str | Path | None = None) -> Classifier:
    """Return the classifier configuration asks for: None → the lexicon, else a trained model file."""
    if model_path is None:
        return default_classifier()
    return load_model(model_path)


def evaluate_file(labels_path: str | Path, model_path: str | Path | None = None) -> Scores:
    """Score the lexicon (model_path None) or a trained model on a JSONL labels file."""
    return evaluate(load_classifier(model_path), read_labels(labels_path))
