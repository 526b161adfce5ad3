"""The trainable classifier: fit a linear model on a user's labelled articles, save it safely, use it."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from classifiers.evaluate import LabeledArticle, LabelsError, Scores, read_labels, scores_from
from classifiers.lexicon import tokenize
from classifiers.trade import LexiconClassifier, default_classifier, reject_reason
from classifiers.verdict import Evidence, Field, Verdict, sort_evidence

MODEL_FORMAT = "tradewatch-linear-model"
FORMAT_VERSION = 1

# Title words are separate features: a headline word says more about the topic than the same word deep
# in the body, and the model learns how much more instead of us guessing.
TITLE_PREFIX = "title:"

# Terms seen in fewer documents than this are dropped: a term in a single labelled article is memorised
# noise, not evidence, and dropping it keeps model files small.
MIN_DOCUMENT_FREQUENCY = 2

# Inverse regularisation strength of the logistic regression. Sublinear TF-IDF vectors are L2-normalised,
# so weights need room to grow; 30 was chosen among 10/30/100 by cross-validation in
# bench/classification.py (differences were within 0.01 F1), not tuned per user. Over ten fold partitions
# (seeds 0-9) C=100 averaged 0.856 against 0.854 for C=30, better on 6 of 10: noise, so 30 stays.
REGULARISATION_C = 30.0

# Measured and rejected (Reuters-21578 ModApte training documents, 369 trade of 9,603, 5-fold stratified
# CV, F1 as the mean over fold seeds 0/1/2; this model scores 0.849/0.857/0.858 there, and over seeds 0-9
# 0.854 with standard deviation 0.003, seed 0 being the lowest of the ten). A change had to win by more
# than that spread; none did, and the ones compared over all ten seeds lost on nearly every seed:
#   - Naive-Bayes log-count-ratio scaling of the features (NB-LR, Wang & Manning 2012), with C re-chosen
#     from 3-300 for each: binary x ratio 0.841, log-tf x ratio 0.852, log-tf x idf x ratio 0.848; over
#     ten seeds at C=30 they lost by 0.017 / 0.007 / 0.012 on average. The ratio helps on short snippets
#     (sentiment); on news the IDF already does the job and the ratio overfits rare class-pure terms.
#   - NBSVM proper (unnormalised binary x ratio, linear SVM, interpolation 0.25): 0.818.
#   - the shipped lexicon's score as one more (unnormalised) feature: 0.840-0.841 whether as probability,
#     logit or raw weight; over ten seeds -0.018, worse on all ten. The model leans on the one strong prior
#     and gives the words less weight, so it inherits the lexicon's mistakes.
#   - binary instead of sublinear tf 0.851 (-0.007 over ten seeds); max_df 0.5 / 0.1: 0.854 / 0.849;
#     numbers folded to one token 0.855; plural "-s" folded 0.856 (the model scores 0.855 on these seeds).
#   - LinearSVC (C 0.3/1/3) 0.850/0.850/0.851; averaged SGD with modified Huber loss 0.814-0.828; an
#     unpenalised intercept (lbfgs) 0.855; elastic net (saga, l1_ratio 0.1/0.5) 0.841/0.839 on seed 0 and
#     about fifty times slower to train; character 3-5-grams added to the words 0.846 on seed 0, with
#     215,000 more features to store.

# Besides words, the model sees the shipped lexicon's concepts ("concept:tariffs") as features, each
# occurrence counted as this many words: a concept gathers many spellings a person vetted, so it deserves
# more room than any single n-gram; the model still learns its weight from the user's labels.
CONCEPT_PREFIX = "concept:"
CONCEPT_REPEAT = 3

# Folds of the cross-validation that `train` runs on the user's labels to report honest scores; fewer when
# a class has fewer labelled examples than this.
REPORT_FOLDS = 5

# Decision value at which an article is called trade. With class-balanced weights the model's own boundary
# (0) already treats a missed trade article and a false alarm as equally costly per class. Choosing the
# threshold that maximised F1 on inner folds was tried and was worse on unseen folds (Reuters nested CV:
# F1 0.837 vs 0.849), because the best point on a few hundred positives is noisy.
DECISION_THRESHOLD = 0.0

# How many terms a verdict names as evidence: enough to see why, few enough to read.
EVIDENCE_TERMS = 8


class ModelError(ValueError):
    """A model file is missing, corrupt or of an unknown format; the message names the file."""


def _field_counts(source: str, lexicon: LexiconClassifier) -> Counter[str]:
    """How often each unigram, bigram and lexicon concept ("concept:tariffs") occurs in one field."""
    concepts = lexicon.lexicon
    tokens = tokenize(source)
    counts: Counter[str] = Counter(tokens)
    counts.update(f"{a} {b}" for a, b in pairwise(tokens))
    found, _ = concepts.count(source)
    for index, count in found.items():
        counts[f"{CONCEPT_PREFIX}{concepts.concepts[index].name}"] += count
    return counts


def _combine(body: Counter[str], head: Counter[str]) -> Counter[str]:
    """The model's feature counts from the two fields' occurrence counts (see `features`).

    Each concept match counts CONCEPT_REPEAT times, and a headline term counts twice: as the plain term
    (added to its body occurrences) and marked "title:". These are model inputs, not occurrence counts;
    evidence reports the fields' own counts instead.
    """

    def weighted(counts: Counter[str]) -> Counter[str]:
        return Counter(
            {
                term: count * CONCEPT_REPEAT if term.startswith(CONCEPT_PREFIX) else count
                for term, count in counts.items()
            }
        )

    head_features = weighted(head)
    combined = weighted(body) + head_features
    combined.update({TITLE_PREFIX + term: count for term, count in head_features.items()})
    return combined


def features(
    title: str, text: str, lexicon: LexiconClassifier | None = None
) -> tuple[Counter[str], frozenset[str]]:
    """Count an article's unigrams, bigrams and lexicon concepts; also name the features seen in the body.

    Title features appear twice: marked ("title:tariffs"), so the model can learn that a headline word
    says more, and plain, because a headline word is also a word of the article (in cross-validation
    this made the model less sensitive to its threshold).
    """
    lexicon = lexicon or default_classifier()
    body = _field_counts(text, lexicon)
    return _combine(body, _field_counts(title, lexicon)), frozenset(body)


def _terms(title: str, text: str) -> list[str]:
    """An article's features as the vectorizer reads them: each term repeated as often as it counts."""
    return list(features(title, text)[0].elements())


def _passthrough(terms: list[str]) -> list[str]:
    # The vectorizer's analyzer: documents arrive as `_terms` lists, extracted once per article by
    # `train` and shared by every fit (the report's folds and the final model).
    return terms


@dataclass(frozen=True)
class LinearModel:
    """A fitted TF-IDF + logistic-regression model, applied in plain Python (no scikit-learn needed).

    Holds plain numbers only, so it is immutable, thread-safe and can be stored as JSON: loading a model
    file never executes code, unlike a pickle.
    """

    weights: dict[str, tuple[float, float]]  # term -> (idf, coefficient)
    intercept: float
    threshold: float  # decision value at which an article is called trade (score 0.5)
    trained_at: str
    label_counts: dict[str, int]
    lexicon_version: str  # concept features come from this lexicon; another one would shift them
    version: str = field(default="")

    def __post_init__(self) -> None:
        if not self.version:
            object.__setattr__(self, "version", f"linear-{self._digest()}")

    def _digest(self) -> str:
        payload = json.dumps(
            [sorted(self.weights.items()), self.intercept, self.threshold, self.lexicon_version]
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    def decision(self, title: str, text: str) -> tuple[float, dict[str, tuple[float, int]], frozenset[str]]:
        """Return the raw decision value, each present feature's (contribution, feature count), and the
        body's features. Feature counts are the model's inputs (see `features`), not occurrence counts."""
        counts, body_terms = features(title, text)
        decision, contributions = self._decide(counts)
        return decision, contributions, body_terms

    def _decide(self, counts: Counter[str]) -> tuple[float, dict[str, tuple[float, int]]]:
        values: dict[str, tuple[float, float, int]] = {}
        norm_sq = 0.0
        for term, count in counts.items():
            known = self.weights.get(term)
            if known is None:
                continue
            value = (1.0 + math.log(count)) * known[0]
            values[term] = (value, known[1], count)
            norm_sq += value * value
        norm = math.sqrt(norm_sq) or 1.0
        contributions = {term: (v / norm * coef, count) for term, (v, coef, count) in values.items()}
        return self.intercept + sum(c for c, _ in contributions.values()), contributions

    def classify(self, title: str, text: str, language: str | None = None) -> Verdict:
        """Judge one article; the evidence is the present terms that moved the decision most."""
        reason = reject_reason(title, text, language)
        if reason:
            return Verdict(is_trade=False, score=0.0, evidence=(), version=self.version, reason=reason)
        lexicon = default_classifier()
        body, head = _field_counts(text, lexicon), _field_counts(title, lexicon)
        decision, contributions = self._decide(_combine(body, head))
        margin = decision - self.threshold
        score = 1.0 / (1.0 + math.exp(-margin)) if margin > -700 else 0.0
        # One line per phrase and place. A "title:x" feature is the headline's x; a plain x belongs to the
        # body when the body has it (its weight then goes there, though its feature also counts headline
        # occurrences), else to the headline. A concept reads as its name, the phrase the lexicon's evidence
        # uses, so the concept "tariffs" and the word "tariffs" share a line. Counts are occurrences in that
        # field only (a concept's matches, not its repeated feature count); a shared line shows the larger.
        merged: dict[tuple[str, Field], tuple[float, int]] = {}
        for term, (contribution, _) in contributions.items():
            where: Field
            if term.startswith(TITLE_PREFIX):
                key, where, seen = term.removeprefix(TITLE_PREFIX), "title", head
            elif term in body:
                key, where, seen = term, "body", body
            else:
                key, where, seen = term, "title", head
            phrase = key.removeprefix(CONCEPT_PREFIX)
            previous = merged.get((phrase, where), (0.0, 0))
            merged[(phrase, where)] = (previous[0] + contribution, max(previous[1], seen[key]))
        top = sorted(merged.items(), key=lambda item: -abs(item[1][0]))[:EVIDENCE_TERMS]
        evidence = [
            Evidence(phrase, where, round(weight, 3), count) for (phrase, where), (weight, count) in top
        ]
        is_trade = score >= 0.5
        return Verdict(
            is_trade=is_trade,
            score=round(score, 4),
            evidence=sort_evidence(evidence),
            version=self.version,
            reason="above threshold" if is_trade else "below threshold",
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT,
            "format_version": FORMAT_VERSION,
            "version": self.version,
            "trained_at": self.trained_at,
            "label_counts": self.label_counts,
            "lexicon_version": self.lexicon_version,
            "intercept": self.intercept,
            "threshold": self.threshold,
            "weights": {term: list(pair) for term, pair in sorted(self.weights.items())},
        }

    def save(self, path: str | Path) -> None:
        """Write the model as JSON (atomically, so a crash never leaves half a model in place)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(target.name + ".tmp")
        temporary.write_text(json.dumps(self.to_json(), separators=(",", ":")), encoding="utf-8")
        temporary.replace(target)


def load_model(path: str | Path) -> LinearModel:
    """Read a model file written by `LinearModel.save`, checking its format before trusting it."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelError(f"{path}: cannot read model file: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}: not a tradewatch model (invalid JSON: {exc.msg})") from exc
    if not isinstance(raw, dict) or raw.get("format") != MODEL_FORMAT:
        raise ModelError(f"{path}: not a tradewatch model file (format is not {MODEL_FORMAT!r})")
    if raw.get("format_version") != FORMAT_VERSION:
        raise ModelError(f"{path}: model format version {raw.get('format_version')!r} is not supported")
    try:
        weights = {str(term): (float(pair[0]), float(pair[1])) for term, pair in raw["weights"].items()}
        model = LinearModel(
            weights=weights,
            intercept=float(raw["intercept"]),
            threshold=float(raw["threshold"]),
            trained_at=str(raw["trained_at"]),
            label_counts={str(k): int(v) for k, v in raw["label_counts"].items()},
            lexicon_version=str(raw["lexicon_version"]),
        )
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise ModelError(f"{path}: model file is incomplete or corrupt ({exc!r})") from exc
    if raw.get("version") != model.version:
        raise ModelError(f"{path}: model content does not match its version {raw.get('version')!r}")
    current = default_classifier().version
    if model.lexicon_version != current:
        raise ModelError(
            f"{path}: trained with {model.lexicon_version}, but this tradewatch ships {current}; "
            "retrain it with `tradewatch classifier train`"
        )
    return model


def _fit(documents: Sequence[list[str]], labels: Sequence[bool], c: float) -> tuple[Any, Any]:
    """Fit TF-IDF and logistic regression on documents already turned into `_terms` lists."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(
        analyzer=_passthrough, sublinear_tf=True, min_df=min(MIN_DOCUMENT_FREQUENCY, len(documents))
    )
    matrix = vectorizer.fit_transform(documents)
    model = LogisticRegression(C=c, class_weight="balanced", solver="liblinear", random_state=0)
    model.fit(matrix, list(labels))
    return vectorizer, model


#: What a user without the ``train`` extra is told (scikit-learn is optional: only fitting needs it).
NEEDS_SKLEARN = (
    "classifier train needs scikit-learn, which this installation lacks: pip install 'tradewatch[train]'"
)


def require_sklearn() -> None:
    """Refuse to train, in one line naming the install, when scikit-learn is missing: a trained model is
    used without it, so it is an optional extra and a worker installed with `pip install .` lacks it."""
    if importlib.util.find_spec("sklearn") is None:
        raise ModelError(NEEDS_SKLEARN)


def train(
    articles: Sequence[LabeledArticle], c: float = REGULARISATION_C, *, cross_validate: bool = True
) -> tuple[LinearModel, Scores | None]:
    """Fit a model; also return cross-validated scores on the training labels when there are enough.

    The scores come from models fitted without the articles they judge, so they estimate how the saved
    model will do on new articles, unlike scores on the training fit, which are overconfident. With
    `cross_validate=False` only the model is fitted (the same model) and the scores are None: for callers
    that measure the model on held-out data themselves, like bench/classification.py.
    """
    require_sklearn()
    positives = sum(a.is_trade for a in articles)
    negatives = len(articles) - positives
    if not positives or not negatives:
        raise ValueError(f"training needs trade and non-trade examples (got {positives} and {negatives})")
    # Feature extraction (tokens, bigrams, lexicon matches) is the slow part, in pure Python: do it once
    # per article, not once per fit.
    documents = [_terms(a.title, a.text) for a in articles]
    labels = [a.is_trade for a in articles]
    folds = min(REPORT_FOLDS, positives, negatives)
    cv_scores: Scores | None = None
    if cross_validate and folds >= 2:
        from sklearn.model_selection import StratifiedKFold

        held_out = [0.0] * len(articles)
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
        for train_index, test_index in splitter.split(held_out, labels):
            vectorizer, model = _fit([documents[i] for i in train_index], [labels[i] for i in train_index], c)
            matrix = vectorizer.transform([documents[i] for i in test_index])
            for i, value in zip(test_index, model.decision_function(matrix), strict=True):
                held_out[i] = float(value)
        cv_scores = scores_from([v >= DECISION_THRESHOLD for v in held_out], labels)
    vectorizer, model = _fit(documents, labels, c)
    idf = vectorizer.idf_
    coefficients = model.coef_[0]
    weights = {
        term: (float(idf[index]), float(coefficients[index]))
        for term, index in vectorizer.vocabulary_.items()
    }
    fitted = LinearModel(
        weights=weights,
        intercept=float(model.intercept_[0]),
        threshold=DECISION_THRESHOLD,
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        label_counts={"trade": positives, "not_trade": negatives},
        lexicon_version=default_classifier().version,
    )
    return fitted, cv_scores


@dataclass(frozen=True)
class TrainReport:
    """What `tradewatch classifier train` did, fit for printing."""

    model_path: str
    version: str
    trade: int
    not_trade: int
    terms: int
    cross_validation: Scores | None

    def summary(self) -> str:
        lines = [
            f"saved {self.version} to {self.model_path}",
            f"labels  {self.trade} trade, {self.not_trade} not trade",
            f"terms   {self.terms}",
        ]
        if self.cross_validation is None:
            lines.append("cross-validation skipped: too few labels of one class")
        else:
            cv = self.cross_validation
            lines.append(
                f"cross-validated on your labels: precision {cv.precision:.3f} recall {cv.recall:.3f} "
                f"f1 {cv.f1:.3f}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def train_file(labels_path: str | Path, model_path: str | Path) -> TrainReport:
    """Train on a JSONL labels file and save the model; the CLI's `classifier train` calls this."""
    require_sklearn()
    articles = read_labels(labels_path)
    try:
        model, cv_scores = train(articles)
    except ValueError as exc:  # one class only: a problem with the file, reported like one
        raise LabelsError(labels_path, 0, "is_trade", str(exc)) from exc
    model.save(model_path)
    return TrainReport(
        model_path=str(model_path),
        version=model.version,
        trade=model.label_counts["trade"],
        not_trade=model.label_counts["not_trade"],
        terms=len(model.weights),
        cross_validation=cv_scores,
    )
