"""Issue 17, a newcomer's first hour: every item through the installed `tradewatch` console script.

Each test runs ``.venv/bin/tradewatch`` as a subprocess, as a person at a shell would, and asserts what
they see: the exit status, one line naming the field or service and the fix, never a traceback.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from flows.demo import SmtpSink, smtp_sink
from storage import repo
from storage.db import init_db, make_engine
from tests.httpserver import HTTPTestServer

SCRIPT = Path(sys.executable).with_name("tradewatch")
FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Desk</title>
<link>https://desk.example/</link><description>d</description>
<item><title>Tariffs rise</title><link>https://desk.example/a</link><guid>a</guid></item>
</channel></rss>"""


def tw(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the installed console script; no Prefect or tradewatch variables leak in from the test run."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "TRADEWATCH_"))}
    result = subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**base, **(env or {})},
        timeout=timeout,
        check=False,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return result


def tw_here(*args: str, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> subprocess.CompletedProcess[str]:
    """The console script's entry point (``cli.app.main``, with its error handler) in this process.

    For checks repeated over many commands; each such test keeps at least one ``tw`` call, so the
    installed command itself stays tested.
    """
    import contextlib
    import io

    from cli.app import main

    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    monkeypatch.chdir(cwd)
    for name in [k for k in os.environ if k.startswith(("PREFECT_", "TRADEWATCH_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setattr(sys, "argv", ["tradewatch", *args])
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main()
        except SystemExit as exc:
            code = exc.code
    returncode = code if isinstance(code, int) else (0 if code is None else 1)
    result = subprocess.CompletedProcess(list(args), returncode, out.getvalue(), err.getvalue())
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return result


def _config(tmp_path: Path, body: str, database: str | None = None) -> Path:
    url = database or f"sqlite:///{tmp_path / 'tw.db'}"
    path = tmp_path / "tw.toml"
    path.write_text(f'[database]\nurl = "{url}"\n{body}', encoding="utf-8")
    return path


FEEDS = """
[fetch]
allow_private_networks = ["127.0.0.0/8"]

[[feeds]]
name = "Desk"
url = "https://desk.example/rss.xml"
tags = ["news", "asia"]

[[feeds]]
name = "Ministry"
url = "https://ministry.example/feed"
tags = ["official"]
"""


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- 1. a bad [database] url ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("postgres://user@db.example/tw", ["database", "postgresql://"]),
        ("mysql://user@db.example/tw", ["database", "not supported", "postgresql://"]),
        ("sqlite:///{tmp}", ["[database] url", "is a folder", "tradewatch.db"]),
        ("sqlite:///{tmp}/typo/deeper/tw.db", ["[database] url", "does not exist", "mkdir -p"]),
    ],
)
def test_a_bad_database_url_exits_2_naming_it_and_creates_no_folder(
    tmp_path: Path, url: str, words: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(tmp_path, FEEDS, database=url.format(tmp=tmp_path))
    for command in (["run"], ["articles", "list"], ["config", "check"], ["db", "upgrade"]):
        if command == ["run"]:  # the installed command; the other three through its entry point, here
            result = tw(*command, "--config", str(config), cwd=tmp_path)
        else:
            result = tw_here(*command, "--config", str(config), cwd=tmp_path, monkeypatch=monkeypatch)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        output = result.stdout + result.stderr
        for word in words:
            assert word in output, (command, output)
        assert len(result.stderr.strip().splitlines()) <= 3, result.stderr
    assert not (tmp_path / "typo").exists(), "a mistyped path created a folder"
    assert not (tmp_path / "data").exists()


def test_report_output_into_a_missing_folder_is_refused_without_creating_it(tmp_path: Path) -> None:
    config = _config(tmp_path, FEEDS)
    result = tw("report", "--config", str(config), "--output", str(tmp_path / "no" / "such" / "r.html"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert not (tmp_path / "no").exists()


# --- 2. PREFECT_API_URL set, the server down -------------------------------------------------------


def test_a_dead_prefect_api_is_one_line_naming_the_url_and_the_two_ways_out(tmp_path: Path) -> None:
    config = _config(tmp_path, FEEDS)
    url = f"http://127.0.0.1:{_dead_port()}/api"
    result = tw("run", "--config", str(config), env={"PREFECT_API_URL": url})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert url in lines[0]
    assert "prefect server start" in lines[0]
    assert "unset PREFECT_API_URL" in lines[0]


# --- 3. run --feed with a name no feed has ---------------------------------------------------------


def test_run_with_an_unknown_feed_exits_2_listing_names_and_tags(tmp_path: Path) -> None:
    config = _config(tmp_path, FEEDS)
    result = tw("run", "--config", str(config), "--feed", "Dezk")
    assert result.returncode == 2
    assert "'Dezk'" in result.stderr
    for known in ("Desk", "Ministry", "news", "asia", "official"):
        assert known in result.stderr
    assert "did you mean 'Desk'" in result.stderr


# --- 4. feeds add / remove / import / export --------------------------------------------------------


def test_removing_the_last_feed_leaves_a_file_that_feeds_add_extends(tmp_path: Path) -> None:
    config = _config(tmp_path, '\n[[feeds]]\nname = "Only"\nurl = "https://only.example/rss"\n')
    assert tw("feeds", "remove", "Only", "--config", str(config)).returncode == 0
    assert "feeds = []" not in config.read_text(encoding="utf-8")
    older = "feeds = []\n" + config.read_text(encoding="utf-8")  # what earlier versions left behind
    config.write_text(older, encoding="utf-8")
    added = tw("feeds", "add", "https://new.example/rss", "--no-check", "--config", str(config))
    assert added.returncode == 0, added.stderr
    exported = tw("feeds", "export", "--config", str(config))
    assert "https://new.example/rss" in exported.stdout


def test_feed_names_are_unique_so_remove_by_name_removes_that_one(tmp_path: Path) -> None:
    config = _config(tmp_path, FEEDS)
    duplicate = tw(
        "feeds", "add", "https://other.example/rss", "--name", "Desk", "--no-check", "--config", str(config)
    )
    assert duplicate.returncode == 2
    assert "already configured" in duplicate.stderr
    assert "--name" in duplicate.stderr
    written = config.read_text(encoding="utf-8") + '\n[[feeds]]\nname = "Desk"\nurl = "https://b.example/"\n'
    config.write_text(written, encoding="utf-8")
    check = tw("config", "check", "--config", str(config))
    assert check.returncode == 2
    assert "'Desk' is used twice" in check.stdout


def test_a_non_http_feed_url_is_one_readable_line(tmp_path: Path) -> None:
    config = _config(tmp_path, FEEDS)
    result = tw("feeds", "add", "ftp://files.example/feed.xml", "--config", str(config))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: 'ftp://files.example/feed.xml': a feed URL must start with http:// or https://"
    )


def test_an_opml_round_trip_keeps_every_tag(tmp_path: Path) -> None:
    config = _config(tmp_path, FEEDS)
    exported = tw("feeds", "export", "--config", str(config))
    opml = tmp_path / "feeds.opml"
    opml.write_text(exported.stdout, encoding="utf-8")
    (tmp_path / "fresh").mkdir()
    fresh = _config(tmp_path / "fresh", "")
    assert tw("feeds", "import", str(opml), "--config", str(fresh)).returncode == 0
    back = json.loads(
        subprocess.run(
            [sys.executable, "-c", _DUMP_FEEDS, str(fresh)], capture_output=True, text=True, check=True
        ).stdout
    )
    assert back == [
        {"name": "Desk", "url": "https://desk.example/rss.xml", "tags": ["news", "asia"]},
        {"name": "Ministry", "url": "https://ministry.example/feed", "tags": ["official"]},
    ]


_DUMP_FEEDS = (
    "import json, sys; from flows.settings import load_settings; "
    "print(json.dumps([f.model_dump() for f in load_settings(sys.argv[1]).feeds]))"
)


def test_importing_1600_feeds_keeps_each_once_with_unique_names(tmp_path: Path) -> None:
    """The import is linear (one canonical URL per feed, looked up in a set); the result is checked here,
    the time in bench/feeds_import.py."""
    outlines = "\n".join(
        f'<outline text="News" xmlUrl="https://host{i % 400}.example/feed/{i}?utm_source=x"/>'
        for i in range(1600)
    )
    repeats = '<outline text="News" xmlUrl="https://HOST0.example/feed/0"/>'
    opml = tmp_path / "big.opml"
    opml.write_text(
        f'<?xml version="1.0"?><opml version="2.0"><body><outline text="bulk">{outlines}{repeats}'
        "</outline></body></opml>",
        encoding="utf-8",
    )
    config = _config(tmp_path, "")
    result = tw("feeds", "import", str(opml), "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "imported 1600 new feed(s) of 1601" in result.stdout
    feeds = json.loads(
        subprocess.run(
            [sys.executable, "-c", _DUMP_FEEDS, str(config)], capture_output=True, text=True, check=True
        ).stdout
    )
    assert len(feeds) == 1600
    assert len({f["name"] for f in feeds}) == 1600
    assert [f["name"] for f in feeds[:3]] == ["News", "News (2)", "News (3)"]
    assert all(f["tags"] == ["bulk"] for f in feeds)


# --- 7. no configuration found ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [["articles", "list"], ["feeds", "status"], ["alerts", "status"], ["report"], ["doctor"], ["run"]],
)
def test_without_a_configuration_commands_say_where_they_looked_and_create_nothing(
    tmp_path: Path, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if command == ["run"]:  # the installed command; the others through its entry point, in this process
        result = tw(*command, cwd=tmp_path)
    else:
        result = tw_here(*command, cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.returncode == 2
    output = result.stdout + result.stderr
    assert "no configuration found" in output
    for where in ("TRADEWATCH_CONFIG", "tradewatch.toml", "tradewatch init"):
        assert where in output
    assert list(tmp_path.iterdir()) == [], "nothing created in the working directory"


# --- 8. feed discovery --------------------------------------------------------------------------------


def test_feeds_add_of_a_web_page_adds_the_feed_it_advertises(tmp_path: Path) -> None:
    server = HTTPTestServer().start()
    try:
        page = (
            b'<html><head><title>Desk</title><link rel="stylesheet" href="/s.css">'
            b'<link rel="alternate" type="application/rss+xml" title="RSS" href="/feeds/rss.xml">'
            b"</head><body><p>News&nbsp;today</p></body></html>"
        )
        server.route("/news", 200, {"Content-Type": "text/html; charset=utf-8"}, page)
        server.route("/feeds/rss.xml", 200, {"Content-Type": "application/rss+xml"}, FEED)
        server.route("/plain", 200, {"Content-Type": "text/html"}, b"<html><body>No feed</body></html>")
        config = _config(tmp_path, '[fetch]\nallow_private_networks = ["127.0.0.0/8"]\n')
        result = tw("feeds", "add", server.url("/news"), "--name", "Desk", "--config", str(config))
        assert result.returncode == 0, result.stderr
        assert "advertises the feed" in result.stdout
        exported = tw("feeds", "export", "--config", str(config)).stdout
        assert f'xmlUrl="{server.url("/feeds/rss.xml")}"' in exported
        assert server.url("/news") not in exported

        none = tw("feeds", "add", server.url("/plain"), "--config", str(config))
        assert none.returncode == 1
        assert 'rel="alternate"' in none.stderr
    finally:
        server.stop()


# --- 5. digests: a CLI way to send them, and when each goes ------------------------------------------


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[tuple[Path, SmtpSink]]:
    """A store with one stored article and two waiting alerts (instant and daily digest) to a real SMTP."""
    with smtp_sink() as sink:
        channel = f"mailto://127.0.0.1:{sink.port}?from=tw@example.com&to=desk@example.org&mode=insecure"
        config = _config(
            tmp_path,
            f'[channels]\ndesk = "{channel}"\n'
            '[[rules]]\nname = "tariffs now"\nquery = "tariff"\nchannels = ["desk"]\n'
            '[[rules]]\nname = "tariffs daily"\nquery = "tariff"\nchannels = ["desk"]\nmode = "digest"\n'
            'digest = "daily"\n',
        )
        engine = make_engine(f"sqlite:///{tmp_path / 'tw.db'}")
        init_db(engine)
        with Session(engine) as session:
            feed = repo.sync_feeds(session, [repo.FeedSpec(name="Desk", url="https://desk.example/rss")])[0]
            rules = repo.sync_rules(
                session,
                [
                    repo.RuleSpec(name="tariffs now", query="tariff", channels=("desk",), mode="instant"),
                    repo.RuleSpec(name="tariffs daily", query="tariff", channels=("desk",), mode="daily"),
                ],
            )
            session.commit()
            ids = repo.insert_articles(
                session,
                [
                    repo.NewArticle(
                        canonical_url="https://desk.example/a",
                        url="https://desk.example/a",
                        entry_key="a",
                        feed_id=feed.id,
                        title="Tariffs rise on steel",
                        text="Tariffs rise on steel from Japan.",
                    )
                ],
            )
            for rule in rules.values():
                assert rule.id is not None
                repo.enqueue_delivery(
                    session,
                    article_id=ids["https://desk.example/a"],
                    rule_id=rule.id,
                    channel="desk",
                    mode=rule.mode,
                    now=datetime.now(UTC),
                )
            session.commit()
        engine.dispose()
        yield config, sink


def test_alerts_status_says_each_alerts_mode_and_when_it_goes_in_80_columns(
    outbox: tuple[Path, SmtpSink],
) -> None:
    config, _ = outbox
    result = tw("alerts", "status", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "outbox: pending=2" in result.stdout
    assert "instant: due now" in result.stdout
    assert "daily digest:" in result.stdout
    assert "07:00 UTC" in result.stdout
    assert "tradewatch alerts send --digest daily" in " ".join(result.stdout.split())
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    rows = json.loads(tw("alerts", "status", "--json", "--config", str(config)).stdout)["deliveries"]
    assert sorted(row["mode"] for row in rows) == ["daily", "instant"]


def test_alerts_send_sends_due_instant_alerts_and_the_digest_on_request(
    outbox: tuple[Path, SmtpSink],
) -> None:
    config, sink = outbox
    first = tw("alerts", "send", "--config", str(config))
    assert first.returncode == 0, first.stderr
    assert "instant: 1 message(s) sent covering 1 alert(s)" in first.stdout
    assert len(sink.messages) == 1
    digest = tw("alerts", "send", "--digest", "daily", "--config", str(config))
    assert digest.returncode == 0, digest.stderr
    assert "daily: 1 message(s) sent covering 1 alert(s)" in digest.stdout
    assert len(sink.messages) == 2
    assert "digest" in str(sink.messages[1]["Subject"]).lower()
    status = tw("alerts", "status", "--json", "--config", str(config))
    assert json.loads(status.stdout)["counts"] == {"sent": 2}
    again = tw("alerts", "send", "--digest", "all", "--config", str(config))
    assert "daily: 0 message(s)" in again.stdout
    assert len(sink.messages) == 2


# --- 10 and 12. start-up, help, version, strict values ------------------------------------------------


@pytest.mark.parametrize("command", [["--help"], ["run", "--help"], ["config", "check"]])
def test_help_and_config_check_load_no_database_http_or_prefect_code(
    tmp_path: Path, command: list[str]
) -> None:
    """What made `--help` take seconds: SQLAlchemy, httpx and Prefect imported for three types."""
    config = _config(tmp_path, FEEDS)
    args = [*command, "--config", str(config)] if command == ["config", "check"] else command
    result = subprocess.run(
        [sys.executable, "-X", "importtime", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    heavy = sorted(m for m in imported if m.split(".")[0] in {"sqlalchemy", "sqlmodel", "httpx", "prefect"})
    assert heavy == []


def test_help_is_plain_text_that_keeps_brackets_and_shows_flags_without_a_type() -> None:
    for command in (["run"], ["config", "check"], ["alerts", "status"], ["doctor"]):
        text = tw(*command, "--help", env={"COLUMNS": "80"}).stdout
        assert "<bool>" not in text, command
        assert "--json" in text, command
        assert max(len(line) for line in text.splitlines()) <= 80, command
    train_help = tw("classifier", "train", "--help").stdout
    assert "[classifier]" in " ".join(train_help.split())
    version = tw("--version")
    assert version.returncode == 0
    assert version.stdout.startswith("tradewatch 0.")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            '[channels]\nc = "mailto://x"\n[[rules]]\nname = "r"\nquery = "tariff"\nchannels = ["c"]\n'
            'trade_only = "yes"\n',
            ["trade_only", "true or false"],
        ),
        ('[fetch]\nrespect_robots = "no"\n', ["respect_robots", "true or false"]),
        ('[fetch]\nuser_agnet = "me"\n', ["user_agnet", "did you mean 'user_agent'"]),
        ('[[feeds]]\nname = "a"\nurl = "https://a.example/"\ntagz = ["x"]\n', ["did you mean 'tags'"]),
    ],
)
def test_quoted_booleans_are_refused_and_unknown_fields_get_a_suggestion(
    tmp_path: Path, body: str, words: list[str]
) -> None:
    config = _config(tmp_path, body)
    for command in (["config", "check"], ["articles", "list"]):
        result = tw(*command, "--config", str(config))
        assert result.returncode == 2
        for word in words:
            assert word in result.stdout + result.stderr, command


# --- 11. demo port busy -------------------------------------------------------------------------------


def test_demo_with_its_port_taken_says_so_and_stores_nothing(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = tw("demo", "--port", str(port), cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"127.0.0.1:{port} is in use" in lines[0]
    assert "--port" in lines[0]
    assert not (tmp_path / "data").exists(), "no database was created or written"


# --- the sweep: every subcommand, broken configurations and a dead API --------------------------------

SUBCOMMANDS = [
    ["run"],
    ["run", "--dry-run", "--json"],
    ["serve"],
    ["articles", "list"],
    ["articles", "search", "tariff"],
    ["feeds", "status"],
    ["feeds", "add", "https://x.example/rss", "--no-check"],
    ["feeds", "remove", "Desk"],
    ["feeds", "export"],
    ["alerts", "status"],
    ["alerts", "send"],
    ["rules", "test", "tariff"],
    ["report", "--json"],
    ["doctor"],
    ["db", "upgrade"],
    ["config", "check"],
]
BROKEN = {
    "valid, only the API is dead": 'url = "sqlite:///{tmp}/tw.db"\n',
    "unreachable postgresql": 'url = "postgresql://u@127.0.0.1:{dead}/tw"\n',
    "unknown field": 'url = "sqlite:///{tmp}/tw.db"\nurll = 1\n',
}


@pytest.mark.slow
@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_no_subcommand_prints_a_traceback_on_a_broken_configuration_or_a_dead_api(
    tmp_path: Path, broken: str
) -> None:
    dead = _dead_port()
    config = tmp_path / "tw.toml"
    config.write_text(
        "[database]\n"
        + BROKEN[broken].format(tmp=tmp_path, dead=dead)
        + FEEDS.replace("[fetch]", "\n[fetch]"),
        encoding="utf-8",
    )
    env = {"PREFECT_API_URL": f"http://127.0.0.1:{dead}/api"}
    # Three at a time: each is a fresh interpreter, mostly waiting on imports and refused connections.
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(
            pool.map(lambda c: tw(*c, "--config", str(config), cwd=tmp_path, env=env), SUBCOMMANDS)
        )  # tw asserts that no output holds a traceback
    for command, result in zip(SUBCOMMANDS, results, strict=True):
        if result.returncode:
            assert result.returncode in (1, 2), (broken, command, result.stdout, result.stderr)
            assert "error" in result.stderr + result.stdout or "failed" in result.stdout, (broken, command)
        elif command[0] in ("run", "serve"):
            pytest.fail(f"{command} succeeded against a dead API ({broken}): {result.stdout}")


# --- 9. articles search: the rule language, the same on SQLite and PostgreSQL -------------------------

ARTICLES = {
    "a": ("Tariffs on steel rise", "Washington raised tariffs on steel from China on Monday."),
    "b": ("Steel output falls", "Japanese mills cut steel output as demand slowed."),
    "c": ("Trade talks resume", "Officials said the trade talks would resume. Much later, a deal was near."),
    "d": ("Quota on rice", "A new tariff-rate quota on rice takes effect."),
}


#: Each query with the article keys it must find; the first runs the installed command, the rest the same
#: app in-process (one store per database serves all eight, instead of a store and a process per query).
SEARCHES = [
    ("tariff", {"a", "d"}),
    ("tariff*", {"a", "d"}),
    ("tariffs", {"a", "d"}),
    ("steel OR rice", {"a", "b", "d"}),
    ("steel -china", {"b"}),
    ('"trade talks"', {"c"}),
    ('"talks deal"', set()),
    ("title:steel", {"a", "b"}),
]


def test_articles_search_speaks_the_rule_language_on_both_databases(
    engine: object, database_url: str, tmp_path: Path
) -> None:
    from sqlalchemy.engine import Engine
    from typer.testing import CliRunner

    from cli.app import app

    assert isinstance(engine, Engine)
    with Session(engine) as session:
        feed = repo.sync_feeds(session, [repo.FeedSpec(name="Desk", url="https://desk.example/rss")])[0]
        session.commit()
        repo.insert_articles(
            session,
            [
                repo.NewArticle(
                    canonical_url=f"https://desk.example/{key}",
                    url=f"https://desk.example/{key}",
                    entry_key=key,
                    feed_id=feed.id,
                    title=title,
                    text=text,
                )
                for key, (title, text) in ARTICLES.items()
            ],
        )
        session.commit()
    config = tmp_path / "tw.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n', encoding="utf-8")
    (query, expected), *others = SEARCHES
    result = tw("articles", "search", query, "--json", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert {row["url"].rsplit("/", 1)[-1] for row in json.loads(result.stdout)} == expected
    for query, expected in others:
        found = CliRunner().invoke(app, ["articles", "search", query, "--json", "--config", str(config)])
        assert found.exit_code == 0, (query, found.output)
        assert {row["url"].rsplit("/", 1)[-1] for row in json.loads(found.stdout)} == expected, query


# --- 6 and 12: the summary line, --json, warnings once, --dry-run: one real run of the demo ----------


@pytest.mark.usefixtures("prefect_harness")
def test_a_run_shows_waiting_alerts_prints_pure_json_and_warns_once(demo_site: str, tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL

    from flows.demo import render_demo_config

    config = render_demo_config(demo_site, 1, f"sqlite:///{tmp_path / 'tw.db'}", tmp_path / "tw.toml")
    text = config.read_text(encoding="utf-8")
    start = text.index("[channels]")
    end = text.index("\n[", start + 1)
    # The channel reads its URL from a variable that is not set: its alert waits in the outbox.
    config.write_text(
        text[:start] + '[channels]\ndesk-email = "env:TRADEWATCH_TEST_UNSET_URL"\n' + text[end:],
        encoding="utf-8",
    )
    env = {"PREFECT_API_URL": str(PREFECT_API_URL.value())}

    dry = tw("run", "--dry-run", "--config", str(config), env=env, timeout=240)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.strip().splitlines()[-1].endswith("(dry run: nothing stored or sent)")
    engine = make_engine(f"sqlite:///{tmp_path / 'tw.db'}")
    with engine.connect() as connection:
        from sqlalchemy import text as sql

        counts = {
            t: connection.execute(sql(f"SELECT count(*) FROM {t}")).scalar() for t in ("feed", "article")
        }
    engine.dispose()
    assert counts == {"feed": 0, "article": 0}, "a dry run writes no rows"

    result = tw("run", "--json", "--config", str(config), env=env, timeout=240)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)  # stdout is the JSON document and nothing else
    assert summary["alerts_sent"] == 0
    assert summary["alerts_waiting"] == 1
    assert "alerts_sent=0 alerts_waiting=1" in result.stderr
    warnings = [line for line in result.stderr.splitlines() if "TRADEWATCH_TEST_UNSET_URL" in line]
    assert len(warnings) == 1, result.stderr


# --- make demo on a loaded machine -------------------------------------------------------------------


@pytest.mark.slow
def test_demo_succeeds_beside_two_cpu_burners_and_says_what_it_waits_for(tmp_path: Path) -> None:
    """Prefect's temporary server needed 35-40 s on a busy 2-core machine against its 20 s default."""
    burners = [subprocess.Popen(["yes"], stdout=subprocess.DEVNULL) for _ in range(2)]
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        result = tw("demo", "--port", str(port), cwd=tmp_path, timeout=400)
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    assert result.returncode == 0, result.stderr[-3000:]
    assert "waiting for Prefect's temporary API server to start" in result.stderr
    assert "limit 180 s" in result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last == "summary: feeds=2 new_articles=8 trade=4 alerts_sent=1 alerts_waiting=0 failures=0"
    assert "=== alert received by the demo SMTP sink" in result.stdout
    assert (tmp_path / "data" / "demo" / f"tradewatch-{port}.db").is_file()


def test_alerts_status_names_the_digest_times_the_served_deployments_use() -> None:
    """`alerts status` computes when a digest goes; it must agree with the schedules `serve` registers
    and with the work-pool deployments in deployments/prefect.yaml (which cannot import the constants)."""
    import importlib.util

    import yaml

    from cli.alerts import _next_digest
    from flows.demo import PROJECT_ROOT

    spec = importlib.util.spec_from_file_location("serve_entry", PROJECT_ROOT / "deployments" / "serve.py")
    assert spec is not None
    assert spec.loader is not None
    serve = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(serve)
    served = {
        d.name: [getattr(s.schedule, "cron", None) for s in d.schedules] for d in serve.deployments(None)
    }
    pooled = yaml.safe_load((PROJECT_ROOT / "deployments" / "prefect.yaml").read_text(encoding="utf-8"))
    in_yaml = {d["name"]: [s.get("cron") for s in d.get("schedules", [])] for d in pooled["deployments"]}
    assert served["digest-hourly"] == in_yaml["digest-hourly"] == ["0 * * * *"]
    assert served["digest-daily"] == in_yaml["digest-daily"] == ["0 7 * * *"]
    now = datetime(2026, 12, 3, 6, 30, tzinfo=UTC)
    assert _next_digest("hourly", now) == datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
    assert _next_digest("daily", now) == datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
    assert _next_digest("daily", now.replace(hour=7)) == datetime(2026, 12, 4, 7, 0, tzinfo=UTC)
