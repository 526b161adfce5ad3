"""One alert per story, through the real flow: three outlets on 127.0.0.1 carry one wire story, a fourth
article on the same topic is a different event; SQLite and PostgreSQL, concurrent runs, reruns, a split."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from cli.app import app
from flows.demo import SmtpSink, body_text
from flows.ingest import ingest
from storage.db import make_engine
from storage.models import Delivery, Story, StoryMember
from tests.concurrent import run_at_once
from tests.dbservers import on_both_databases_in_ci
from tests.httpserver import HTTPTestServer

pytestmark = pytest.mark.usefixtures("prefect_harness")

WIRE = [
    "Washington will raise tariffs on Chinese steel and aluminium to 25 percent from March 3, the Commerce "
    "Department said on Monday, in a move officials said answers years of dumping by state-backed mills.",
    "The new duties cover about $4.5 billion of imports a year, according to department figures, and follow "
    "a review that began last autumn after complaints from domestic producers in Ohio and Pennsylvania.",
    "Beijing's commerce ministry said it would study the measures and reserved the right to respond. "
    "Chinese exporters have already shifted some shipments to Vietnam and Malaysia, trade data show.",
    "Industry groups representing car makers and appliance firms warned that higher metal prices would be "
    "passed on to consumers, while the steelworkers' union welcomed the decision.",
]
#: A genuinely different event on the same topic: the tariffs taking effect, with the background reused.
FOLLOW_UP = [
    "Tariffs of 25 percent on Chinese steel and aluminium took effect on Tuesday, and ports in Los Angeles "
    "and Houston reported the first shipments held at customs as importers rushed to file for exemptions.",
    "Customs officials said 312 containers were awaiting clearance. Several importers said they had paid the "
    "duty under protest and would seek refunds if exemptions were granted later.",
    WIRE[1],
    WIRE[2],
]

#: (outlet, feed format, entry id, page path, title, paragraphs): the same story under three URLs, GUIDs
#: and edited titles, one outlet moving paragraphs and one adding its own lines.
OUTLETS = [
    (
        "Metal Wire",
        "rss",
        "mw-5512",
        "/news/steel-tariffs.html",
        "US to raise tariffs on Chinese steel to 25%",
        WIRE,
    ),
    (
        "Trade Daily",
        "atom",
        "urn:td:2026:0303",
        "/2026/03/03/us-steel-duties",
        "UPDATE 1-U.S. raises steel tariffs on China - Trade Daily",
        [WIRE[0], WIRE[2], WIRE[1], WIRE[3], "Reporting by the Trade Daily Washington desk."],
    ),
    (
        "Port Gazette",
        "rss",
        "pg-a77",
        "/item?id=991",
        "Steel tariffs on Chinese imports to rise to 25 percent",
        [*WIRE, "Sign up for the Port Gazette newsletter. Copyright 2026."],
    ),
]
FOLLOW_UP_TITLE = "Chinese steel tariffs take effect; first shipments held at ports"

RULE = """
[[rules]]
name = "steel"
query = "steel AND (tariff OR tariffs)"
channels = ["desk-email"]
{extra}
"""


def _page(title: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!doctype html><html><head><title>{title}</title>"
        '<meta property="article:published_time" content="2026-03-02T10:00:00Z"></head>'
        f'<body><nav><a href="/">Home</a></nav><article><h1>{title}</h1>{body}</article>'
        "<footer>Our outlet</footer></body></html>"
    ).encode()


def _feed(kind: str, server: HTTPTestServer, entries: list[tuple[str, str, str]]) -> tuple[str, bytes]:
    if kind == "atom":
        items = "".join(
            f"<entry><id>{guid}</id><title>{title}</title><link href='{server.url(path)}'/>"
            "<updated>2026-03-02T10:00:00Z</updated></entry>"
            for guid, path, title in entries
        )
        xml = f"<feed xmlns='http://www.w3.org/2005/Atom'><title>t</title><id>x</id>{items}</feed>"
        return "application/atom+xml", xml.encode()
    items = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title>"
        f"<link>{server.url(path).replace('&', '&amp;')}</link>"
        "<pubDate>Mon, 02 Mar 2026 10:00:00 GMT</pubDate></item>"
        for guid, path, title in entries
    )
    return (
        "application/rss+xml",
        f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>".encode(),
    )


@pytest.fixture
def outlets() -> Iterator[list[HTTPTestServer]]:
    """Three outlets, each its own server on 127.0.0.1; the third also carries the follow-up story."""
    servers = [HTTPTestServer().start() for _ in OUTLETS]
    for server, (_name, kind, guid, path, title, paragraphs) in zip(servers, OUTLETS, strict=True):
        entries = [(guid, path, title)]
        server.route(path, 200, {"Content-Type": "text/html; charset=utf-8"}, _page(title, paragraphs))
        if server is servers[2]:
            entries.append(("pg-a78", "/item?id=992", FOLLOW_UP_TITLE))
            server.route(
                "/item?id=992", 200, {"Content-Type": "text/html"}, _page(FOLLOW_UP_TITLE, FOLLOW_UP)
            )
        content_type, body = _feed(kind, server, entries)
        server.route("/feed", 200, {"Content-Type": content_type}, body)
    yield servers
    for server in servers:
        server.stop()


def _config(
    tmp_path: Path, servers: list[HTTPTestServer], sink: SmtpSink, database_url: str, extra: str = ""
) -> Path:
    feeds = "".join(
        f'[[feeds]]\nname = "{name}"\nurl = "{server.url("/feed")}"\n\n'
        for server, (name, *_rest) in zip(servers, OUTLETS, strict=True)
    )
    text = (
        f'[database]\nurl = "{database_url}"\n\n'
        '[fetch]\nallow_private_networks = ["127.0.0.0/8"]\nrespect_robots = false\n\n'
        f"{feeds}"
        f'[channels]\ndesk-email = "mailto://127.0.0.1:{sink.port}?from=a@tw.example&to=d@tw.example&mode=insecure"\n'
        + RULE.format(extra=extra)
    )
    path = tmp_path / "tw.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _settle(sink: SmtpSink, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(sink.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # and nothing more arrives


def _stories(database_url: str) -> dict[int, list[int]]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        members = session.exec(select(StoryMember)).all()
        assert {s.id for s in session.exec(select(Story))} == {m.story_id for m in members}
    engine.dispose()
    grouped: dict[int, list[int]] = {}
    for m in members:
        grouped.setdefault(m.story_id, []).append(m.article_id)
    return grouped


@on_both_databases_in_ci(default="postgresql")  # the follow-up/split test runs SQLite by default
def test_three_outlets_one_story_one_alert_listing_the_sources_and_the_follow_up_alerts_alone(
    outlets: list[HTTPTestServer], sink: SmtpSink, database_url: str, tmp_path: Path
) -> None:
    config = _config(tmp_path, outlets, sink, database_url)

    first = ingest(config=str(config))
    _settle(sink, 2)

    assert first.new_articles == 4
    assert sorted(len(a) for a in _stories(database_url).values()) == [1, 3], (
        "the wire story and the follow-up"
    )
    subjects = sorted(m["Subject"] for m in sink.messages)
    assert len(subjects) == 2, subjects
    assert first.alerts_sent == 2
    (wire,) = [m for m in sink.messages if "take effect" not in m["Subject"]]
    (follow,) = [m for m in sink.messages if "take effect" in m["Subject"]]
    text = body_text(wire)
    assert "Also reported by 2 other outlets" in text
    alerted = [name for name, *_rest, title, _paras in OUTLETS if title in wire["Subject"]]
    assert len(alerted) == 1, "the alert is the story's first article"
    assert [name for name, *_ in OUTLETS if name in text.split("Also reported")[1]] == [
        name for name, *_ in OUTLETS if name not in alerted
    ], "and lists the other two outlets' copies"
    assert text.count("alike") == 2, "each with the similarity that joined it"
    assert "Also reported" not in body_text(follow)

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["ingest-summary"]))
        )
    assert any(
        "Copies of earlier stories" in str(a.data) and first.line() in str(a.data) for a in artifacts
    ), "the run's artifact says which articles joined which story"

    listed = CliRunner().invoke(app, ["articles", "list", "--json", "--config", str(config)])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    wire_rows = [r for r in rows if r["story"] and r["story"]["articles"] == 3]
    assert len(wire_rows) == 3
    assert sorted(r["story"]["decided_by"] for r in wire_rows) == ["auto"] * 3
    joined = [r for r in wire_rows if r["story"]["joined_via"] is not None]
    assert len(joined) == 2
    assert all(r["story"]["similarity"] >= 0.5 for r in joined)
    assert {s["feed"] for s in wire_rows[0]["story"]["sources"]} == {name for name, *_ in OUTLETS}

    second = ingest(config=str(config))
    _settle(sink, 3)
    assert (second.new_articles, second.alerts_sent, len(sink.messages)) == (0, 0, 2), "a rerun sends nothing"


@on_both_databases_in_ci(default="sqlite")  # test_concurrent_runs runs PostgreSQL by default
def test_two_runs_at_once_make_one_story_and_send_one_alert_for_it(
    outlets: list[HTTPTestServer], sink: SmtpSink, database_url: str, tmp_path: Path
) -> None:
    config = _config(tmp_path, outlets, sink, database_url)
    for code, _out, err in run_at_once(config):
        assert code == 0, err
    _settle(sink, 2)
    assert sorted(len(a) for a in _stories(database_url).values()) == [1, 3]
    assert len(sink.messages) == 2, [m["Subject"] for m in sink.messages]
    engine = make_engine(database_url)
    with Session(engine) as session:
        kinds = sorted((d.kind, d.status) for d in session.exec(select(Delivery)))
    engine.dispose()
    assert kinds == [("story", "sent"), ("story", "sent")]


def test_group_article_alerts_every_copy_as_before(
    outlets: list[HTTPTestServer], sink: SmtpSink, database_url: str, tmp_path: Path
) -> None:
    config = _config(tmp_path, outlets, sink, database_url, extra='group = "article"')
    summary = ingest(config=str(config))
    _settle(sink, 4)
    assert summary.alerts_sent == 4
    assert len(sink.messages) == 4


@on_both_databases_in_ci(default="sqlite")  # tests/storage/test_stories.py covers both databases
def test_a_follow_up_when_more_outlets_report_a_story_already_alerted_and_a_split(
    outlets: list[HTTPTestServer], sink: SmtpSink, database_url: str, tmp_path: Path
) -> None:
    config = _config(tmp_path, outlets, sink, database_url, extra="follow_up_outlets = 3")
    ingest(config=str(config), feeds=["Metal Wire"])
    _settle(sink, 1)
    assert len(sink.messages) == 1
    ingest(config=str(config), feeds=["Trade Daily"])
    _settle(sink, 2)
    assert len(sink.messages) == 1, "a second outlet is below the follow-up threshold"
    ingest(config=str(config), feeds=["Port Gazette"])
    _settle(sink, 3)
    subjects = [m["Subject"] for m in sink.messages]
    assert len(subjects) == 3, "the follow-up story alerts; the third outlet triggers one follow-up"
    (update,) = [m for m in sink.messages if "Now 3 outlets" in m["Subject"]]
    assert "Also reported by 2 other outlets" in body_text(update)

    grouped = _stories(database_url)
    (wire,) = [ids for ids in grouped.values() if len(ids) == 3]
    split = CliRunner().invoke(app, ["stories", "split", str(max(wire)), "--json", "--config", str(config)])
    assert split.exit_code == 0, split.output
    result = json.loads(split.output)
    assert result["alerts_queued"] == 1, "the split article alerts as a story of its own"
    ingest(config=str(config))
    _settle(sink, 4)
    assert len(sink.messages) == 4
    assert sorted(len(ids) for ids in _stories(database_url).values()) == [1, 1, 2], "and it stays split"
