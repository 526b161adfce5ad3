"""Benchmark the trade classifier on Reuters-21578 (ModApte training split) and record it in BENCHMARKS.md.

Runs 5-fold stratified cross-validation for three classifiers on the same folds:
  - the shipped lexicon (fixed, so each fold is only a measurement split; no fitting happens),
  - the trainable linear mode (`classifiers.linear.train`, fitted inside each fold on the training part
    only, deciding at the class-balanced model's own boundary),
  - a TF-IDF + LinearSVC reference (scikit-learn defaults with word 1-2 grams, fitted inside each fold).
Prints precision, recall, F1 and documents per second, and rewrites its own section of BENCHMARKS.md.
The Reuters data is research-only: it is read from ../shared/bench/classification, never copied, and no
model fitted to it is saved.

    .venv/bin/python bench/classification.py [--data DIR] [--folds 5] [--seed 0] [--no-write]

The recorded figures use seed 0. One partition of 369 positives into folds moves F1 by a few thousandths
(the linear mode: 0.849 on seed 0, 0.854 +- 0.003 over seeds 0-9), so compare changes over several
seeds (`--seed 1 --no-write`, ...) before believing a small difference.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import cpu_model, write_section  # noqa: E402
from classifiers.evaluate import LabeledArticle, Scores, scores_from  # noqa: E402
from classifiers.linear import LinearModel, train  # noqa: E402
from classifiers.trade import LexiconClassifier  # noqa: E402

DATA_FILE = "reuters21578-modapte-train.jsonl"
SEED = 0


def load(data_dir: Path) -> list[LabeledArticle]:
    with (data_dir / DATA_FILE).open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [LabeledArticle(row["title"], row["body"], bool(row["trade"])) for row in rows]


def timed_predict(
    predict: Callable[[Sequence[LabeledArticle]], list[bool]], docs: Sequence[LabeledArticle]
) -> tuple[list[bool], float]:
    # CPU time of this process, not wall time: other jobs share the machine, and CPU-seconds are what
    # "documents per second on one core" means.
    start = time.process_time()
    predicted = predict(docs)
    return predicted, time.process_time() - start


def model_predictor(model: LinearModel) -> Callable[[Sequence[LabeledArticle]], list[bool]]:
    return lambda docs: [model.classify(d.title, d.text).is_trade for d in docs]


def svc_reference(train_docs: Sequence[LabeledArticle]) -> Callable[[Sequence[LabeledArticle]], list[bool]]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    matrix = vectorizer.fit_transform([f"{d.title}\n{d.text}" for d in train_docs])
    model = LinearSVC(C=1.0).fit(matrix, [d.is_trade for d in train_docs])

    def predict(docs: Sequence[LabeledArticle]) -> list[bool]:
        features = vectorizer.transform([f"{d.title}\n{d.text}" for d in docs])
        return [bool(v) for v in model.predict(features)]

    return predict


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "bench" / "classification")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the fold partition (recorded: 0)")
    parser.add_argument("--no-write", action="store_true", help="print only, leave BENCHMARKS.md alone")
    parser.add_argument("--lexicon-only", action="store_true", help="skip the fitted models (fast)")
    args = parser.parse_args()
    if not (args.data / DATA_FILE).exists():
        print(f"skipped: {args.data / DATA_FILE} not found (research data is not shipped)")
        return 0

    from sklearn.model_selection import StratifiedKFold

    load_at_start = os.getloadavg()[0]
    docs = load(args.data)
    labels = [d.is_trade for d in docs]
    lexicon = LexiconClassifier()
    results: dict[str, tuple[list[bool], list[bool], float, int]] = {}

    def add(name: str, predicted: list[bool], truth: list[bool], seconds: float) -> None:
        previous = results.get(name, ([], [], 0.0, 0))
        results[name] = (
            previous[0] + predicted,
            previous[1] + truth,
            previous[2] + seconds,
            previous[3] + len(truth),
        )

    # The lexicon is fixed: measuring it on all documents at once is the same as summing the folds.
    predicted, seconds = timed_predict(
        lambda ds: [lexicon.classify(d.title, d.text).is_trade for d in ds], docs
    )
    add(f"lexicon ({lexicon.version})", predicted, labels, seconds)
    print(f"lexicon done in {seconds:.1f} s", flush=True)

    if not args.lexicon_only:
        splitter = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=args.seed)
        for fold, (train_index, test_index) in enumerate(splitter.split(docs, labels), start=1):
            train_docs = [docs[i] for i in train_index]
            test_docs = [docs[i] for i in test_index]
            truth = [d.is_trade for d in test_docs]
            model, _ = train(train_docs)
            predicted, seconds = timed_predict(model_predictor(model), test_docs)
            add("trainable linear (classifiers.linear)", predicted, truth, seconds)
            reference = svc_reference(train_docs)
            predicted, seconds = timed_predict(reference, test_docs)
            add("reference TF-IDF + LinearSVC", predicted, truth, seconds)
            print(f"fold {fold}/{args.folds} done", flush=True)

    rows = []
    for name, (predicted, truth, seconds, count) in results.items():
        scores: Scores = scores_from(predicted, truth)
        rate = count / seconds if seconds else float("inf")
        rows.append(
            f"| {name} | {scores.precision:.3f} | {scores.recall:.3f} | {scores.f1:.3f} | "
            f"{scores.tp} / {scores.fp} / {scores.fn} / {scores.tn} | {rate:,.0f} |"
        )
    table = "\n".join(
        [
            "| classifier | precision | recall | F1 | tp / fp / fn / tn | docs per CPU-second |",
            "|---|---|---|---|---|---|",
            *rows,
        ]
    )
    print(table)
    if args.no_write:
        return 0
    options = (f" --seed {args.seed}" if args.seed != SEED else "") + (
        " --lexicon-only" if args.lexicon_only else ""
    )
    command = "python bench/classification.py" + options
    section = "\n".join(
        [
            "## Trade classification (Reuters-21578 ModApte training documents)",
            "",
            f"{len(docs):,} documents, {sum(labels)} labelled trade; {args.folds}-fold stratified "
            f"cross-validation (seed {args.seed}). The lexicon is fixed (no fitting), so it is measured on "
            "every document; the linear models are fitted inside each fold. Speed is classification only "
            "(not training), in documents per CPU-second of this process (single-threaded Python), measured "
            "on a shared machine other jobs were loading; wall-clock rates there were lower.",
            "",
            table,
            "",
            f"- command: `{command}`",
            f"- machine: {cpu_model()}, {os.cpu_count()} cores (shared with other jobs; 1-min load average "
            f"{load_at_start:.1f} at start), Python {platform.python_version()}, {platform.system()}",
            f"- date: {datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M')} UTC",
        ]
    )
    path = write_section("classification", section)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
