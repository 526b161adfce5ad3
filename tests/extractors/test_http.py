"""extractors.http against a real HTTP server on 127.0.0.1: safety gates, failure reasons, politeness."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import socket
import ssl
import threading
import time
import tracemalloc
import zlib
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any, TypeVar

import httpx
import pytest
import trustme
from hypothesis import given, settings
from hypothesis import strategies as st

from extractors import http as http_module
from extractors.errors import FetchError
from extractors.http import (
    Fetcher,
    FetchPolicy,
    Response,
    fetch_page_sync,
    is_forbidden_address,
    parse_retry_after,
)
from extractors.redact import redact_url
from tests.httpserver import Exchange, HTTPTestServer

T = TypeVar("T")

LOCAL = ("127.0.0.0/8",)
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
HTML = b"<html><head><title>Article</title></head><body><p>Trade news.</p></body></html>"
FEED_CT = {"Content-Type": "application/rss+xml"}
PAGE_CT = {"Content-Type": "text/html; charset=utf-8"}


def policy(**overrides: Any) -> FetchPolicy:
    """Short timeouts so a broken behaviour fails fast instead of hanging the suite."""
    values: dict[str, Any] = {
        "allow_private_networks": LOCAL,
        "connect_timeout": 2.0,
        "read_timeout": 2.0,
        "total_timeout": 5.0,
    }
    values.update(overrides)
    return FetchPolicy(**values)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def feed(url: str, pol: FetchPolicy | None = None, **kwargs: Any) -> Response:
    async with Fetcher(pol or policy()) as fetcher:
        return await fetcher.fetch_feed(url, **kwargs)


async def page(url: str, pol: FetchPolicy | None = None) -> Response:
    async with Fetcher(pol or policy()) as fetcher:
        return await fetcher.fetch_page(url)


def fetch_error(coro: Coroutine[Any, Any, Any]) -> FetchError:
    with pytest.raises(FetchError) as info:
        run(coro)
    return info.value


# ------------------------------------------------------------------------------------ conditional GET


def test_conditional_get_returns_304_without_body_and_keeps_validators(http_server: HTTPTestServer) -> None:
    etag, modified = '"v1"', "Tue, 10 Jun 2025 08:00:00 GMT"

    def handler(ex: Exchange) -> None:
        if ex.headers.get("if-none-match") == etag:
            ex.send(304, {}, b"")
        else:
            ex.send(200, {**FEED_CT, "ETag": etag, "Last-Modified": modified}, RSS)

    http_server.route("/feed", handler)
    first = run(feed(http_server.url("/feed")))
    assert (first.status, first.content, first.etag, first.last_modified) == (200, RSS, etag, modified)
    assert not first.not_modified

    second = run(feed(http_server.url("/feed"), etag=first.etag, last_modified=first.last_modified))
    assert second.not_modified
    assert second.content == b""
    # A 304 that omits validators must not make the caller forget the stored ones.
    assert (second.etag, second.last_modified) == (etag, modified)
    sent = http_server.requests_to("/feed")[1].headers
    assert sent["if-none-match"] == etag
    assert sent["if-modified-since"] == modified


def test_response_exposes_cache_control_max_age_and_charset(http_server: HTTPTestServer) -> None:
    http_server.route(
        "/feed",
        200,
        {"Content-Type": "application/xml; charset=ISO-8859-1", "Cache-Control": "public, max-age=900"},
        RSS,
    )
    resp = run(feed(http_server.url("/feed")))
    assert resp.max_age == 900
    assert (resp.content_type, resp.charset) == ("application/xml", "iso-8859-1")
    assert resp.headers["cache-control"] == "public, max-age=900"


def test_user_agent_with_contact_is_sent(http_server: HTTPTestServer) -> None:
    http_server.route("/feed", 200, FEED_CT, RSS)
    ua = "tradewatch/9 (+https://ops.example.org/contact)"
    run(feed(http_server.url("/feed"), policy(user_agent=ua)))
    assert http_server.requests_to("/feed")[0].headers["user-agent"] == ua


def test_gzip_and_deflate_bodies_are_decompressed(http_server: HTTPTestServer) -> None:
    http_server.route("/gz", 200, {**FEED_CT, "Content-Encoding": "gzip"}, gzip.compress(RSS))
    http_server.route("/zl", 200, {**FEED_CT, "Content-Encoding": "deflate"}, zlib.compress(RSS))
    raw = zlib.compressobj(wbits=-15)
    http_server.route(
        "/raw", 200, {**FEED_CT, "Content-Encoding": "deflate"}, raw.compress(RSS) + raw.flush()
    )
    for path in ("/gz", "/zl", "/raw"):
        assert run(feed(http_server.url(path))).content == RSS, path


# --------------------------------------------------------------------------------- rate limits, status


def test_429_exposes_retry_after_seconds(http_server: HTTPTestServer) -> None:
    http_server.route("/feed", 429, {"Retry-After": "120"}, b"slow down")
    err = fetch_error(feed(http_server.url("/feed")))
    assert (err.reason, err.status, err.retry_after, err.transient) == ("rate_limited", 429, 120.0, True)


def test_503_with_http_date_retry_after_is_rate_limited(http_server: HTTPTestServer) -> None:
    when = datetime.now(UTC) + timedelta(minutes=10)
    http_server.route("/feed", 503, {"Retry-After": format_datetime(when, usegmt=True)}, b"busy")
    err = fetch_error(feed(http_server.url("/feed")))
    assert err.reason == "rate_limited"
    assert err.transient
    assert err.retry_after is not None
    assert 500 < err.retry_after <= 600


def test_parse_retry_after_forms() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC).timestamp()
    assert parse_retry_after("30", now=now) == 30.0
    assert parse_retry_after("Wed, 01 Jan 2025 00:01:00 GMT", now=now) == 60.0
    assert parse_retry_after("Tue, 31 Dec 2024 00:00:00 GMT", now=now) == 0.0  # in the past: go now
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("status", "transient"),
    [(404, False), (410, False), (500, True), (502, True), (503, True), (408, True), (401, False)],
)
def test_http_status_errors_are_classified(http_server: HTTPTestServer, status: int, transient: bool) -> None:
    http_server.route("/x", status, {"Content-Type": "text/plain"}, b"error")
    err = fetch_error(feed(http_server.url("/x")))
    assert (err.reason, err.status, err.transient) == ("http_status", status, transient)


def test_403_is_blocked(http_server: HTTPTestServer) -> None:
    http_server.route("/x", 403, {"Content-Type": "text/html"}, b"<h1>Forbidden</h1>")
    err = fetch_error(page(http_server.url("/x"), policy(respect_robots=False)))
    assert (err.reason, err.status, err.transient) == ("blocked", 403, False)


def test_challenge_pages_are_blocked(http_server: HTTPTestServer) -> None:
    challenge = (
        b"<html><head><title>Just a moment...</title></head><body>"
        b'<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1"></script></body></html>'
    )
    http_server.route("/ok-status", 200, PAGE_CT, challenge)
    http_server.route("/503", 503, {**PAGE_CT, "cf-mitigated": "challenge"}, b"<html></html>")
    pol = policy(respect_robots=False)
    assert fetch_error(page(http_server.url("/ok-status"), pol)).reason == "blocked"
    assert fetch_error(page(http_server.url("/503"), pol)).reason == "blocked"


def test_article_about_challenges_is_not_blocked(http_server: HTTPTestServer) -> None:
    body = b"<html><title>How bot walls work</title><p>" + b"Cloudflare says just a moment. " * 3000 + b"</p>"
    http_server.route("/a", 200, PAGE_CT, body)
    assert run(page(http_server.url("/a"), policy(respect_robots=False))).content == body


def test_wrong_content_type_is_refused_before_reading(http_server: HTTPTestServer) -> None:
    http_server.route("/doc.pdf", 200, {"Content-Type": "application/pdf"}, b"%PDF-1.7")
    http_server.route("/img", 200, {"Content-Type": "image/png"}, b"\x89PNG")
    pol = policy(respect_robots=False)
    assert fetch_error(page(http_server.url("/doc.pdf"), pol)).reason == "content_type"
    assert fetch_error(feed(http_server.url("/img"), pol)).reason == "content_type"
    # An RSS URL is not an article page either.
    http_server.route("/rss", 200, FEED_CT, RSS)
    assert fetch_error(page(http_server.url("/rss"), pol)).reason == "content_type"


# ------------------------------------------------------------------------------------- network errors


def test_dns_failure() -> None:
    err = fetch_error(feed("http://no-such-host.invalid/feed"))
    assert err.reason == "dns"
    assert err.transient


def test_connection_refused() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    err = fetch_error(feed(f"http://127.0.0.1:{port}/feed"))
    assert (err.reason, err.transient) == ("connect", True)


def test_read_timeout(http_server: HTTPTestServer) -> None:
    http_server.route("/slow", lambda ex: ex.send(200, FEED_CT, RSS, delay=1.5))
    err = fetch_error(feed(http_server.url("/slow"), policy(read_timeout=0.3)))
    assert (err.reason, err.transient) == ("timeout", True)


def test_total_timeout_stops_a_trickling_body(http_server: HTTPTestServer) -> None:
    def trickle(ex: Exchange) -> None:
        def chunks() -> Any:
            for _ in range(100):
                time.sleep(0.1)
                yield b"<!-- still here -->"

        ex.stream(200, FEED_CT, chunks())

    http_server.route("/trickle", trickle)
    started = time.monotonic()
    err = fetch_error(feed(http_server.url("/trickle"), policy(read_timeout=1.0, total_timeout=0.6)))
    assert err.reason == "timeout"
    assert time.monotonic() - started < 5  # generous: it must not wait for the 10 s body


def test_tls_failure_against_a_plain_http_port(http_server: HTTPTestServer) -> None:
    err = fetch_error(feed(f"https://127.0.0.1:{http_server.port}/feed"))
    assert err.reason == "tls"


# ---------------------------------------------------------------------------------- address safety


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # CGNAT
        "0.0.0.0",
        "224.0.0.1",  # multicast
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "not-an-ip",
    ],
)
def test_non_public_addresses_are_forbidden(address: str) -> None:
    assert is_forbidden_address(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700::6810:84e5", "::ffff:8.8.8.8"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert not is_forbidden_address(address)


def test_allow_list_opens_only_the_listed_networks() -> None:
    assert not is_forbidden_address("127.0.0.1", ("127.0.0.0/8",))
    assert not is_forbidden_address("::ffff:127.0.0.1", ("127.0.0.0/8",))
    assert is_forbidden_address("::1", ("127.0.0.0/8",))
    assert is_forbidden_address("10.0.0.1", ("127.0.0.0/8",))
    assert not is_forbidden_address("10.0.0.1", ("10.0.0.0/8",))


def test_default_policy_refuses_loopback_and_sends_nothing(http_server: HTTPTestServer) -> None:
    http_server.route("/feed", 200, FEED_CT, RSS)
    err = fetch_error(feed(http_server.url("/feed"), FetchPolicy()))
    assert err.reason == "forbidden_address"
    assert not err.transient
    # The same server by name: the check happens on the resolved address.
    err = fetch_error(feed(f"http://localhost:{http_server.port}/feed", FetchPolicy()))
    assert err.reason == "forbidden_address"
    assert http_server.paths() == []


def test_scheme_other_than_http_is_refused() -> None:
    for url in ("file:///etc/passwd", "ftp://example.org/feed", "gopher://x/", "javascript:alert(1)"):
        assert fetch_error(feed(url)).reason == "bad_scheme", url


# ------------------------------------------------------------------------------------------ redirects


def test_redirects_are_followed_and_final_url_reported(http_server: HTTPTestServer) -> None:
    http_server.route("/old", 301, {"Location": "/mid"})
    http_server.route("/mid", 302, {"Location": http_server.url("/feed")})
    http_server.route("/feed", 200, FEED_CT, RSS)
    resp = run(feed(http_server.url("/old")))
    assert resp.url == http_server.url("/feed")
    assert resp.content == RSS


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "forbidden_address"),
        ("http://[::ffff:169.254.169.254]/latest/", "forbidden_address"),
        ("file:///etc/passwd", "bad_scheme"),
    ],
)
def test_redirect_to_unsafe_target_is_refused(
    http_server: HTTPTestServer, location: str, reason: str
) -> None:
    http_server.route("/feed", 302, {"Location": location})
    assert fetch_error(feed(http_server.url("/feed"))).reason == reason


def test_redirect_to_loopback_refused_when_only_the_first_host_is_allowed(
    http_server: HTTPTestServer,
) -> None:
    pol = policy(allow_private_networks=("127.0.0.1/32",))
    http_server.route("/a", 302, {"Location": f"http://127.0.0.2:{http_server.port}/b"})
    http_server.route("/c", 302, {"Location": f"http://[::1]:{http_server.port}/b"})
    http_server.route("/b", 200, FEED_CT, RSS)
    assert fetch_error(feed(http_server.url("/a"), pol)).reason == "forbidden_address"
    assert fetch_error(feed(http_server.url("/c"), pol)).reason == "forbidden_address"
    assert "/b" not in http_server.paths()


def test_redirect_loop_and_too_many_redirects(http_server: HTTPTestServer) -> None:
    http_server.route("/loop1", 302, {"Location": "/loop2"})
    http_server.route("/loop2", 302, {"Location": "/loop1"})
    err = fetch_error(feed(http_server.url("/loop1")))
    assert err.reason == "redirect"
    assert "loop" in err.message

    for i in range(10):
        http_server.route(f"/hop{i}", 302, {"Location": f"/hop{i + 1}"})
    http_server.route("/hop10", 200, FEED_CT, RSS)
    err = fetch_error(feed(http_server.url("/hop0")))
    assert err.reason == "redirect"
    assert len(http_server.requests_to("/hop0")) == 1
    assert "/hop6" not in http_server.paths()  # 5 redirects followed, the 6th refused
    assert run(feed(http_server.url("/hop5"))).content == RSS  # exactly 5 is fine


def test_redirect_without_location(http_server: HTTPTestServer) -> None:
    http_server.route("/r", 302, {})
    assert fetch_error(feed(http_server.url("/r"))).reason == "redirect"


# ----------------------------------------------------------------------------------------- byte caps


def test_declared_length_over_cap_is_refused(http_server: HTTPTestServer) -> None:
    http_server.route("/big", 200, FEED_CT, b"x" * 5000)
    err = fetch_error(feed(http_server.url("/big"), policy(max_feed_bytes=1000)))
    assert err.reason == "too_large"


def test_endless_body_stops_at_cap(http_server: HTTPTestServer) -> None:
    def endless(ex: Exchange) -> None:
        def chunks() -> Any:
            while True:
                yield b"<item>" + b"x" * 65530

        ex.stream(200, FEED_CT, chunks())

    http_server.route("/endless", endless)
    err = fetch_error(feed(http_server.url("/endless"), policy(max_feed_bytes=256 * 1024)))
    assert err.reason == "too_large"


def test_gzip_bomb_stops_at_cap_without_inflating_it(http_server: HTTPTestServer) -> None:
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)  # 64 MiB → ~64 KiB
    http_server.route("/bomb", 200, {**FEED_CT, "Content-Encoding": "gzip"}, bomb)
    tracemalloc.start()
    try:
        err = fetch_error(feed(http_server.url("/bomb"), policy(max_feed_bytes=1024 * 1024)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.reason == "too_large"
    assert peak < 3 * 1024 * 1024, f"peak {peak} bytes while capping at 1 MiB"


def test_large_feed_is_not_loaded_before_the_cap(http_server: HTTPTestServer) -> None:
    block = b"<item><title>x</title></item>" * 2048  # ~60 KiB

    def twenty_mb(ex: Exchange) -> None:
        ex.stream(200, FEED_CT, (block for _ in range(20 * 1024 * 1024 // len(block))))

    http_server.route("/huge", twenty_mb)
    tracemalloc.start()
    try:
        err = fetch_error(feed(http_server.url("/huge"), policy(max_feed_bytes=1024 * 1024)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.reason == "too_large"
    assert peak < 3 * 1024 * 1024, f"peak {peak} bytes for a 20 MB body capped at 1 MiB"


def test_page_and_feed_caps_are_separate(http_server: HTTPTestServer) -> None:
    body = b"<html><body>" + b"p" * 3000 + b"</body></html>"
    http_server.route("/page", 200, PAGE_CT, body)
    http_server.route("/feed", 200, FEED_CT, body)
    pol = policy(max_page_bytes=1000, max_feed_bytes=10_000, respect_robots=False)
    assert fetch_error(page(http_server.url("/page"), pol)).reason == "too_large"
    assert run(feed(http_server.url("/feed"), pol)).content == body


# ----------------------------------------------------------------------------------------- politeness


def test_per_host_concurrency_is_bounded(http_server: HTTPTestServer) -> None:
    lock = threading.Lock()
    state = {"now": 0, "max": 0}

    def slow(ex: Exchange) -> None:
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.15)
        with lock:
            state["now"] -= 1
        ex.send(200, FEED_CT, RSS)

    http_server.route("/slow", slow)

    async def many() -> None:
        async with Fetcher(policy(per_host_concurrency=2)) as fetcher:
            await asyncio.gather(*(fetcher.fetch_feed(http_server.url(f"/slow?n={i}")) for i in range(6)))

    run(many())
    assert state["max"] == 2


def test_per_host_delay_spaces_request_starts(http_server: HTTPTestServer) -> None:
    http_server.route("/f", 200, FEED_CT, RSS)

    async def three() -> None:
        async with Fetcher(policy(per_host_delay=0.3, per_host_concurrency=3)) as fetcher:
            await asyncio.gather(*(fetcher.fetch_feed(http_server.url(f"/f?n={i}")) for i in range(3)))

    run(three())
    times = sorted(r.at for r in http_server.requests_to("/f"))
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(gaps) == 2
    assert all(gap >= 0.2 for gap in gaps), gaps  # 0.3 s asked; slack for connection setup


def test_robots_disallow_stops_the_page_request(http_server: HTTPTestServer) -> None:
    robots = b"User-agent: *\nDisallow: /private/\n\nUser-agent: tradewatch\nDisallow: /no-bots/\n"
    http_server.route("/robots.txt", 200, {"Content-Type": "text/plain"}, robots)
    http_server.route("/private/a", 200, PAGE_CT, HTML)
    http_server.route("/no-bots/a", 200, PAGE_CT, HTML)
    http_server.route("/public/a", 200, PAGE_CT, HTML)

    async def three() -> list[str]:
        reasons = []
        async with Fetcher(policy()) as fetcher:
            assert (await fetcher.fetch_page(http_server.url("/public/a"))).content == HTML
            for path in ("/no-bots/a", "/private/a"):
                try:
                    await fetcher.fetch_page(http_server.url(path))
                except FetchError as exc:
                    reasons.append(exc.reason)
        return reasons

    # Our own group applies (tradewatch), not the * group: /private/ is allowed for us.
    assert run(three()) == ["robots"]
    assert "/no-bots/a" not in http_server.paths()
    assert len(http_server.requests_to("/robots.txt")) == 1  # cached for the run


def test_missing_robots_allows_and_respect_robots_false_skips_it(http_server: HTTPTestServer) -> None:
    http_server.route("/a", 200, PAGE_CT, HTML)
    assert run(page(http_server.url("/a"))).content == HTML
    assert http_server.paths() == ["/robots.txt", "/a"]
    run(page(http_server.url("/a"), policy(respect_robots=False)))
    assert http_server.paths() == ["/robots.txt", "/a", "/a"]


def test_robots_5xx_is_a_transient_robots_failure(http_server: HTTPTestServer) -> None:
    http_server.route("/robots.txt", 500, {}, b"oops")
    http_server.route("/a", 200, PAGE_CT, HTML)
    err = fetch_error(page(http_server.url("/a")))
    assert (err.reason, err.transient) == ("robots", True)
    assert "/a" not in http_server.paths()


def test_feeds_ignore_robots(http_server: HTTPTestServer) -> None:
    http_server.route("/robots.txt", 200, {}, b"User-agent: *\nDisallow: /\n")
    http_server.route("/feed", 200, FEED_CT, RSS)
    assert run(feed(http_server.url("/feed"))).content == RSS
    assert "/robots.txt" not in http_server.paths()


# ---------------------------------------------------------------------------------- secrets, sync API


def test_errors_do_not_leak_userinfo_or_query(http_server: HTTPTestServer) -> None:
    http_server.route("/private-feed", 404, {}, b"")
    err = fetch_error(feed(f"http://user:hunter2@127.0.0.1:{http_server.port}/private-feed?token=s3cret"))
    assert "hunter2" not in str(err)
    assert "s3cret" not in str(err)
    assert "/private-feed" in str(err)
    assert redact_url("https://a:b@Host.example:8443/p?q=1#f") == "https://host.example:8443/p?…"


def test_fetch_page_sync(http_server: HTTPTestServer) -> None:
    http_server.route("/a", 200, PAGE_CT, HTML)
    resp = fetch_page_sync(http_server.url("/a"), policy(respect_robots=False))
    assert (resp.status, resp.content, resp.content_type, resp.charset) == (200, HTML, "text/html", "utf-8")


def test_queueing_for_a_host_slot_does_not_count_against_the_total_timeout(
    http_server: HTTPTestServer,
) -> None:
    http_server.route("/slow", lambda ex: ex.send(200, FEED_CT, RSS, delay=0.3))

    async def queued() -> list[Response]:
        async with Fetcher(policy(per_host_concurrency=1, total_timeout=1.0)) as fetcher:
            return await asyncio.gather(
                *(fetcher.fetch_feed(http_server.url(f"/slow?n={i}")) for i in range(5))
            )

    # 5 × 0.3 s one at a time is 1.5 s in total, but each request alone is well inside 1 s.
    assert [r.content for r in run(queued())] == [RSS] * 5


def _raw_server(reply: bytes) -> tuple[int, threading.Thread]:
    """A TCP server that answers one connection with raw bytes (not HTTP) and closes."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    port = sock.getsockname()[1]

    def serve() -> None:
        conn, _ = sock.accept()
        with conn:
            conn.recv(65536)
            if reply:
                conn.sendall(reply)
        sock.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return port, thread


@pytest.mark.parametrize(
    "reply", [b"", b"SSH-2.0-OpenSSH_9.6\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort"]
)
def test_broken_servers_give_a_classified_transient_error(reply: bytes) -> None:
    port, thread = _raw_server(reply)
    err = fetch_error(feed(f"http://127.0.0.1:{port}/feed"))
    assert err.reason == "connect"
    assert err.transient
    thread.join(timeout=5)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80) | st.from_regex(r"\A(https?|file|ftp|data):/{0,3}[^\s]{0,40}\Z"))
def test_any_url_string_gives_a_response_or_a_fetch_error(url: str) -> None:
    """Whatever a feed puts in a link, fetching it raises FetchError or works, nothing else."""
    transport = httpx.MockTransport(lambda request: httpx.Response(200, headers=PAGE_CT, content=HTML))

    async def attempt() -> None:
        async with Fetcher(policy(respect_robots=False), transport=transport) as fetcher:
            try:
                resp: Response | FetchError = await fetcher.fetch_page(url)
            except FetchError as exc:
                resp = exc
            if isinstance(resp, FetchError):
                assert resp.reason in {"bad_scheme", "redirect", "forbidden_address"}, resp
            else:
                assert resp.url.startswith(("http://", "https://"))
                assert resp.content == HTML

    run(attempt())


# ------------------------------------------------------------------------------------------ keep-alive


class _KeepAliveServer:
    """A raw HTTP/1.1 server that answers each connection's requests and counts connections; with
    ``hang_up`` it closes every connection right after its first response, as servers do when their
    keep-alive timeout is shorter than the client's."""

    def __init__(self, hang_up: bool, tls: ssl.SSLContext | None = None, drop_second: bool = False) -> None:
        self.hang_up = hang_up
        self.drop_second = drop_second  # read a connection's second request, then close without answering
        self.tls = tls
        self.connections = 0
        self.requests = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        if self.tls is not None:
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                conn.close()
                return  # the client refused our certificate
        with conn:
            buffer = b""
            answered = False
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                _request, buffer = buffer.split(b"\r\n\r\n", 1)
                if self.drop_second and answered:
                    return
                answered = True
                self.requests += 1
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                    + f"Content-Length: {len(HTML)}\r\n\r\n".encode()
                    + HTML
                )
                if self.hang_up:
                    return

    def url(self, path: str) -> str:
        if self.tls is not None:
            return f"https://localhost:{self.port}{path}"
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.mark.parametrize("hang_up", [False, True], ids=["kept-open", "server-hung-up"])
def test_keep_alive_reuses_open_connections_and_notices_closed_ones(hang_up: bool) -> None:
    server = _KeepAliveServer(hang_up)

    async def three_pages() -> list[bytes]:
        async with Fetcher(policy()) as fetcher:
            bodies = []
            for n in range(3):
                bodies.append((await fetcher.fetch_page(server.url(f"/p{n}"))).content)
                await asyncio.sleep(0.1)  # the hung-up connection's EOF reaches us
            return bodies

    try:
        assert run(three_pages()) == [HTML] * 3, "no request fails on a connection the server closed"
    finally:
        server.sock.close()
    # (robots.txt is one of the requests)
    assert server.connections == (server.requests if hang_up else 1)


def test_a_request_lost_on_a_reused_connection_is_sent_again_on_a_new_one() -> None:
    """The keep-alive race: the server closes an idle connection as our next request goes out on it.
    Nothing was answered, so the page is asked for again at once instead of waiting a poll interval."""
    server = _KeepAliveServer(hang_up=False, drop_second=True)

    async def two_pages() -> list[bytes]:
        async with Fetcher(policy(respect_robots=False)) as fetcher:
            return [(await fetcher.fetch_page(server.url(f"/p{n}"))).content for n in range(2)]

    try:
        assert run(two_pages()) == [HTML] * 2
    finally:
        server.sock.close()
    assert (server.connections, server.requests) == (2, 2)


def test_https_pages_are_fetched_over_verified_tls_on_one_kept_alive_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    monkeypatch.setattr(http_module, "_ssl_context", lambda: client_context)
    server = _KeepAliveServer(hang_up=False, tls=server_context)

    async def two_pages() -> list[bytes]:
        async with Fetcher(policy(respect_robots=False)) as fetcher:
            return [(await fetcher.fetch_page(server.url(f"/p{n}"))).content for n in range(2)]

    try:
        assert run(two_pages()) == [HTML, HTML]
    finally:
        server.sock.close()
    assert (server.connections, server.requests) == (1, 2)


def test_a_certificate_from_an_unknown_authority_is_refused_as_tls() -> None:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("localhost").configure_cert(server_context)
    server = _KeepAliveServer(hang_up=False, tls=server_context)
    try:
        err = fetch_error(page(server.url("/p"), policy(respect_robots=False)))
    finally:
        server.sock.close()
    assert (err.reason, err.transient) == ("tls", False)
    assert server.requests == 0, "nothing was sent over an unverified connection"
