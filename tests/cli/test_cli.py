"""The command line as users and scripts see it: exit codes, messages naming the field, JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app
from flows.demo import DEMO_SITE

runner = CliRunner()
SEED_PAGE = DEMO_SITE / "articles" / "trade-talks-japan.html"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tradewatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("toml", "names"),
    [
        ('[[feeds]]\nname = "x"\n', ["feeds[0].url", "required"]),
        ('[[feeds]]\nname = "x"\nurl = "ftp://example.com/feed"\n', ["feeds[0].url", "http"]),
        ('[fetch]\nallow_private_networks = ["localhost"]\n', ["fetch.allow_private_networks", "CIDR"]),
        ("[fetch]\ntimeout_s = 3\n", ["fetch.timeout_s", "unknown field"]),
        (
            '[[feeds]]\nname = "x"\nurl = "https://e.com/f"\n[[rules]]\nname = "r"\nquery = "tariff"\n'
            'channels = ["nowhere"]\n',
            ["rules[0]", "nowhere", "[channels]"],
        ),
        (
            '[channels]\nc = "mailto://x"\n[[rules]]\nname = "broken"\nquery = "tariff AND (duty"\n'
            'channels = ["c"]\n',
            ["broken", "position"],
        ),
        ("[database\nurl = 1", ["not valid TOML"]),
    ],
)
def test_unusable_configuration_exits_2_naming_the_field(tmp_path: Path, toml: str, names: list[str]) -> None:
    result = runner.invoke(app, ["run", "--config", str(_write(tmp_path, toml))])
    assert result.exit_code == 2
    for name in names:
        assert name in result.output


def test_missing_configuration_file_says_how_to_create_one(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert "not found" in result.output


def test_configuration_without_feeds_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "--config", str(_write(tmp_path, "[database]\nurl = 'sqlite://'\n"))])
    assert result.exit_code == 2
    assert "[[feeds]]" in result.output


def test_extract_prints_the_seed_article_as_json_without_boilerplate() -> None:
    result = runner.invoke(app, ["extract", str(SEED_PAGE)])
    assert result.exit_code == 0, result.output
    article = json.loads(result.output)
    assert set(article) >= {"title", "author", "published", "url", "text"}
    assert article["title"].startswith("Trump Claims")
    expected = (DEMO_SITE / "expected" / "trade-talks-japan.txt").read_text(encoding="utf-8")
    assert article["text"] == expected.strip()
    assert "Leave a Comment" not in article["text"]


def test_extract_of_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["extract", str(tmp_path / "missing.html")])
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_extract_of_a_page_without_article_exits_1_with_the_reason(tmp_path: Path) -> None:
    page = tmp_path / "empty.html"
    page.write_text("<html><body><nav><a href='/'>Home</a></nav></body></html>", encoding="utf-8")
    result = runner.invoke(app, ["extract", str(page)])
    assert result.exit_code == 1
    assert "[extract:" in result.output


def test_articles_list_json_on_an_empty_store_is_an_empty_array(tmp_path: Path) -> None:
    config = _write(tmp_path, f"[database]\nurl = 'sqlite:///{tmp_path / 'db.sqlite'}'\n")
    result = runner.invoke(app, ["articles", "list", "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == []


def test_bad_since_window_exits_2(tmp_path: Path) -> None:
    config = _write(tmp_path, f"[database]\nurl = 'sqlite:///{tmp_path / 'db.sqlite'}'\n")
    result = runner.invoke(app, ["articles", "list", "--since", "lately", "--config", str(config)])
    assert result.exit_code == 2
    assert "--since" in result.output


def test_extract_of_a_loopback_url_is_refused_with_the_way_to_allow_it(
    http_server: object, tmp_path: Path
) -> None:
    from tests.httpserver import HTTPTestServer

    assert isinstance(http_server, HTTPTestServer)
    page = SEED_PAGE.read_bytes()
    http_server.route("/a.html", 200, {"Content-Type": "text/html; charset=utf-8"}, page)
    refused = runner.invoke(app, ["extract", http_server.url("/a.html")])
    assert refused.exit_code == 1
    assert "forbidden_address" in refused.output
    assert "allow_private_networks" in refused.output
    assert http_server.paths() == [], "nothing was requested from the refused address"

    config = _write(tmp_path, '[fetch]\nallow_private_networks = ["127.0.0.0/8"]\nrespect_robots = false\n')
    allowed = runner.invoke(app, ["extract", http_server.url("/a.html"), "--config", str(config)])
    assert allowed.exit_code == 0, allowed.output
    assert json.loads(allowed.output)["title"].startswith("Trump Claims")
