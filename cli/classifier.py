"""`tradewatch classifier train` and `eval`: a linear model on your own labels; how well a classifier does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.common import fail, group


def classifier_train(
    labels: Annotated[Path, typer.Argument(help="JSONL: one {title, text, is_trade} object per line.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to save the model (JSON).")] = Path(
        "models/trade.json"
    ),
) -> None:
    """Fit a linear model on your labels and save it; use it with [classifier] model = PATH."""
    from classifiers.evaluate import LabelsError
    from classifiers.linear import ModelError, train_file

    if not labels.is_file():
        raise fail(f"{labels}: no such file; give a JSONL file of {{title, text, is_trade}} lines")
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        report = train_file(labels, output)
    except (LabelsError, ModelError) as exc:
        raise fail(str(exc)) from None
    typer.echo(report.summary())
    typer.echo(f'use it: add to your configuration\n[classifier]\nmodel = "{output}"')


def classifier_eval(
    labels: Annotated[Path, typer.Argument(help="JSONL: one {title, text, is_trade} object per line.")],
    model: Annotated[
        Path | None, typer.Option(help="A trained model (default: the built-in lexicon).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Scores as JSON.")] = False,
) -> None:
    """Precision, recall, F1 and the confusion counts of a classifier on your labels."""
    from classifiers.evaluate import LabelsError
    from classifiers.linear import ModelError
    from classifiers.load import evaluate_file

    if not labels.is_file():
        raise fail(f"{labels}: no such file; give a JSONL file of {{title, text, is_trade}} lines")
    try:
        scores = evaluate_file(labels, model)
    except (LabelsError, ModelError, FileNotFoundError) as exc:
        raise fail(str(exc)) from None
    if as_json:
        payload = {
            "version": scores.version,
            "precision": scores.precision,
            "recall": scores.recall,
            "f1": scores.f1,
            "tp": scores.tp,
            "fp": scores.fp,
            "fn": scores.fn,
            "tn": scores.tn,
        }
        typer.echo(json.dumps(payload))
        return
    typer.echo(scores.summary())


def register(app: typer.Typer) -> None:
    """Add the `classifier` group to the tradewatch app."""
    classifier = group(app, "classifier", "Train and evaluate a trade classifier on your own labels.")
    classifier.command("train")(classifier_train)
    classifier.command("eval")(classifier_eval)
