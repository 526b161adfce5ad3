"""The trainable mode: train from a labels file, save a safe model file, load it, and explain verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classifiers.evaluate import LabeledArticle, LabelsError, evaluate_file
from classifiers.linear import REGULARISATION_C, LinearModel, ModelError, _fit, load_model, train, train_file
from classifiers.trade import default_classifier, load_classifier
from tests.classifiers.conftest import make_corpus, write_jsonl

TRADE_TEXT = (
    "Beijing retaliates with tariffs",
    "China raised tariffs on imported soybeans after trade talks failed.",
)
OTHER_TEXT = (
    "Council approves school budget",
    "The city council approved a budget for schools and recycling.",
)


def test_train_file_saves_a_versioned_json_model_that_load_classifier_uses(
    labels_file: Path, tmp_path: Path
) -> None:
    model_path = tmp_path / "models" / "trade.json"
    report = train_file(labels_file, model_path)

    raw = json.loads(model_path.read_text(encoding="utf-8"))  # plain JSON: loading it runs no code
    assert raw["version"] == report.version
    assert report.version.startswith("linear-")
    assert raw["label_counts"] == {"trade": 30, "not_trade": 30}
    assert raw["trained_at"]
    assert "saved linear-" in str(report)
    assert "30 trade, 30 not trade" in report.summary()

    classifier = load_classifier(model_path)
    assert classifier.version == report.version
    trade, other = classifier.classify(*TRADE_TEXT), classifier.classify(*OTHER_TEXT)
    assert trade.is_trade
    assert trade.score >= 0.5
    assert not other.is_trade
    assert other.score < 0.5
    assert trade.version == report.version


def test_trained_verdicts_name_the_weighted_terms_present_in_the_article(
    corpus: list[LabeledArticle],
) -> None:
    model, _ = train(corpus)
    verdict = model.classify(*TRADE_TEXT)
    assert verdict.evidence
    weights = [abs(e.weight) for e in verdict.evidence]
    assert weights == sorted(weights, reverse=True)
    title_words, body_words = TRADE_TEXT[0].lower(), TRADE_TEXT[1].lower()
    concepts = {c.name for c in default_classifier().lexicon.concepts}
    for item in verdict.evidence:
        assert (
            item.phrase in (title_words if item.field == "title" else body_words) or item.phrase in concepts
        )
    assert any(e.phrase == "tariffs" and e.weight > 0 for e in verdict.evidence)
    places = [(e.phrase, e.field) for e in verdict.evidence]
    assert len(places) == len(set(places)), "one line per phrase and place"


def test_plain_python_scoring_reproduces_scikit_learn(corpus: list[LabeledArticle]) -> None:
    model, _ = train(corpus)
    vectorizer, fitted = _fit(corpus, REGULARISATION_C)
    probes = [TRADE_TEXT, OTHER_TEXT, ("", "tariffs tariffs wine"), ("Shares rose", "in early trading")]
    expected = fitted.decision_function(vectorizer.transform(probes))
    for probe, value in zip(probes, expected, strict=True):
        assert model.decision(*probe)[0] == pytest.approx(float(value), abs=1e-9)


def test_saved_and_loaded_models_give_identical_verdicts(
    corpus: list[LabeledArticle], tmp_path: Path
) -> None:
    model, _ = train(corpus)
    model.save(tmp_path / "m.json")
    loaded = load_model(tmp_path / "m.json")
    assert loaded == model
    assert loaded.classify(*TRADE_TEXT) == model.classify(*TRADE_TEXT)


def test_training_is_deterministic_apart_from_the_date(corpus: list[LabeledArticle]) -> None:
    first, cv_first = train(corpus)
    second, cv_second = train(corpus)
    assert first.version == second.version
    assert cv_first == cv_second


def test_trained_model_refuses_empty_and_non_english_text_like_the_lexicon(
    corpus: list[LabeledArticle],
) -> None:
    model, _ = train(corpus)
    assert model.classify("", "  ").reason == "empty text"
    german = model.classify(
        "Zölle", "Die Regierung hat die Zölle auf Stahl und Aluminium nicht gesenkt, sagte der Minister."
    )
    assert (german.is_trade, german.score, german.reason) == (False, 0.0, "non-English (de)")


def test_training_needs_both_classes() -> None:
    only_trade = [a for a in make_corpus(20) if a.is_trade]
    with pytest.raises(ValueError, match="trade and non-trade"):
        train(only_trade)


def test_a_labels_file_with_one_class_is_a_labels_error(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "one.jsonl", [a for a in make_corpus(20) if not a.is_trade])
    with pytest.raises(LabelsError, match="trade and non-trade") as caught:
        train_file(path, tmp_path / "m.json")
    assert str(path) in str(caught.value)
    assert not (tmp_path / "m.json").exists()


def test_few_labels_still_train_without_cross_validation() -> None:
    model, cv_scores = train(make_corpus(2))
    assert cv_scores is None
    assert isinstance(model, LinearModel)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json at all", "invalid JSON"),
        ('{"format": "something-else"}', "not a tradewatch model"),
        ('{"format": "tradewatch-linear-model", "format_version": 99}', "version 99 is not supported"),
        (
            '{"format": "tradewatch-linear-model", "format_version": 1, "weights": {}}',
            "incomplete or corrupt",
        ),
    ],
)
def test_bad_model_files_are_refused_with_the_file_named(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ModelError, match=message) as caught:
        load_classifier(path)
    assert str(path) in str(caught.value)


def test_a_tampered_model_does_not_pass_for_the_original(
    corpus: list[LabeledArticle], tmp_path: Path
) -> None:
    model, _ = train(corpus)
    path = tmp_path / "m.json"
    model.save(path)
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["intercept"] += 1.0
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ModelError, match="does not match its version"):
        load_model(path)


def test_a_model_trained_with_another_lexicon_must_be_retrained(
    corpus: list[LabeledArticle], tmp_path: Path
) -> None:
    model, _ = train(corpus)
    other = LinearModel(
        model.weights,
        model.intercept,
        model.threshold,
        model.trained_at,
        model.label_counts,
        "lexicon-1999.1",
    )
    other.save(tmp_path / "old.json")
    with pytest.raises(ModelError, match="retrain"):
        load_model(tmp_path / "old.json")


def test_missing_model_file_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot read"):
        load_classifier(tmp_path / "absent.json")


def test_eval_of_a_trained_model_on_its_labels(labels_file: Path, tmp_path: Path) -> None:
    train_file(labels_file, tmp_path / "m.json")
    scores = evaluate_file(labels_file, tmp_path / "m.json")
    assert scores.total == 60
    assert scores.f1 == 1.0  # the templates separate cleanly; a model that cannot fit them is broken
