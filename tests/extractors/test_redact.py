"""The one redaction rule: what of a feed, page or channel URL may be shown in logs, errors and reports."""

from __future__ import annotations

import logging

import pytest

from extractors.errors import FeedError, FetchError
from extractors.redact import redact_log_records, redact_text, redact_url
from tests.httpserver import HTTPTestServer


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://a:b@Host.example:8443/p?q=1#f", "https://host.example:8443/p?…"),
        ("https://user:pw@feeds.example.com/feed.xml?token=s3cret", "https://feeds.example.com/feed.xml?…"),
        ("http://example.com/rss", "http://example.com/rss"),
        ("http://[::1", "http://<unparseable url>"),
        ("http://a\uff03b.example/feed", "http://<unparseable url>"),
        ("not a url", "<unparseable url>"),
    ],
)
def test_web_urls_keep_host_and_path_and_lose_credentials(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert redact_url(redact_url(url)) == redact_url(url)  # idempotent: redacting twice changes nothing


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("mailto://user:pw@127.0.0.1:2525?smtp=127.0.0.1&to=a@b.example", "mailto://127.0.0.1"),
        ("mailtos://user:pw@smtp.example.com", "mailtos://smtp.example.com"),
        ("slack://T1SECRET/B2SECRET/C3SECRET/#general", "slack://***"),
        ("discord://123456/tokentoken", "discord://***"),
        ("json://hooks.example.com/path/secret?token=abc", "json://hooks.example.com"),
        ("https://hooks.slack.com/services/T1/B2/C3SECRET", "https://hooks.slack.com"),
        ("not a url", "<unparseable url>"),
    ],
)
def test_channel_urls_keep_scheme_and_server_only(url: str, shown: str) -> None:
    assert redact_url(url, keep_path=False) == shown


def test_urls_inside_text_are_redacted_and_the_rest_is_kept() -> None:
    text = "GET https://u:hunter2@h.example/f?token=s3cret failed; see http://x.example/a?b=c."
    assert redact_text(text) == "GET https://h.example/f?… failed; see http://x.example/a?…."
    # The punctuation that closes a parenthesis or a sentence stays in the text, outside the URL.
    text = "feed 'x' (https://u:pw@h.example/f?token=s3cret) failed: http://h.example/a/(b), see https://h.example/"
    shown = "feed 'x' (https://h.example/f?…) failed: http://h.example/a/(b), see https://h.example/"
    assert redact_text(text) == shown


def test_stage_errors_redact_their_url_and_the_urls_in_their_message() -> None:
    error = FeedError(
        "parse",
        "https://u:hunter2@h.example/f?token=s3cret",
        "base https://u:hunter2@h.example/?token=s3cret",
    )
    for text in (str(error), error.url or "", error.message):
        assert "hunter2" not in text
        assert "s3cret" not in text
    assert error.url == "https://h.example/f?…"
    fetch = FetchError("http_status", None, "HTTP 404")
    assert fetch.url is None


def test_httpx_request_lines_lose_the_credentials_of_the_url(
    http_server: HTTPTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    """httpx logs every request at INFO with its full URL; any INFO log setup would have shown a feed's
    password and token."""
    import asyncio

    from extractors.http import Fetcher, FetchPolicy

    http_server.route("/feed.xml", 200, {"Content-Type": "application/rss+xml"}, b"<rss/>")
    secret = f"http://reader:pw-Secret1@127.0.0.1:{http_server.port}/feed.xml?token=tok-Secret2"
    caplog.set_level(logging.DEBUG)

    async def fetch() -> None:
        async with Fetcher(FetchPolicy(allow_private_networks=("127.0.0.0/8",))) as fetcher:
            await fetcher.fetch_feed(secret)

    asyncio.run(fetch())
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any(f"127.0.0.1:{http_server.port}/feed.xml?…" in line for line in lines), lines
    assert "Secret" not in caplog.text


def test_every_log_record_of_the_process_is_redacted_once_installed(caplog: pytest.LogCaptureFixture) -> None:
    """Whatever library logs a URL, on whatever logger, the pipeline's processes redact it."""
    caplog.set_level(logging.INFO)
    redact_log_records()
    redact_log_records()  # installing twice wraps once
    logging.getLogger("some.library.nobody.filters").info(
        "fetching %s", "https://u:pw-Secret3@feeds.example/f?token=tok-Secret4"
    )
    assert "https://feeds.example/f?…" in caplog.text
    assert "Secret" not in caplog.text
    factory = logging.getLogRecordFactory()  # arguments that do not format are left for logging to report
    record = factory("x", logging.INFO, __file__, 1, "broken %s %s", ("one",), None)
    assert record.args == ("one",)
