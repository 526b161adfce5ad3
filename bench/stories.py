"""Stories benchmark: does one story from many outlets become one story, and does a follow-up stay apart?

    nice -n 10 .venv/bin/python bench/stories.py [--seed 7] [--sweep] [--scale 10000,100000] [--no-write]

The corpus is built here from the real articles of ../shared/bench (never copied into the project):
Reuters-21578 trade documents, the bodies of the Zyte and L3S extraction pages (titles from our own
extractor), and the labelled news set. On top of those bases it makes rewritten copies, as outlets
republishing a wire story do -- title edits (desk tags, outlet names, rewording), added boilerplate,
truncation, reordered paragraphs, light paraphrase -- and adds the hand-written same-topic, different-event
pairs of bench/data/stories_followups.toml (announcement vs follow-up sharing background paragraphs) with
copies of both. Natural duplicates among the bases were labelled by reading them
(bench/data/stories_labels.toml). Every article gets a time: copies within 36 hours of their original,
follow-ups 6 to 48 hours after the first report (inside the 72-hour window, so the follow-up is a
candidate), bases spread over ten days.

The articles go, in time order, through the real storage path (``repo.insert_articles`` and
``repo.assign_stories`` on a SQLite file), and the stories the store decided are scored against the
labels: pairwise precision and recall (pairs in one story), B-cubed precision, recall and F1, recall per
kind of rewrite, and follow-ups wrongly merged. The corpus is split into two halves by a hash of each
story (natural clusters kept whole): thresholds are tuned on "tune" and confirmed on "confirm".
``--sweep`` prints the decision thresholds' trade-off on "tune".

Cost per article: a store is filled with N synthetic articles (sentences of Reuters documents mixed, so
no two are alike, with real titles), then the assignment of 200 new articles (half of them copies of
stored ones) is timed one article per call, and of 200 more in feed batches of 25 (as a run decides a
feed's new articles), wall clock and CPU, at N = 10,000 and 100,000 articles seen within the window (the
worst case: the index holds everything) -- flat when the index does its job.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import re
import shlex
import statistics
import sys
import tempfile
import time
import tomllib
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import Session, SQLModel  # noqa: E402

from bench.report import machine, write_section  # noqa: E402
from classifiers import stories  # noqa: E402
from storage import repo  # noqa: E402
from storage.db import init_db, make_engine  # noqa: E402

DATA = ROOT.parent / "shared" / "bench"
HERE = Path(__file__).resolve().parent / "data"
T0 = datetime(2026, 3, 1, tzinfo=UTC)
WINDOW = timedelta(hours=72)
MIN_WORDS = 40

# --- rewriting -------------------------------------------------------------------------------------

OUTLETS = ["Trade Daily", "Metal Wire", "Port Gazette", "Reuters", "The Ledger", "Business Desk", "AFP"]
TAGS = ["UPDATE 1-", "UPDATE 2-", "EXCLUSIVE-", "BREAKING: ", "WRAPUP 1-", "Analysis: "]
BOILERPLATE = [
    "Sign up for our daily trade newsletter to get the top stories in your inbox.",
    "Copyright 2026 The Outlet. All rights reserved. This material may not be published, broadcast, "
    "rewritten or redistributed.",
    "Reporting by our correspondents; editing by the business desk.",
    "Related: what the latest tariffs mean for importers, and how to read customs data.",
    "Share this article on social media. Follow us for more business news.",
    "Our journalism depends on readers like you. Subscribe today for unlimited access.",
]
SYNONYMS = {
    "said": "stated",
    "says": "states",
    "percent": "per cent",
    "pct": "percent",
    "billion": "bln",
    "million": "mln",
    "government": "administration",
    "announced": "unveiled",
    "would": "will",
    "also": "additionally",
    "increase": "rise",
    "decrease": "fall",
    "big": "large",
    "about": "around",
    "however": "but",
    "told": "said to",
    "officials": "authorities",
    "company": "firm",
    "companies": "firms",
    "country": "nation",
    "talks": "negotiations",
    "agreement": "deal",
    "week": "seven days",
}


@dataclass(frozen=True)
class Item:
    """One article of the corpus: its gold story, its text and when it was found."""

    key: str
    story: str
    title: str
    text: str
    at: datetime
    part: str
    kind: str  # base | copy:<rewrites> | first | follow_up


def _paragraphs(text: str) -> list[str]:
    paras = [" ".join(p.split()) for p in re.split(r"\n\s*\n|\n(?=\s{2,}|\S)", text) if p.strip()]
    if len(paras) >= 3:
        return paras
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z\"'])", " ".join(text.split()))
    return [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)] or [text]


def _edit_title(title: str, rng: random.Random) -> str:
    choice = rng.randrange(5)
    if choice == 0:
        return rng.choice(TAGS) + title
    if choice == 1:
        return f"{title} - {rng.choice(OUTLETS)}"
    if choice == 2:
        words = title.split()
        if len(words) > 5:
            del words[rng.randrange(1, len(words))]
        return " ".join(words)
    if choice == 3:
        return " ".join(SYNONYMS.get(w.lower(), w) for w in title.split())
    return title.upper() if rng.random() < 0.5 else title.title()


def _paraphrase(paragraphs: list[str], rng: random.Random) -> list[str]:
    def word(match: re.Match[str]) -> str:
        w = match.group(0)
        swap = SYNONYMS.get(w.lower())
        return swap if swap is not None and rng.random() < 0.6 else w

    return [re.sub(r"[A-Za-z]+", word, p) for p in paragraphs]


def rewrite(title: str, text: str, rng: random.Random) -> tuple[str, str, list[str]]:
    """Another outlet's copy: title edited most of the time, and one or two body rewrites."""
    paras = _paragraphs(text)
    done: list[str] = []
    if rng.random() < 0.8:
        title = _edit_title(title, rng)
        done.append("title")
    for rewrite_kind in rng.sample(["boilerplate", "truncate", "reorder", "paraphrase"], rng.choice([1, 2])):
        if rewrite_kind == "boilerplate":
            extra = rng.sample(BOILERPLATE, rng.randint(1, 3))
            paras = extra + paras if rng.random() < 0.3 else paras + extra
        elif rewrite_kind == "truncate" and len(paras) >= 3:
            keep = max(2, math.ceil(len(paras) * rng.uniform(0.4, 0.8)))
            if sum(len(p.split()) for p in paras[:keep]) < MIN_WORDS:
                continue
            paras = paras[:keep]
        elif rewrite_kind == "reorder" and len(paras) >= 4:
            i, j = rng.sample(range(1, len(paras)), 2)
            paras[i], paras[j] = paras[j], paras[i]
        elif rewrite_kind == "paraphrase":
            paras = _paraphrase(paras, rng)
        else:
            continue
        done.append(rewrite_kind)
    return title, "\n\n".join(paras), done


# --- corpus ----------------------------------------------------------------------------------------


@dataclass
class Base:
    key: str
    title: str
    text: str


def _extraction_bases(name: str, prefix: str) -> list[Base]:
    from extractors.article import extract

    folder = DATA / name
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    broken = set()
    if (folder / "broken-markup-ids.json").exists():
        broken = set(json.loads((folder / "broken-markup-ids.json").read_text(encoding="utf-8")))
    bases = []
    for page_id, entry in sorted(truth.items()):
        if page_id in broken:
            continue
        title = ""
        html = folder / "html" / f"{page_id}.html.gz"
        try:
            title = extract(gzip.decompress(html.read_bytes()), entry.get("url") or "").title or ""
        except Exception:
            title = ""
        bases.append(Base(f"{prefix}:{page_id}", title or entry.get("url", ""), entry["articleBody"]))
    return bases


def load_bases() -> list[Base]:
    """The real articles: Reuters trade documents, Zyte and L3S pages, the labelled news set."""
    bases = []
    for line in (DATA / "classification" / "reuters21578-modapte-train.jsonl").open(encoding="utf-8"):
        doc = json.loads(line)
        if doc["trade"] and len(doc["body"].split()) >= 20:
            bases.append(Base(f"reuters:{doc['id']}", doc["title"], doc["body"]))
    for line in (DATA / "classification-news" / "news_dev.jsonl").open(encoding="utf-8"):
        doc = json.loads(line)
        bases.append(Base(f"news:{doc['id']}", doc["title"], doc["text"]))
    bases += _extraction_bases("extraction", "zyte")
    bases += _extraction_bases("extraction-l3s", "l3s")
    return bases


def _components(keys: list[str], pairs: list[list[str]]) -> dict[str, str]:
    """Union-find over labelled pairs: key → the smallest key of its cluster."""
    parent = {k: k for k in keys}

    def find(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for a, b in pairs:
        if a in parent and b in parent:
            ra, rb = find(a), find(b)
            parent[max(ra, rb)] = min(ra, rb)
    return {k: find(k) for k in keys}


def _part(story: str) -> str:
    return "tune" if zlib.crc32(story.encode()) % 2 == 0 else "confirm"


@dataclass
class Corpus:
    items: list[Item]
    ambiguous: set[frozenset[str]] = field(default_factory=set)  # story pairs excluded from scoring


def build_corpus(seed: int, *, copy_share: float = 0.5) -> Corpus:
    rng = random.Random(seed)
    labels = tomllib.loads((HERE / "stories_labels.toml").read_text(encoding="utf-8"))
    bases = load_bases()
    keys = [b.key for b in bases]
    story_of = _components(keys, labels["same"])
    ambiguous = {frozenset((story_of.get(a, a), story_of.get(b, b))) for a, b in labels["ambiguous"]}
    # A cluster's articles are found within a day of each other; clusters spread over ten days.
    cluster_time: dict[str, datetime] = {}
    items: list[Item] = []
    for base in bases:
        story = story_of[base.key]
        start = cluster_time.setdefault(story, T0 + timedelta(hours=rng.uniform(0, 240)))
        at = start + timedelta(hours=rng.uniform(0, 24)) if base.key != story else start
        items.append(Item(base.key, story, base.title, base.text, at, _part(story), "base"))
        if len(base.text.split()) >= MIN_WORDS and rng.random() < copy_share:
            for n in range(rng.choice([1, 1, 2, 3])):
                title, text, done = rewrite(base.title, base.text, rng)
                when = at + timedelta(hours=rng.uniform(0.1, 36))
                items.append(
                    Item(
                        f"{base.key}#copy{n}",
                        story,
                        title,
                        text,
                        when,
                        _part(story),
                        "copy:" + "+".join(done),
                    )
                )
    followups = tomllib.loads((HERE / "stories_followups.toml").read_text(encoding="utf-8"))["pair"]
    for index, pair in enumerate(followups):
        start = T0 + timedelta(hours=rng.uniform(0, 200))
        for side, delay in (("first", 0.0), ("follow", rng.uniform(6, 48))):
            story = f"followups:{index}:{side}"
            body = pair[f"{side}_lead"] + pair["background"]
            title, text = pair[f"{side}_title"], "\n\n".join(body)
            at = start + timedelta(hours=delay)
            part = _part(f"followups:{index}")
            kind = "first" if side == "first" else "follow_up"
            items.append(Item(story, story, title, text, at, part, kind))
            for n in range(2):
                copy_title, copy_text, done = rewrite(title, text, rng)
                when = at + timedelta(hours=rng.uniform(0.1, 4))
                items.append(
                    Item(
                        f"{story}#copy{n}", story, copy_title, copy_text, when, part, "copy:" + "+".join(done)
                    )
                )
    items.sort(key=lambda i: (i.at, i.key))
    return Corpus(items, ambiguous)


# --- running through the store ---------------------------------------------------------------------


def assign_through_store(
    items: list[Item], database_url: str
) -> dict[str, tuple[int, float | None, str | None]]:
    """Insert the articles in time order and let storage decide: key → (story id, similarity, reason)."""
    engine = make_engine(database_url)
    init_db(engine)
    decided: dict[str, tuple[int, float | None, str | None]] = {}
    with Session(engine) as session:
        for n, item in enumerate(items):
            url = f"https://bench.example/{n}"
            article_id = repo.insert_article(
                session,
                repo.NewArticle(
                    canonical_url=url, url=url, entry_key=url, feed_id=None, title=item.title, text=item.text
                ),
                now=item.at,
            )
            assert article_id is not None
            fp = stories.fingerprint(item.title, item.text)
            result = repo.assign_stories(
                session, [repo.StoryItem(article_id, fp, item.title)], now=item.at, window=WINDOW
            )[article_id]
            session.commit()
            decided[item.key] = (result.story_id, result.similarity, result.reason)
    engine.dispose()
    return decided


# --- scores ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    articles: int
    stories: int
    pairs: int
    precision: float
    recall: float
    b3_precision: float
    b3_recall: float

    @property
    def b3_f1(self) -> float:
        p, r = self.b3_precision, self.b3_recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(items: list[Item], predicted: dict[str, int], ambiguous: set[frozenset[str]]) -> Scores:
    """Pairwise precision/recall over article pairs (ambiguous story pairs left out) and B-cubed."""
    tp = fp = fn = 0
    for a, b in combinations(items, 2):
        if a.story != b.story and frozenset((a.story, b.story)) in ambiguous:
            continue
        gold, pred = a.story == b.story, predicted[a.key] == predicted[b.key]
        tp += gold and pred
        fp += pred and not gold
        fn += gold and not pred
    by_gold: dict[str, set[str]] = defaultdict(set)
    by_pred: dict[int, set[str]] = defaultdict(set)
    for item in items:
        by_gold[item.story].add(item.key)
        by_pred[predicted[item.key]].add(item.key)
    b3p = statistics.fmean(
        len(by_gold[i.story] & by_pred[predicted[i.key]]) / len(by_pred[predicted[i.key]]) for i in items
    )
    b3r = statistics.fmean(
        len(by_gold[i.story] & by_pred[predicted[i.key]]) / len(by_gold[i.story]) for i in items
    )
    return Scores(
        articles=len(items),
        stories=len(by_gold),
        pairs=tp + fn,
        precision=tp / (tp + fp) if tp + fp else 1.0,
        recall=tp / (tp + fn) if tp + fn else 1.0,
        b3_precision=b3p,
        b3_recall=b3r,
    )


def _pairwise_only(items: list[Item], predicted: dict[str, int], ambiguous: set[frozenset[str]]) -> Scores:
    """Scores over the pairs that involve at least one item of ``items`` only (cheap enough for subsets)."""
    return score(items, predicted, ambiguous)


def copy_recall(items: list[Item], predicted: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Per rewrite kind: (copies that joined their original's story, copies)."""
    original = {
        i.story: predicted[i.key]
        for i in items
        if i.kind in ("base", "first", "follow_up") and i.key == i.story
    }
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for item in items:
        if not item.kind.startswith("copy:") or item.story not in original:
            continue
        joined = predicted[item.key] == original[item.story]
        for kind in item.kind.removeprefix("copy:").split("+") or ["none"]:
            counts[kind or "body unchanged"][0] += joined
            counts[kind or "body unchanged"][1] += 1
    return {k: (v[0], v[1]) for k, v in sorted(counts.items())}


def follow_up_errors(items: list[Item], predicted: dict[str, int]) -> tuple[int, int]:
    """(follow-ups put in their first report's story, follow-ups)."""
    first = {i.story.rsplit(":", 1)[0]: predicted[i.key] for i in items if i.kind == "first"}
    follows = [i for i in items if i.kind == "follow_up"]
    return sum(predicted[i.key] == first[i.story.rsplit(":", 1)[0]] for i in follows), len(follows)


def evaluate(corpus: Corpus, part: str) -> dict[str, Any]:
    items = [i for i in corpus.items if i.part == part]
    with tempfile.TemporaryDirectory() as tmp:
        decided = assign_through_store(items, f"sqlite:///{tmp}/stories.db")
    predicted = {k: v[0] for k, v in decided.items()}
    overall = score(items, predicted, corpus.ambiguous)
    bases = [i for i in items if i.kind == "base"]
    natural = score(bases, predicted, corpus.ambiguous)
    merged, follows = follow_up_errors(items, predicted)
    wrong = [
        (a, b)
        for a, b in combinations(items, 2)
        if predicted[a.key] == predicted[b.key]
        and a.story != b.story
        and frozenset((a.story, b.story)) not in corpus.ambiguous
    ]
    return {
        "part": part,
        "overall": overall,
        "natural": natural,
        "copies": copy_recall(items, predicted),
        "follow_ups_merged": (merged, follows),
        "wrong_pairs": [(a.key, a.title[:60], b.key, b.title[:60], decided[b.key][2]) for a, b in wrong[:20]],
    }


# --- cost per article ------------------------------------------------------------------------------


def _sentences() -> tuple[list[str], list[str]]:
    sentences, titles = [], []
    for line in (DATA / "classification" / "reuters21578-modapte-train.jsonl").open(encoding="utf-8"):
        doc = json.loads(line)
        titles.append(doc["title"])
        sentences += [
            s for s in re.split(r"(?<=[.!?])\s+", " ".join(doc["body"].split())) if len(s.split()) > 6
        ]
    return sentences, titles


def _synthetic(rng: random.Random, sentences: list[str], titles: list[str]) -> tuple[str, str]:
    return rng.choice(titles), " ".join(rng.choice(sentences) for _ in range(8))


def fill(
    engine: Any, count: int, rng: random.Random, sentences: list[str], titles: list[str], now: datetime
) -> list[tuple[str, str]]:
    """``count`` articles with stories, members and band rows, written in bulk, all seen within the window."""
    tables = SQLModel.metadata.tables
    docs = [_synthetic(rng, sentences, titles) for _ in range(count)]
    with engine.begin() as conn:
        for start in range(0, count, 2000):
            chunk = docs[start : start + 2000]
            ids = range(start + 1, start + 1 + len(chunk))
            at = [now - timedelta(hours=rng.uniform(0, 70)) for _ in chunk]
            prints = [stories.fingerprint(t, x) for t, x in chunk]
            conn.execute(
                tables["article"].insert(),
                [
                    {
                        "id": i,
                        "canonical_url": f"https://fill.example/{i}",
                        "url": f"https://fill.example/{i}",
                        "entry_key": f"fill-{i}",
                        "title": t,
                        "text": x,
                        "extraction_status": "ok",
                        "trade_evidence": [],
                        "fetched_at": when,
                    }
                    for i, (t, x), when in zip(ids, chunk, at, strict=True)
                ],
            )
            conn.execute(
                tables["story"].insert(),
                [
                    {"id": i, "first_article_id": i, "title": t, "created_at": when}
                    for i, (t, _x), when in zip(ids, chunk, at, strict=True)
                ],
            )
            conn.execute(
                tables["story_member"].insert(),
                [
                    {
                        "article_id": i,
                        "story_id": i,
                        "decided_by": "auto",
                        "version": fp.version,
                        "basis": fp.basis,
                        "signature": fp.signature,
                        "shingles": fp.shingles,
                        "lead": fp.lead,
                        "title": fp.title,
                        "terms": fp.as_json(),
                        "seen_at": when,
                    }
                    for i, fp, when in zip(ids, prints, at, strict=True)
                ],
            )
            conn.execute(
                tables["story_band"].insert(),
                [
                    {"band_key": k, "article_id": i, "seen_at": when}
                    for i, fp, when in zip(ids, prints, at, strict=True)
                    for k in sorted(set(fp.band_keys))
                ],
            )
    return docs


#: New articles per story decision in the batched measurement: a feed's new articles are decided together.
FEED_BATCH = 25


def cost_at(
    count: int, seed: int, sentences: list[str], titles: list[str], probes: int = 200
) -> dict[str, float]:
    """Milliseconds to assign one new article with ``count`` articles in the window: ``probes`` articles
    one per call, then ``probes`` more in feed batches of FEED_BATCH, wall clock and CPU of the process.

    The CPU figure is the steadier one on a machine shared with other jobs (the wall clock includes
    waiting for a core). Commits are not timed: they are the feed transaction's, shared with the articles.
    """
    rng = random.Random(seed)
    now = T0 + timedelta(days=30)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/cost.db")
        init_db(engine)
        started = time.perf_counter()
        docs = fill(engine, count, rng, sentences, titles, now)
        fill_s = time.perf_counter() - started
        wall: dict[int, list[float]] = {1: [], FEED_BATCH: []}
        cpu: dict[int, list[float]] = {1: [], FEED_BATCH: []}
        joined = 0
        with Session(engine) as session:
            for size in (1, FEED_BATCH):
                for start in range(0, probes, size):
                    batch = []
                    for n in range(start, start + size):
                        if n % 2 == 0:
                            title, text, _ = rewrite(*rng.choice(docs), rng)
                        else:
                            title, text = _synthetic(rng, sentences, titles)
                        url = f"https://probe.example/{size}/{n}"
                        article_id = repo.insert_article(
                            session,
                            repo.NewArticle(
                                canonical_url=url,
                                url=url,
                                entry_key=url,
                                feed_id=None,
                                title=title,
                                text=text,
                            ),
                            now=now,
                        )
                        assert article_id is not None
                        # Made in the extraction worker: not timed here.
                        batch.append(repo.StoryItem(article_id, stories.fingerprint(title, text), title))
                    started, started_cpu = time.perf_counter(), time.process_time()
                    result = repo.assign_stories(session, batch, now=now, window=WINDOW)
                    wall[size].append((time.perf_counter() - started) * 1000 / size)
                    cpu[size].append((time.process_time() - started_cpu) * 1000 / size)
                    session.commit()
                    joined += sum(not a.new_story for a in result.values())
        size_mb = Path(f"{tmp}/cost.db").stat().st_size / 1e6
        engine.dispose()
    single = sorted(wall[1])
    return {
        "articles": count,
        "median_ms": statistics.median(single),
        "p90_ms": single[int(0.9 * len(single))],
        "cpu_ms": statistics.median(cpu[1]),
        "batch_ms": statistics.median(wall[FEED_BATCH]),
        "batch_cpu_ms": statistics.median(cpu[FEED_BATCH]),
        "joined": joined,
        "probes": 2 * probes,
        "fill_s": fill_s,
        "db_mb": size_mb,
    }


def fingerprint_cost(items: list[Item]) -> float:
    """Median microseconds to fingerprint an article of the corpus (the extraction worker's extra work)."""
    timings = []
    for item in items[:2000]:
        started = time.perf_counter()
        stories.fingerprint(item.title, item.text)
        timings.append((time.perf_counter() - started) * 1e6)
    return statistics.median(timings)


# --- sweep -----------------------------------------------------------------------------------------


def sweep(corpus: Corpus) -> list[tuple[float, float, Scores]]:
    """The decision thresholds' trade-off on the tune half (each point a full run through the store)."""
    items = [i for i in corpus.items if i.part == "tune"]
    saved = (stories.SAME_JACCARD, stories.SAME_CONTAINMENT)
    results = []
    try:
        for jaccard in (0.4, 0.5, 0.6):
            for containment in (0.6, 0.7, 0.8):
                stories.SAME_JACCARD, stories.SAME_CONTAINMENT = jaccard, containment
                with tempfile.TemporaryDirectory() as tmp:
                    decided = assign_through_store(items, f"sqlite:///{tmp}/s.db")
                predicted = {k: v[0] for k, v in decided.items()}
                results.append((jaccard, containment, score(items, predicted, corpus.ambiguous)))
                print(f"  J>={jaccard} C>={containment}: {_fmt(results[-1][2])}", flush=True)
    finally:
        stories.SAME_JACCARD, stories.SAME_CONTAINMENT = saved
    return results


# --- report ----------------------------------------------------------------------------------------


def _fmt(s: Scores) -> str:
    return (
        f"pairwise P {s.precision:.3f} R {s.recall:.3f} · B3 P {s.b3_precision:.3f} R {s.b3_recall:.3f} "
        f"F1 {s.b3_f1:.3f} ({s.articles} articles, {s.stories} stories, {s.pairs} same-story pairs)"
    )


def markdown(
    results: list[dict[str, Any]],
    costs: list[dict[str, float]],
    fp_us: float,
    command: str,
    sweep_rows: list[tuple[float, float, Scores]],
) -> str:
    lines = [
        "## Stories: one story from many outlets (bench/stories.py)",
        "",
        "Corpus built from ../shared/bench: Reuters-21578 trade documents, Zyte and L3S extraction "
        "pages, the labelled news set; rewritten copies (title edits, boilerplate, truncation, reordered "
        "paragraphs, light paraphrase) and hand-written same-topic follow-ups "
        "(bench/data/stories_followups.toml), natural duplicates labelled by reading "
        "(bench/data/stories_labels.toml). Assigned through the real storage path (SQLite), in time "
        "order, 72 h window. Thresholds chosen on *tune*, confirmed on *confirm*.",
        "",
        "| part | articles | stories | pairwise precision | pairwise recall | B³ precision | B³ recall "
        "| B³ F1 | follow-ups merged |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        s: Scores = r["overall"]
        merged, follows = r["follow_ups_merged"]
        lines.append(
            f"| {r['part']} | {s.articles} | {s.stories} | {s.precision:.3f} | {s.recall:.3f} | "
            f"{s.b3_precision:.3f} | {s.b3_recall:.3f} | {s.b3_f1:.3f} | {merged} of {follows} |"
        )
    lines += ["", "Natural duplicates among the real articles only (independent rewrites included):", ""]
    lines += [
        "| part | articles | same-story pairs | pairwise precision | pairwise recall |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in results:
        s = r["natural"]
        lines.append(f"| {r['part']} | {s.articles} | {s.pairs} | {s.precision:.3f} | {s.recall:.3f} |")
    lines += ["", "Copies that joined their original's story, by rewrite (both parts):", ""]
    merged_counts: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for r in results:
        for kind, (ok, n) in r["copies"].items():
            merged_counts[kind] += ok
            totals[kind] += n
    lines += ["| rewrite | joined | copies | recall |", "|---|---:|---:|---:|"]
    lines += [
        f"| {k} | {merged_counts[k]} | {totals[k]} | {merged_counts[k] / totals[k]:.3f} |"
        for k in sorted(totals)
    ]
    if sweep_rows:
        lines += ["", "Threshold sweep on *tune* (body Jaccard, containment with the same lead):", ""]
        lines += [
            "| Jaccard ≥ | containment ≥ | pairwise precision | pairwise recall | B³ F1 |",
            "|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {j} | {c} | {s.precision:.3f} | {s.recall:.3f} | {s.b3_f1:.3f} |" for j, c, s in sweep_rows
        ]
    if costs:
        lines += [
            "",
            "Cost of the story decision per new article (candidate lookup through the band index, "
            "comparison, writing the story, member and band rows; the commit not included), SQLite, with "
            "every stored article inside the window (the worst case); 200 new articles decided one per "
            f"call, then 200 in feed batches of {FEED_BATCH}, half of them copies of stored ones. CPU is "
            "the process's, the steadier figure on a shared machine:",
            "",
            "| articles in the window | one per call: median ms | p90 ms | CPU ms "
            f"| batches of {FEED_BATCH}: ms per article | CPU ms per article | copies joined | database MB |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {int(c['articles']):,} | {c['median_ms']:.2f} | {c['p90_ms']:.2f} | {c['cpu_ms']:.2f} | "
            f"{c['batch_ms']:.2f} | {c['batch_cpu_ms']:.2f} | "
            f"{int(c['joined'])} of {int(c['probes']) // 2} | {c['db_mb']:.0f} |"
            for c in costs
        ]
        if len(costs) >= 2:
            first, last = costs[0], costs[-1]
            lines.append("")
            lines.append(
                f"Ratio {int(last['articles']):,} / {int(first['articles']):,} articles: one per call "
                f"{last['median_ms'] / first['median_ms']:.2f}x (CPU "
                f"{last['cpu_ms'] / first['cpu_ms']:.2f}x), batches of {FEED_BATCH} "
                f"{last['batch_ms'] / first['batch_ms']:.2f}x (CPU "
                f"{last['batch_cpu_ms'] / first['batch_cpu_ms']:.2f}x)."
            )
    lines += [
        "",
        f"Fingerprinting (in the extraction worker): median {fp_us:.0f} µs per article of this corpus.",
        "",
        f"machine: {machine()} · command: `{command}` · {datetime.now(UTC):%Y-%m-%d}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sweep", action="store_true", help="also sweep the thresholds on the tune half")
    parser.add_argument("--scale", default="10000,100000", help="store sizes for the cost table ('' to skip)")
    parser.add_argument("--no-write", action="store_true", help="leave BENCHMARKS.md alone")
    parser.add_argument("--show-errors", action="store_true", help="print the wrongly joined pairs")
    args = parser.parse_args(argv)
    command = "nice -n 10 .venv/bin/python bench/stories.py " + shlex.join(
        sys.argv[1:] if argv is None else argv
    )

    corpus = build_corpus(args.seed)
    print(f"corpus: {len(corpus.items)} articles", flush=True)
    sweep_rows = sweep(corpus) if args.sweep else []
    results = []
    for part in ("tune", "confirm"):
        result = evaluate(corpus, part)
        results.append(result)
        print(f"{part}: {_fmt(result['overall'])}", flush=True)
        print(f"  natural: {_fmt(result['natural'])}")
        print(f"  follow-ups merged: {result['follow_ups_merged']}; copies: {result['copies']}")
        if args.show_errors:
            for row in result["wrong_pairs"]:
                print("  WRONG", row)
    fp_us = fingerprint_cost(corpus.items)
    costs = []
    if args.scale:
        sentences, titles = _sentences()
        for count in (int(c) for c in args.scale.split(",")):
            cost = cost_at(count, args.seed, sentences, titles)
            costs.append(cost)
            print(f"cost at {count}: {cost}", flush=True)
    text = markdown(results, costs, fp_us, command, sweep_rows)
    print(text)
    if not args.no_write:
        write_section("stories", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
