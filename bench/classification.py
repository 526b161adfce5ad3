"""Benchmark the trade classifier on Reuters-21578 (ModApte training split) and record it in BENCHMARKS.md.

Runs repeated stratified 5-fold cross-validation: the same three classifiers on the same folds, for fold
partitions seeded 0..N-1 (`--seeds N`, default 5; `--seed S` runs partition S alone):
  - the shipped lexicon (fixed: no fitting, so the folds only split the measurement and its pooled numbers
    are the same for every partition; it is measured once, on every document),
  - the trainable linear mode (`classifiers.linear.train`, fitted inside each fold on the training part
    only, deciding at the class-balanced model's own boundary),
  - a TF-IDF + LinearSVC reference (scikit-learn defaults with word 1-2 grams, fitted inside each fold).
Each partition gives pooled precision, recall and F1 (confusion counts summed over its folds); the table
gives their mean, min and max over the partitions, next to seed 0's figure, plus documents per CPU-second.
It prints everything and rewrites its own section of BENCHMARKS.md. The Reuters data is research-only: it
is read from ../shared/bench/classification, never copied, and no model fitted to it is saved.

    nice -n 19 .venv/bin/python bench/classification.py [--data DIR] [--folds 5] [--seeds 5 | --seed S]
        [--lexicon-only] [--no-write]

One partition of 369 positives into folds moves the trainable mode's F1 by a few thousandths (seeds 0-9:
0.849 to 0.859, seed 0 the lowest), which is why the recorded figure is a mean over partitions. Compare a
change over the same partitions before believing a small difference.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import machine, write_section  # noqa: E402
from classifiers.evaluate import LabeledArticle, Scores, scores_from  # noqa: E402
from classifiers.linear import LinearModel, train  # noqa: E402
from classifiers.trade import LexiconClassifier  # noqa: E402

DATA_FILE = "reuters21578-modapte-train.jsonl"
SEEDS = 5
TARGET_F1 = 0.85  # issue #5: the trainable mode should reach "F1 >= 0.85 in 5-fold CV"
TRAINABLE = "trainable linear (classifiers.linear)"
REFERENCE = "reference TF-IDF + LinearSVC"


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


class Tally:
    """One classifier's pooled scores per fold partition, and its classification time over all of them."""

    def __init__(self) -> None:
        self.predicted: dict[int, list[bool]] = {}
        self.truth: dict[int, list[bool]] = {}
        self.seconds = 0.0
        self.documents = 0

    def add(self, seed: int, predicted: list[bool], truth: list[bool], seconds: float) -> None:
        self.predicted.setdefault(seed, []).extend(predicted)
        self.truth.setdefault(seed, []).extend(truth)
        self.seconds += seconds
        self.documents += len(truth)

    def scores(self) -> dict[int, Scores]:
        return {seed: scores_from(self.predicted[seed], self.truth[seed]) for seed in self.predicted}

    def rate(self) -> str:
        return f"{self.documents / self.seconds:,.0f}" if self.seconds else "-"


def summary_row(name: str, partitions: str, per_seed: dict[int, Scores], rate: str) -> str:
    f1 = [s.f1 for s in per_seed.values()]
    first = per_seed.get(0)
    return (
        f"| {name} | {partitions} | {statistics.mean(s.precision for s in per_seed.values()):.3f} | "
        f"{statistics.mean(s.recall for s in per_seed.values()):.3f} | **{statistics.mean(f1):.3f}** | "
        f"{min(f1):.3f} | {max(f1):.3f} | {f'{first.f1:.3f}' if first else '-'} | {rate} |"
    )


def acceptance(per_seed: dict[int, Scores], folds: int) -> str:
    """The plain answer to issue #5, with seed 0 alone next to the mean so neither hides the other."""
    f1 = [s.f1 for s in per_seed.values()]
    mean = statistics.mean(f1)
    reached = sum(value >= TARGET_F1 for value in f1)
    first = per_seed.get(0)
    seed_zero = (
        f"; seed 0 alone: {first.f1:.3f}, {'at or above' if first.f1 >= TARGET_F1 else 'below'} the target"
        if first
        else ""
    )
    verdict = "meets" if mean >= TARGET_F1 else "misses"
    # four decimals, so a partition at 0.8496 does not read as 0.850 and seem to reach 0.85
    each = ", ".join(f"{seed}: {s.f1:.4f}" for seed, s in per_seed.items())
    return (
        f"trainable, {folds}-fold CV: mean F1 {mean:.3f} over {len(f1)} partition{'s' * (len(f1) != 1)} "
        f"(min {min(f1):.3f}, max {max(f1):.3f}{seed_zero}) — target {TARGET_F1:.2f}: the mean {verdict} "
        f"it; {reached} of {len(f1)} partitions reach it on their own (F1 by seed {each})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "bench" / "classification")
    parser.add_argument("--folds", type=int, default=5)
    partitions = parser.add_mutually_exclusive_group()
    partitions.add_argument(
        "--seeds", type=int, default=SEEDS, help=f"fold partitions seeded 0..N-1 (default {SEEDS})"
    )
    partitions.add_argument("--seed", type=int, help="run the one fold partition with this seed")
    parser.add_argument("--no-write", action="store_true", help="print only, leave BENCHMARKS.md alone")
    parser.add_argument("--lexicon-only", action="store_true", help="skip the fitted models (fast)")
    args = parser.parse_args()
    if not (args.data / DATA_FILE).exists():
        print(f"skipped: {args.data / DATA_FILE} not found (research data is not shipped)")
        return 0
    seeds = [args.seed] if args.seed is not None else list(range(args.seeds))
    if not seeds:
        parser.error("--seeds must be at least 1")

    from sklearn.model_selection import StratifiedKFold

    load_at_start = os.getloadavg()[0]
    docs = load(args.data)
    labels = [d.is_trade for d in docs]
    lexicon = LexiconClassifier()

    # The lexicon is fixed: measuring it on all documents at once is the same as summing the folds of any
    # partition, so every partition would give these same pooled numbers.
    lexicon_tally = Tally()
    predicted, seconds = timed_predict(
        lambda ds: [lexicon.classify(d.title, d.text).is_trade for d in ds], docs
    )
    lexicon_tally.add(0, predicted, labels, seconds)
    print(f"lexicon done in {seconds:.1f} s", flush=True)

    fitted = {TRAINABLE: Tally(), REFERENCE: Tally()}
    if not args.lexicon_only:
        for seed in seeds:
            splitter = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=seed)
            for fold, (train_index, test_index) in enumerate(splitter.split(docs, labels), start=1):
                train_docs = [docs[i] for i in train_index]
                test_docs = [docs[i] for i in test_index]
                truth = [d.is_trade for d in test_docs]
                # the same model `train` saves; its own report CV would only be thrown away here
                model, _ = train(train_docs, cross_validate=False)
                predicted, seconds = timed_predict(model_predictor(model), test_docs)
                fitted[TRAINABLE].add(seed, predicted, truth, seconds)
                reference = svc_reference(train_docs)
                predicted, seconds = timed_predict(reference, test_docs)
                fitted[REFERENCE].add(seed, predicted, truth, seconds)
                print(f"seed {seed} fold {fold}/{args.folds} done", flush=True)
            print(
                f"seed {seed}: "
                + ", ".join(f"{name} F1 {t.scores()[seed].f1:.4f}" for name, t in fitted.items()),
                flush=True,
            )

    count = len(seeds)
    many = f"{count} partition{'s' * (count != 1)}"
    lexicon_scores = lexicon_tally.scores()[0]
    lexicon_row = (
        f"| lexicon ({lexicon.version}) | fixed: same on every partition | {lexicon_scores.precision:.3f} | "
        f"{lexicon_scores.recall:.3f} | **{lexicon_scores.f1:.3f}** | {lexicon_scores.f1:.3f} | "
        f"{lexicon_scores.f1:.3f} | {lexicon_scores.f1:.3f} | {lexicon_tally.rate()} |"
    )
    rows = [lexicon_row] + [
        summary_row(name, many, tally.scores(), tally.rate())
        for name, tally in fitted.items()
        if tally.documents
    ]
    table = "\n".join(
        [
            "| classifier | fold partitions (seeds) | mean precision | mean recall | mean F1 | min F1 | "
            "max F1 | seed 0 F1 | docs per CPU-second |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    lines = [table]
    verdict = ""
    if fitted[TRAINABLE].documents:
        trainable, svc = fitted[TRAINABLE].scores(), fitted[REFERENCE].scores()
        per_seed = [
            "| seed | trainable P / R / F1 | trainable tp / fp / fn / tn | reference P / R / F1 |",
            "|---|---|---|---|",
        ]
        for seed in seeds:
            t, r = trainable[seed], svc[seed]
            per_seed.append(
                f"| {seed} | {t.precision:.3f} / {t.recall:.3f} / {t.f1:.3f} | "
                f"{t.tp} / {t.fp} / {t.fn} / {t.tn} | {r.precision:.3f} / {r.recall:.3f} / {r.f1:.3f} |"
            )
        if count > 1:
            spread = statistics.stdev(s.f1 for s in trainable.values())
            per_seed.append("")
            per_seed.append(f"Trainable F1 standard deviation over the {many}: {spread:.3f}.")
        lines += ["", "\n".join(per_seed)]
        verdict = acceptance(trainable, args.folds)
    print("\n".join(lines))
    if verdict:
        print(f"\nacceptance (issue #5): {verdict}")
    if args.no_write:
        return 0
    niceness = os.nice(0)
    python = Path(sys.executable)
    shown = python.relative_to(ROOT) if python.is_relative_to(ROOT) else python
    command = shlex.join([str(shown), *sys.argv])
    if niceness:
        command = f"nice -n {niceness} {command}"
    seeds_text = f"seeds {seeds[0]}-{seeds[-1]}" if count > 1 else f"seed {seeds[0]}"
    section = "\n".join(
        [
            "## Trade classification (Reuters-21578 ModApte training documents)",
            "",
            f"{len(docs):,} documents, {sum(labels)} labelled trade; repeated stratified {args.folds}-fold "
            f"cross-validation over {many} of the documents into folds ({seeds_text}). Each partition "
            "gives pooled precision, recall and F1 (confusion counts summed over its folds); the table shows "
            "their mean, min and max, and seed 0 on its own. The lexicon is fixed (no fitting), so its "
            "pooled numbers are identical for every partition and it is measured once, on every document; "
            "the linear models are fitted inside each fold. Speed is classification only (not training), "
            "in documents per CPU-second of this process (single-threaded Python), measured on a shared "
            "machine other jobs were loading; wall-clock rates there were lower.",
            "",
            *lines,
            "",
            *([f"- acceptance (issue #5): {verdict}"] if verdict else []),
            f"- command: `{command}`",
            f"- machine: {machine()} (shared with other jobs; 1-min load average {load_at_start:.1f} at "
            "start)",
            f"- date: {datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M')} UTC",
        ]
    )
    path = write_section("classification", section)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
