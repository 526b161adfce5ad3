"""`feeds add/remove/import/export` edit the configuration file and keep the operator's comments."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cli.app import app
from flows.settings import load_settings

runner = CliRunner()
CONFIG = """# my desk's configuration
[database]
url = "sqlite:///tw.db"  # keep this comment

[[feeds]]
name = "WTO"
url = "https://www.wto.org/library/rss/latest_news_e.xml"
tags = ["official"]
"""

OPML = b"""<?xml version="1.0"?>
<opml version="2.0"><head><title>export</title></head><body>
  <outline text="Trade">
    <outline type="rss" text="USTR" xmlUrl="https://ustr.gov/feed.xml"/>
    <outline type="rss" text="WTO again" xmlUrl="https://www.wto.org/library/rss/latest_news_e.xml"/>
  </outline>
  <outline type="rss" title="Loose" xmlUrl="https://example.org/rss"/>
</body></opml>"""


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "tw.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_add_then_remove_keeps_comments_and_validates(tmp_path: Path) -> None:
    path = _config(tmp_path)
    result = runner.invoke(
        app, ["feeds", "add", "https://ustr.gov/feed.xml", "--tag", "us", "--config", str(path)]
    )
    assert result.exit_code == 0, result.output
    text = path.read_text(encoding="utf-8")
    assert "# my desk's configuration" in text
    assert "# keep this comment" in text
    feeds = load_settings(path).feeds
    assert [(f.name, f.url, f.tags) for f in feeds][-1] == ("ustr.gov", "https://ustr.gov/feed.xml", ["us"])

    again = runner.invoke(
        app, ["feeds", "add", "https://USTR.gov/feed.xml?utm_source=x", "--config", str(path)]
    )
    assert "already configured" in again.output
    assert len(load_settings(path).feeds) == 2

    removed = runner.invoke(app, ["feeds", "remove", "WTO", "--config", str(path)])
    assert removed.exit_code == 0, removed.output
    assert [f.name for f in load_settings(path).feeds] == ["ustr.gov"]
    assert "# keep this comment" in path.read_text(encoding="utf-8")


def test_add_refuses_a_non_http_url_and_remove_an_unknown_feed(tmp_path: Path) -> None:
    path = _config(tmp_path)
    bad = runner.invoke(app, ["feeds", "add", "file:///etc/passwd", "--config", str(path)])
    assert bad.exit_code == 2
    assert "http" in bad.output
    unknown = runner.invoke(app, ["feeds", "remove", "Nope", "--config", str(path)])
    assert unknown.exit_code == 2
    assert "WTO" in unknown.output


def test_import_opml_adds_new_feeds_with_folders_as_tags_and_export_round_trips(tmp_path: Path) -> None:
    path = _config(tmp_path)
    opml = tmp_path / "subs.opml"
    opml.write_bytes(OPML)
    result = runner.invoke(app, ["feeds", "import", str(opml), "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert "imported 2 new feed(s) of 3" in result.output
    feeds = {f.name: f for f in load_settings(path).feeds}
    assert feeds["USTR"].tags == ["Trade"]
    assert feeds["Loose"].url == "https://example.org/rss"

    exported = runner.invoke(app, ["feeds", "export", "--config", str(path)])
    assert exported.exit_code == 0
    reimport = tmp_path / "back.opml"
    reimport.write_text(exported.output, encoding="utf-8")
    fresh = tmp_path / "fresh.toml"
    fresh.write_text("", encoding="utf-8")
    assert runner.invoke(app, ["feeds", "import", str(reimport), "--config", str(fresh)]).exit_code == 0
    assert {f.url for f in load_settings(fresh).feeds} == {f.url for f in load_settings(path).feeds}


def test_import_refuses_an_entity_bomb(tmp_path: Path) -> None:
    path = _config(tmp_path)
    bomb = tmp_path / "bomb.opml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<opml version="2.0"><body><outline text="&b;" xmlUrl="https://e.com/&b;"/></body></opml>',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["feeds", "import", str(bomb), "--config", str(path)])
    assert result.exit_code == 2
    assert "entities" in result.output
    assert len(load_settings(path).feeds) == 1
