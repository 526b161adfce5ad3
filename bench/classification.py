"""Benchmark the trade classifier on real news and on Reuters-21578, and record it in BENCHMARKS.md.

Two labelled sets, measured side by side in one run:
  - news_dev (../shared/bench/classification-news/news_dev.jsonl, labelled by its RUBRIC.md): the shipped
    lexicon on each item with its body, and on its headline alone (the title as the only input, as for a
    feed entry whose page could not be fetched), each with and without the items marked borderline, and
    per group (BBC 2004-05, Xinhua / People's Daily 2014-18); plus the trainable mode fitted on all of
    Reuters and applied to news_dev (research only: nothing fitted to Reuters is saved);
  - Reuters-21578 ModApte training documents: repeated stratified 5-fold cross-validation, the same three
    classifiers on the same folds, for fold partitions seeded 0..N-1 (`--seeds N`, default 5; `--seed S`
    runs partition S alone):
      - the shipped lexicon (fixed: no fitting, so the folds only split the measurement and its pooled
        numbers are the same for every partition; it is measured once, on every document),
      - the trainable linear mode (`classifiers.linear.train`, fitted inside each fold on the training part
        only, deciding at the class-balanced model's own boundary),
      - a TF-IDF + LinearSVC reference (scikit-learn defaults with word 1-2 grams, fitted inside each fold).
    Each partition gives pooled precision, recall and F1 (confusion counts summed over its folds); the
    table gives their mean, min and max over the partitions, next to seed 0's figure, plus documents per
    CPU-second. The lexicon's Reuters errors are also counted by the Reuters topics of the documents, since
    the collection files a duty on one commodity under that commodity, where the news rubric says trade.
It prints everything and rewrites its own section of BENCHMARKS.md. Both data sets are research-only:
they are read from ../shared/bench, never copied, and no model fitted to them is saved.

    nice -n 19 .venv/bin/python bench/classification.py [--data DIR] [--news DIR] [--folds 5]
        [--seeds 5 | --seed S] [--lexicon-only] [--no-write]

One partition of 369 positives into folds moves the trainable mode's F1 by a few thousandths (seeds 0-9:
0.849 to 0.859, seed 0 the lowest), which is why the recorded figure is a mean over partitions. Compare a
change over the same partitions before believing a small difference.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import shlex
import statistics
import sys
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import machine, write_section  # noqa: E402
from classifiers.evaluate import LabeledArticle, Scores, scores_from  # noqa: E402
from classifiers.linear import LinearModel, train  # noqa: E402
from classifiers.trade import LexiconClassifier  # noqa: E402
from classifiers.verdict import Classifier  # noqa: E402

DATA_FILE = "reuters21578-modapte-train.jsonl"
BLIND_FILE = ROOT / "tests" / "classifiers" / "data" / "modern_headlines_blind.toml"
HALVES_SEED = 19  # the 2-fold split lexicon changes are tuned on (half A) and confirmed on (half B)
NEWS_FILE = "news_dev.jsonl"
SEEDS = 5
TARGET_F1 = 0.85  # issue #5: the trainable mode should reach "F1 >= 0.85 in 5-fold CV"
# issue #19: the lexicon on news_dev with a body and on headlines alone, on Reuters, and its speed
NEWS_BODY_TARGET = 0.90
NEWS_HEADLINE_TARGET = 0.80
REUTERS_TARGET = 0.84
SPEED_TARGET = 2000
TRAINABLE = "trainable linear (classifiers.linear)"
REFERENCE = "reference TF-IDF + LinearSVC"
# Reuters topics that are not commodities: the lexicon's errors are counted by whether the document also
# carries a commodity topic (a duty on palm oil is filed under palm-oil, not trade) or only these.
MACRO_TOPICS = frozenset(
    {"money-fx", "dlr", "yen", "dmk", "stg", "bop", "gnp", "interest", "cpi", "ipi", "wpi", "jobs"}
    | {"reserves", "money-supply", "income", "retail", "inventories", "housing", "instal-debt", "lei"}
    | {"capacity"}
)
COMPANY_TOPICS = frozenset({"acq", "earn"})


@dataclass(frozen=True)
class Document:
    """One labelled item of either set, with what the per-kind breakdowns need."""

    article: LabeledArticle
    group: str = ""
    borderline: bool = False
    topics: tuple[str, ...] = ()


def load(data_dir: Path) -> list[Document]:
    with (data_dir / DATA_FILE).open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [
        Document(LabeledArticle(row["title"], row["body"], bool(row["trade"])), topics=tuple(row["topics"]))
        for row in rows
    ]


def load_news(news_dir: Path) -> list[Document]:
    with (news_dir / NEWS_FILE).open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [
        Document(
            LabeledArticle(row["title"], row["text"], bool(row["trade"])),
            group=str(row["group"]),
            borderline=bool(row["borderline"]),
        )
        for row in rows
    ]


def news_rows(classifier: Classifier, docs: Sequence[Document]) -> list[tuple[str, Scores]]:
    """The classifier on news_dev: with bodies, then on headlines alone; all, unambiguous, per group."""
    groups = sorted({d.group for d in docs})
    subsets: list[tuple[str, Callable[[Document], bool]]] = [
        ("all items", lambda d: True),
        ("borderline items left out", lambda d: not d.borderline),
    ]
    subsets += [(group, partial(_in_group, group)) for group in groups]
    views: list[tuple[str, Scores]] = []
    for mode, headline_only in (("with body", False), ("headline only", True)):
        verdicts = [
            classifier.classify(d.article.title, "" if headline_only else d.article.text).is_trade
            for d in docs
        ]
        for name, keep in subsets:
            pairs = [(v, d.article.is_trade) for v, d in zip(verdicts, docs, strict=True) if keep(d)]
            views.append((f"{mode}, {name}", scores_from([v for v, _ in pairs], [t for _, t in pairs])))
    return views


def _in_group(group: str, doc: Document) -> bool:
    return doc.group == group


def news_table(views: Sequence[tuple[str, Scores]]) -> str:
    lines = [
        "| classifier and view | items | trade | precision | recall | F1 | tp / fp / fn / tn |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, s in views:
        lines.append(
            f"| {name} | {s.total} | {s.tp + s.fn} | {s.precision:.3f} | {s.recall:.3f} | **{s.f1:.3f}** | "
            f"{s.tp} / {s.fp} / {s.fn} / {s.tn} |"
        )
    return "\n".join(lines)


def error_kinds(docs: Sequence[Document], predicted: Sequence[bool], lexicon: LexiconClassifier) -> str:
    """Count the lexicon's Reuters errors by the documents' other Reuters topics.

    A false positive filed under a commodity that names a trade measure in its headline or lede (the
    concepts and combinations that lift the lexicon's commodity-market penalty: a duty, quota, dispute,
    export ban...) is trade news by the news rubric; Reuters files it under the commodity alone.
    """
    measures = {
        name
        for concept in lexicon.lexicon.concepts
        if concept.name == "commodity market report"
        for name in concept.unless
    }
    fp = {"commodity": 0, "macro or currency only": 0, "company only": 0, "no topic": 0}
    fn = {"trade with macro or currency topics": 0, "trade with commodity topics": 0, "trade alone": 0}
    measured = 0
    for doc, guess in zip(docs, predicted, strict=True):
        topics = set(doc.topics) - {"trade"}
        if guess and not doc.article.is_trade:
            if topics - MACRO_TOPICS - COMPANY_TOPICS:
                fp["commodity"] += 1
                verdict = lexicon.classify(doc.article.title, doc.article.text)
                measured += any(
                    e.phrase in measures and e.field in ("title", "lede") and e.weight > 0
                    for e in verdict.evidence
                )
            elif topics & MACRO_TOPICS:
                fp["macro or currency only"] += 1
            elif topics:
                fp["company only"] += 1
            else:
                fp["no topic"] += 1
        elif doc.article.is_trade and not guess:
            if topics - MACRO_TOPICS - COMPANY_TOPICS:
                fn["trade with commodity topics"] += 1
            elif topics & MACRO_TOPICS:
                fn["trade with macro or currency topics"] += 1
            else:
                fn["trade alone"] += 1
    return (
        "false positives by their Reuters topics: "
        + ", ".join(f"{kind} {n}" for kind, n in fp.items())
        + f" (of the commodity ones, {measured} name a trade measure in the headline or lede: trade news "
        "by the news rubric, filed by Reuters under the commodity alone); missed trade documents: "
        + ", ".join(f"{kind} {n}" for kind, n in fn.items())
    )


def reuters_halves(docs: Sequence[Document], predicted: Sequence[bool]) -> str:
    """The lexicon on two fixed, label-stratified halves of the Reuters documents.

    Lexicon rules are chosen by reading half A's errors and confirmed on half B (and a rule drawn from
    B is confirmed on A), so a rule that only fits the documents it was read from shows up as a gap
    between the halves.
    """
    rng = random.Random(HALVES_SEED)
    half: dict[int, str] = {}
    for label in (True, False):
        positions = [i for i, d in enumerate(docs) if d.article.is_trade == label]
        rng.shuffle(positions)
        for k, i in enumerate(positions):
            half[i] = "AB"[k % 2]
    parts = []
    for name in "AB":
        keep = [i for i in range(len(docs)) if half[i] == name]
        s = scores_from([predicted[i] for i in keep], [docs[i].article.is_trade for i in keep])
        parts.append(
            f"half {name} ({len(keep):,} documents) P {s.precision:.3f} R {s.recall:.3f} F1 {s.f1:.3f} "
            f"({s.tp} / {s.fp} / {s.fn} / {s.tn})"
        )
    return f"stratified 2-fold split, seed {HALVES_SEED}: " + "; ".join(parts)


def blind_headlines(lexicon: LexiconClassifier) -> str:
    """The blind modern headline set (tests/classifiers/data/modern_headlines_blind.toml), titles alone."""
    items = tomllib.loads(BLIND_FILE.read_text(encoding="utf-8"))["headline"]
    wrong = [h for h in items if lexicon.classify(h["text"], "").is_trade != h["trade"]]
    missed = "".join(f"; wrong: {h['text']!r}" for h in wrong)
    return f"{len(items) - len(wrong)}/{len(items)} judged as labelled{missed}"


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
    parser.add_argument("--news", type=Path, default=ROOT.parent / "shared" / "bench" / "classification-news")
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
    reuters = load(args.data)
    docs = [d.article for d in reuters]
    labels = [d.is_trade for d in docs]
    lexicon = LexiconClassifier()
    news = load_news(args.news) if (args.news / NEWS_FILE).exists() else []

    # The lexicon is fixed: measuring it on all documents at once is the same as summing the folds of any
    # partition, so every partition would give these same pooled numbers.
    lexicon_tally = Tally()
    lexicon_predicted, seconds = timed_predict(
        lambda ds: [lexicon.classify(d.title, d.text).is_trade for d in ds], docs
    )
    lexicon_tally.add(0, lexicon_predicted, labels, seconds)
    print(f"lexicon done in {seconds:.1f} s", flush=True)

    news_views: list[tuple[str, Scores]] = []
    if news:
        news_views = [(f"lexicon, {name}", scores) for name, scores in news_rows(lexicon, news)]
        if not args.lexicon_only:
            # The trainable mode as a user fitting it on Reuters would get it; measured, never saved.
            model, _ = train(docs, cross_validate=False)
            for name, scores in news_rows(model, news):
                if "," in name and name.split(", ", 1)[1] in ("all items", "borderline items left out"):
                    news_views.append((f"trainable, fitted on Reuters, {name}", scores))
        print(news_table(news_views), flush=True)

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
    kinds = error_kinds(reuters, lexicon_predicted, lexicon)
    halves = reuters_halves(reuters, lexicon_predicted)
    blind = blind_headlines(lexicon)
    targets = lexicon_targets(news_views, lexicon_scores, lexicon_tally)
    print("\n".join(lines))
    print(f"\nlexicon on Reuters: {kinds}")
    print(f"lexicon on Reuters halves: {halves}")
    print(f"blind modern headlines: {blind}")
    print(f"targets (issue #19): {targets}")
    if verdict:
        print(f"acceptance (issue #5): {verdict}")
    if args.no_write:
        return 0
    niceness = os.nice(0)
    python = Path(sys.executable)
    shown = python.relative_to(ROOT) if python.is_relative_to(ROOT) else python
    command = shlex.join([str(shown), *sys.argv])
    if niceness:
        command = f"nice -n {niceness} {command}"
    seeds_text = f"seeds {seeds[0]}-{seeds[-1]}" if count > 1 else f"seed {seeds[0]}"
    news_part: list[str] = []
    if news_views:
        news_part = [
            "### Real news (news_dev)",
            "",
            f"{len(news):,} real articles ({sum(d.article.is_trade for d in news)} trade; "
            f"{sum(d.borderline for d in news)} marked borderline) labelled by "
            "`../shared/bench/classification-news/RUBRIC.md`: BBC News 2004-05 and Xinhua / People's "
            "Daily 2014-18 (every negative of the latter mentions a tariff). *With body* gives the "
            "classifier the headline and the article text; *headline only* gives it the headline alone, "
            "as for a feed entry whose page could not be fetched. The trainable mode is fitted on all "
            "9,603 Reuters documents and applied here (as a user with only Reuters labels would get it; "
            "never saved).",
            "",
            news_table(news_views),
            "",
        ]
    section = "\n".join(
        [
            "## Trade classification",
            "",
            *news_part,
            "### Reuters-21578 (ModApte training documents)",
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
            f"- lexicon on Reuters, {kinds}",
            f"- lexicon on Reuters halves (rules tuned on A, confirmed on B), {halves}",
            f"- lexicon on the blind modern headline set (60 titles alone, written before the lexicon was "
            f"read): {blind}",
            f"- targets (issue #19): {targets}",
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


def lexicon_targets(news_views: Sequence[tuple[str, Scores]], reuters: Scores, tally: Tally) -> str:
    """Issue #19's four figures for the lexicon, each against its target."""
    found = dict(news_views)
    checks: list[tuple[str, float, float, str]] = []
    if found:
        checks.append(
            ("news_dev with body", found["lexicon, with body, all items"].f1, NEWS_BODY_TARGET, "F1")
        )
        checks.append(
            (
                "news_dev headline only",
                found["lexicon, headline only, all items"].f1,
                NEWS_HEADLINE_TARGET,
                "F1",
            )
        )
    checks.append(("Reuters", reuters.f1, REUTERS_TARGET, "F1"))
    rate = tally.documents / tally.seconds if tally.seconds else 0.0
    parts = [
        f"{name} {unit} {value:.3f} (target {target:.2f}: {'met' if value >= target else 'missed'})"
        for name, value, target, unit in checks
    ]
    speed = "met" if rate >= SPEED_TARGET else "missed"
    parts.append(f"{rate:,.0f} docs per CPU-second (target {SPEED_TARGET:,}: {speed})")
    return "; ".join(parts)


if __name__ == "__main__":
    raise SystemExit(main())
