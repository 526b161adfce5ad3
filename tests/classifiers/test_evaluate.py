"""Scoring classifiers on labelled articles, and strict reading of labels files."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers.evaluate import (
    LabeledArticle,
    LabelsError,
    Scores,
    evaluate,
    read_labels,
    scores_from,
)
from classifiers.load import evaluate_file
from classifiers.trade import LexiconClassifier


def test_scores_count_the_confusion_matrix_and_derive_precision_recall_f1() -> None:
    scores = scores_from([True, True, False, False, True], [True, False, True, False, True])
    assert (scores.tp, scores.fp, scores.fn, scores.tn) == (2, 1, 1, 1)
    assert scores.precision == pytest.approx(2 / 3)
    assert scores.recall == pytest.approx(2 / 3)
    assert scores.f1 == pytest.approx(2 / 3)
    text = scores.summary()
    assert "precision  0.667" in text
    assert "tp=2 fp=1 fn=1 tn=1" in text
    assert str(scores) == text


def test_scores_without_positive_calls_are_zero_not_an_error() -> None:
    scores = Scores(tp=0, fp=0, fn=3, tn=5)
    assert (scores.precision, scores.recall, scores.f1) == (0.0, 0.0, 0.0)


def test_evaluate_the_lexicon_on_written_articles() -> None:
    records = [
        LabeledArticle("Tariffs on Chinese steel doubled", "The trade war escalated with new tariffs.", True),
        LabeledArticle(
            "Lakers trade guard", "The NBA trade deadline passed with a point guard traded.", False
        ),
        LabeledArticle("Rain expected", "Heavy rain is expected across the region this weekend.", False),
    ]
    scores = evaluate(LexiconClassifier(), records)
    assert (scores.tp, scores.fp, scores.fn, scores.tn) == (1, 0, 0, 2)
    assert scores.version.startswith("lexicon-")


def test_evaluate_file_defaults_to_the_lexicon(labels_file: Path) -> None:
    scores = evaluate_file(labels_file)
    assert scores.total == 60
    assert scores.version.startswith("lexicon-")
    assert scores.f1 > 0.9  # the template articles use plain trade vocabulary


@pytest.mark.parametrize(
    ("line", "field", "problem"),
    [
        ("{not json", "-", "not valid JSON"),
        ('["a list"]', "-", "JSON object"),
        ('{"title": "t", "text": "x"}', "is_trade", "missing"),
        ('{"title": "t", "text": "x", "is_trade": "yes"}', "is_trade", "true or false"),
        ('{"title": 5, "text": "x", "is_trade": true}', "title", "must be a string"),
        ('{"title": "t", "text": null, "is_trade": false}', "text", "must be a string"),
    ],
)
def test_bad_lines_name_file_line_and_field(tmp_path: Path, line: str, field: str, problem: str) -> None:
    path = tmp_path / "labels.jsonl"
    good = '{"title": "ok", "text": "fine", "is_trade": true}'
    path.write_text(f"{good}\n\n{line}\n{good}\n", encoding="utf-8")
    with pytest.raises(LabelsError) as caught:
        read_labels(path)
    error = caught.value
    assert (error.path, error.line, error.field) == (str(path), 3, field)
    assert str(error).startswith(f"{path}:3: field {field!r}")
    assert problem in str(error)


def test_missing_and_empty_labels_files_are_errors(tmp_path: Path) -> None:
    with pytest.raises(LabelsError, match="cannot open"):
        read_labels(tmp_path / "absent.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(LabelsError, match="no labelled articles"):
        read_labels(empty)


def test_missing_title_or_text_defaults_to_empty(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text('{"text": "Tariffs rose.", "is_trade": true}\n{"title": "T", "is_trade": false}\n')
    assert read_labels(path) == [LabeledArticle("", "Tariffs rose.", True), LabeledArticle("T", "", False)]
