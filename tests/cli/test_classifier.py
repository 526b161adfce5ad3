"""`tradewatch classifier train/eval` on a user's own labels, and a trained model used by configuration."""

from __future__ import annotations

import json
import random
from pathlib import Path

from typer.testing import CliRunner

from classifiers.load import load_classifier
from cli.app import app
from flows.settings import load_settings

runner = CliRunner()

TRADE = [
    "Washington raised tariffs on imported steel and aluminium, and Beijing vowed retaliation.",
    "Negotiators resumed trade talks over market access for farm goods and auto parts.",
    "The commerce ministry opened an anti-dumping probe into solar panel imports.",
    "New export controls restrict shipments of advanced chips and chipmaking tools.",
    "The trade deficit widened as imports of consumer goods outpaced exports.",
]
OTHER = [
    "The city council approved a budget for road repairs and new libraries.",
    "Forecasters expect record heat across the region through the weekend.",
    "The Hawks traded their starting guard before the deadline for two picks.",
    "Retail investors piled into options as daily trading volume hit a record.",
    "The museum reopened after renovations with a new modern art wing.",
]


def _labels(path: Path, n: int = 60) -> Path:
    rng = random.Random(7)
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            is_trade = i % 2 == 0
            pool = TRADE if is_trade else OTHER
            text = " ".join(rng.sample(pool, 3))
            out.write(json.dumps({"title": pool[i % 5][:40], "text": text, "is_trade": is_trade}) + "\n")
    return path


def test_train_then_eval_then_use_the_model_from_configuration(tmp_path: Path) -> None:
    labels = _labels(tmp_path / "labels.jsonl")
    model = tmp_path / "models" / "trade.json"
    trained = runner.invoke(app, ["classifier", "train", str(labels), "--output", str(model)])
    assert trained.exit_code == 0, trained.output
    assert model.is_file()
    assert "30 trade, 30 not trade" in trained.output

    evaluated = runner.invoke(app, ["classifier", "eval", str(labels), "--model", str(model), "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    scores = json.loads(evaluated.output)
    assert scores["tp"] + scores["fp"] + scores["fn"] + scores["tn"] == 60
    assert scores["f1"] > 0.9

    config = tmp_path / "tw.toml"
    config.write_text(f'[classifier]\nmodel = "{model}"\n', encoding="utf-8")
    classifier = load_classifier(load_settings(config).classifier.model)
    verdict = classifier.classify("Tariffs rise", "Washington raised tariffs on imported steel.")
    assert verdict.is_trade
    assert verdict.evidence, "a trained model still names the terms that decided"
    assert verdict.version != load_classifier(None).version


def test_eval_of_the_builtin_lexicon_prints_precision_recall_f1_and_confusion(tmp_path: Path) -> None:
    result = runner.invoke(app, ["classifier", "eval", str(_labels(tmp_path / "l.jsonl"))])
    assert result.exit_code == 0, result.output
    for word in ("precision", "recall", "f1", "tp=", "fp=", "fn=", "tn="):
        assert word in result.output


def test_bad_labels_exit_2_naming_the_line_and_field(tmp_path: Path) -> None:
    labels = tmp_path / "bad.jsonl"
    labels.write_text(
        '{"title": "a", "text": "b", "is_trade": true}\n{"title": "c", "text": "d"}\n', encoding="utf-8"
    )
    result = runner.invoke(app, ["classifier", "eval", str(labels)])
    assert result.exit_code == 2
    assert ":2" in result.output or "line 2" in result.output
    assert "is_trade" in result.output
