"""Measure a classifier against labelled articles: precision, recall, F1 and the confusion counts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from classifiers.verdict import Classifier


class LabelsError(ValueError):
    """A labels file is unusable; the message names the file, the line and the field at fault."""

    def __init__(self, path: str | Path, line: int, field: str, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        super().__init__(f"{path}:{line}: field {field!r}: {problem}")


@dataclass(frozen=True)
class LabeledArticle:
    """One article a person has judged: the classifier's input plus the right answer."""

    title: str
    text: str
    is_trade: bool


def read_labels(path: str | Path) -> list[LabeledArticle]:
    """Read a JSONL labels file (lines of {title, text, is_trade}); blank lines are allowed.

    Strict on purpose: a silently skipped or mis-typed label would quietly bias training and evaluation,
    so every problem stops the run with the line to fix.
    """
    articles = list(_iter_labels(Path(path)))
    if not articles:
        raise LabelsError(path, 0, "is_trade", "the file holds no labelled articles")
    return articles


def _iter_labels(path: Path) -> Iterator[LabeledArticle]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise LabelsError(path, 0, "-", f"cannot open: {exc.strerror or exc}") from exc
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise LabelsError(path, number, "-", f"not valid JSON ({exc.msg})") from exc
            if not isinstance(record, dict):
                raise LabelsError(path, number, "-", "each line must be a JSON object")
            title = record.get("title", "")
            text = record.get("text", "")
            for name, value in (("title", title), ("text", text)):
                if not isinstance(value, str):
                    raise LabelsError(path, number, name, f"must be a string, got {type(value).__name__}")
            if "is_trade" not in record:
                raise LabelsError(path, number, "is_trade", "missing")
            label = record["is_trade"]
            if not isinstance(label, bool):
                raise LabelsError(path, number, "is_trade", f"must be true or false, got {label!r}")
            yield LabeledArticle(title, text, label)


@dataclass(frozen=True)
class Scores:
    """How a classifier did on labelled articles, with the raw counts so others can recompute anything."""

    tp: int
    fp: int
    fn: int
    tn: int
    version: str = ""

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float:
        """Share of articles called trade that are trade (0 when nothing was called trade)."""
        called = self.tp + self.fp
        return self.tp / called if called else 0.0

    @property
    def recall(self) -> float:
        """Share of trade articles that were found (0 when there were none to find)."""
        actual = self.tp + self.fn
        return self.tp / actual if actual else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def summary(self) -> str:
        """A few lines fit for a terminal."""
        head = f"classifier {self.version}\n" if self.version else ""
        return (
            f"{head}articles   {self.total}\n"
            f"precision  {self.precision:.3f}\n"
            f"recall     {self.recall:.3f}\n"
            f"f1         {self.f1:.3f}\n"
            f"confusion  tp={self.tp} fp={self.fp} fn={self.fn} tn={self.tn}"
        )

    def __str__(self) -> str:
        return self.summary()


def scores_from(predicted: Iterable[bool], actual: Iterable[bool], version: str = "") -> Scores:
    """Count the confusion matrix of paired predictions and labels."""
    tp = fp = fn = tn = 0
    for guess, truth in zip(predicted, actual, strict=True):
        if guess and truth:
            tp += 1
        elif guess:
            fp += 1
        elif truth:
            fn += 1
        else:
            tn += 1
    return Scores(tp, fp, fn, tn, version)


def evaluate(classifier: Classifier, records: Iterable[LabeledArticle]) -> Scores:
    """Score a classifier on labelled articles."""
    items = list(records)
    predicted = [classifier.classify(item.title, item.text).is_trade for item in items]
    return scores_from(predicted, [item.is_trade for item in items], classifier.version)
