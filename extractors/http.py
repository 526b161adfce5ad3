"""Fetch feeds and article pages safely, politely and with classified failures: the one way bytes arrive.

Every request, and every redirect hop, passes the same gates:

- scheme: http and https only (``bad_scheme``);
- address: the host is resolved here and the connection goes to the address that was vetted, so a DNS
  answer cannot change between the check and the connect (no rebinding window). Private, loopback,
  link-local, CGNAT, multicast, unspecified and reserved addresses are refused (``forbidden_address``),
  including IPv4 addresses embedded in IPv6 (``::ffff:a.b.c.d``, 6to4, Teredo, NAT64), unless
  ``FetchPolicy.allow_private_networks`` lists them. If *any* resolved address is forbidden the host is
  refused, since we cannot know which one a later connection would use;
- redirects are followed by hand (at most ``max_redirects``; loops and bad ``Location`` give ``redirect``);
- time: connect, read and a total deadline over all hops and the body (``timeout``);
- size: bodies are streamed and decompressed here, with the decompressor's output bounded, so neither an
  endless body nor a gzip bomb is held in memory past the cap (``too_large``);
- content type: only the media types that make sense for the role (feed or page) are read (``content_type``);
- politeness: a User-Agent with a contact URL, at most ``per_host_concurrency`` requests per host, a
  minimum delay between request starts to one host, and robots.txt for article pages (``robots``).

Proxies from the environment are ignored on purpose (``trust_env=False``): through a proxy the address
guard would vet the proxy, not the destination.

URLs in messages and logs pass through :func:`extractors.redact.redact_url` (no userinfo, no query
string), because feed URLs sometimes carry tokens.

Usage::

    async with Fetcher(FetchPolicy(user_agent="tradewatch/0.1 (+https://example.org/contact)")) as f:
        resp = await f.fetch_feed(url, etag=stored_etag, last_modified=stored_last_modified)
        if not resp.not_modified:
            ...
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import functools
import ipaddress
import logging
import re
import socket
import ssl
import time
import typing
import urllib.robotparser
import zlib
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from extractors.clamp import clamp_delay, parse_count
from extractors.errors import FetchError
from extractors.redact import RedactingFilter, redact_url

log = logging.getLogger(__name__)
log.addFilter(RedactingFilter())
# httpx logs every request's full URL at INFO ("HTTP Request: GET https://user:pw@host/feed?token=…").
logging.getLogger("httpx").addFilter(RedactingFilter())

_DATA = Path(__file__).parent / "data"

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# Media types read for each role. A missing Content-Type is accepted and left to the parser to judge.
# Feeds served as text/html or text/plain are common misconfigurations; the feed parser then says
# ``not_a_feed`` if they really are web pages, which tells the operator more than ``content_type``.
FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
        "application/feed+json",
        "application/json",
        "text/html",
        "text/plain",
    }
)
PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml"})

# robots.txt: RFC 9309 lets crawlers stop reading after 500 KiB.
ROBOTS_MAX_BYTES = 500 * 1024
# Largest piece inflated at once; bounds the memory a compressed body costs beyond the cap.
DECODE_PIECE = 64 * 1024
# Challenge pages are small; a large 200 page is an article, whatever words it contains.
CHALLENGE_MAX_BYTES = 64 * 1024


@dataclass(frozen=True, kw_only=True)
class FetchPolicy:
    """What a run may fetch and how politely: ``FetchPolicy(allow_private_networks=("127.0.0.0/8",))``.

    Defaults suit fetching strangers' URLs on the public internet; tests and a demo site on 127.0.0.1
    must opt in to private networks explicitly.
    """

    allow_private_networks: tuple[str, ...] = ()
    user_agent: str = "tradewatch/0.1 (+https://github.com/tradewatch/tradewatch)"
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0
    max_redirects: int = 5
    max_feed_bytes: int = 10 * 1024 * 1024
    max_page_bytes: int = 5 * 1024 * 1024
    per_host_concurrency: int = 2
    per_host_delay: float = 0.0
    respect_robots: bool = True


@dataclass(frozen=True)
class Response:
    """A successful (2xx) or not-modified (304) response with its body already read and capped.

    ``etag`` and ``last_modified`` are the validators to store for the next conditional GET; on a 304
    without them they fall back to the ones sent, so storing them again is always right.
    ``max_age`` is the server's freshness floor (Cache-Control ``max-age``) for the scheduler.
    """

    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes
    content_type: str | None
    charset: str | None
    etag: str | None
    last_modified: str | None
    max_age: float | None = field(default=None)

    @property
    def not_modified(self) -> bool:
        """True for a 304: nothing to parse, no article to fetch."""
        return self.status == 304


# --------------------------------------------------------------------------------------------- addresses


@functools.lru_cache(maxsize=64)
def _networks(cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def _embedded_ipv4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address tunnels to, since connecting there reaches that IPv4 host."""
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr.teredo is not None:
        return addr.teredo[1]
    if addr in _NAT64:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return None


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_forbidden_address(address: str | IPAddress, allow: Iterable[str] = ()) -> bool:
    """Whether connecting to ``address`` could reach something that is not the public internet.

    ``allow`` lists CIDRs the operator opted in to (e.g. ``("127.0.0.0/8",)``); an IPv6 address that
    embeds an allowed IPv4 address is allowed too.
    """
    try:
        ip: IPAddress = ipaddress.ip_address(address) if isinstance(address, str) else address
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # Translation prefixes (::ffff:0:0/96, 64:ff9b::/96, 6to4, Teredo) are not global themselves;
        # what matters is the IPv4 host the packets end up at.
        ip = _embedded_ipv4(ip) or ip
    allowed = _networks(tuple(allow))
    if any(ip.version == n.version and ip in n for n in allowed):
        return False
    return not ip.is_global or ip.is_multicast or ip.is_reserved


# ------------------------------------------------------------------------------ guarded network backend


#: How an operator who really means to fetch a private address does it (the configuration's field name).
ALLOW_HINT = " (refused by default; to allow it, list its network in [fetch] allow_private_networks)"


class _AddressRefused(Exception):
    """Raised inside the connection pool; mapped to FetchError("forbidden_address") by the Fetcher."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"{host} resolves to {address}, a non-public address{ALLOW_HINT}")


class _DNSFailed(Exception):
    """Raised inside the connection pool; mapped to FetchError("dns") by the Fetcher."""


#: How a request fails when the server closed the (reused) connection before answering it: a reset, or
#: an end of stream where the response should be. Connect errors are not here: nothing was sent. (A
#: malformed response head is a RemoteProtocolError too, and is asked for once more: harmless.)
_CONNECTION_LOST_BEFORE_RESPONSE = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, vets every address, then connects to a vetted one, so the checked IP is the used IP.

    The connection itself is httpcore's public AnyIO backend given the vetted IP literal (it resolves
    nothing more): the guard decides where to connect, the library does the I/O. A hand-written asyncio
    stream in its place saved no measurable time end to end (BENCHMARKS.md, "Issue 20").
    """

    def __init__(self, allow: tuple[str, ...], dns_timeout: float) -> None:
        self._allow = allow
        self._dns_timeout = dns_timeout
        self._io = httpcore.AnyIOBackend()

    async def _resolve(self, host: str, port: int) -> list[str]:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            return [host]
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=self._dns_timeout
            )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"DNS lookup of {host} timed out") from exc
        except (socket.gaierror, UnicodeError) as exc:
            raise _DNSFailed(f"cannot resolve {host}: {exc}") from exc
        addresses: list[str] = []
        for info in infos:
            addr = str(info[4][0])
            if addr not in addresses:
                addresses.append(addr)
        if not addresses:
            raise _DNSFailed(f"{host} has no addresses")
        return addresses

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._resolve(host, port)
        for addr in addresses:
            if is_forbidden_address(addr, self._allow):
                raise _AddressRefused(host, addr)
        last: Exception | None = None
        for addr in addresses:
            try:
                return await self._io.connect_tcp(
                    addr, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[typing.Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise _AddressRefused(path, "a unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._io.sleep(seconds)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One verifying context per process: loading the CA bundle costs ~0.1 s, sharing it is safe."""
    return httpx.create_ssl_context(trust_env=False)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool rebuilt on the guarded network backend.

    httpx has no public hook for a network backend, so the pool is replaced after construction; the
    test suite's forbidden-address tests fail loudly if a future httpx stops using ``_pool``.
    """

    def __init__(self, policy: FetchPolicy) -> None:
        super().__init__(verify=_ssl_context(), trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=_ssl_context(),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_GuardedBackend(policy.allow_private_networks, policy.connect_timeout),
        )


# ------------------------------------------------------------------------------------------- helpers


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent or invalid.

    Clamped to ``extractors.clamp.MAX_DELAY``: a server asking for 31,000 years gets a week.
    """
    if value is None:
        return None
    value = value.strip()
    seconds = parse_count(value)
    if seconds is not None:
        return clamp_delay(float(seconds))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.fromtimestamp(time.time() if now is None else now, tz=UTC)
    try:
        return clamp_delay((when - current).total_seconds())
    except OverflowError:
        return clamp_delay(float("inf"))


_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


def parse_max_age(cache_control: str | None) -> float | None:
    """The max-age of a Cache-Control header in seconds (at most ``MAX_DELAY``), or None."""
    if not cache_control:
        return None
    m = _MAX_AGE.search(cache_control)
    seconds = parse_count(m.group(1)) if m else None
    return clamp_delay(float(seconds)) if seconds is not None else None


_CHARSET = re.compile(r";\s*charset\s*=\s*\"?([^\s;\"]+)", re.IGNORECASE)


def parse_content_type(value: str | None) -> tuple[str | None, str | None]:
    """(media type lower-cased, charset) from a Content-Type header."""
    if not value:
        return None, None
    media = value.split(";", 1)[0].strip().lower() or None
    m = _CHARSET.search(value)
    return media, (m.group(1).strip("'").lower() if m else None)


@functools.cache
def _challenge_markers() -> tuple[bytes, ...]:
    lines = (_DATA / "challenge_markers.txt").read_text(encoding="utf-8").splitlines()
    return tuple(ln.strip().lower().encode() for ln in lines if ln.strip() and not ln.startswith("#"))


def looks_like_challenge(headers: Mapping[str, str], body: bytes) -> bool:
    """Whether a response is a bot-challenge interstitial rather than the content asked for."""
    if headers.get("cf-mitigated", "").lower() == "challenge":
        return True
    head = body[:CHALLENGE_MAX_BYTES].lower()
    return any(marker in head for marker in _challenge_markers())


def _tls_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ssl.SSLError | ssl.CertificateError):
            return True
        cur = cur.__cause__ or cur.__context__
    text = str(exc).lower()
    return "ssl" in text or "certificate" in text or "tls" in text


class _BoundedDecoder:
    """Decompresses gzip/deflate with the output bounded, so a bomb is stopped at the cap, not after it.

    httpx's decoders inflate each network chunk completely; a 64 KiB chunk of a bomb becomes ~64 MiB.
    """

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        self._obj: typing.Any = None
        self._first = True

    def _new(self) -> typing.Any:
        # 47 = 32 (auto-detect gzip or zlib header) + 15 (window bits)
        return zlib.decompressobj(47 if self._encoding in ("gzip", "x-gzip") else 15)

    @property
    def complete(self) -> bool:
        """True when the compressed stream reached its end marker (always True for identity bodies).

        A gzip body cut off before its trailer still inflates to a plausible prefix; without this
        check half an article would be stored as if it were the whole page.
        """
        return self._encoding in ("", "identity") or (self._obj is not None and bool(self._obj.eof))

    def decode(self, data: bytes, limit: int) -> Iterator[bytes]:
        """Output for ``data`` in pieces of at most ``DECODE_PIECE`` bytes, ``limit`` bytes in all.

        Small pieces keep the peak memory near the cap itself: a bomb is never inflated in one call.
        """
        if self._encoding in ("", "identity"):
            yield data[:limit]
            return
        if self._obj is None:
            self._obj = self._new()
        produced = 0
        pending = data
        while (pending or self._obj.unconsumed_tail) and produced < limit:
            src = pending or self._obj.unconsumed_tail
            pending = b""
            want = min(DECODE_PIECE, limit - produced)
            try:
                piece = self._obj.decompress(src, want)
            except zlib.error:
                if not (self._first and self._encoding == "deflate"):
                    raise
                # Some servers send raw deflate without the zlib header.
                self._obj = zlib.decompressobj(-15)
                piece = self._obj.decompress(src, want)
            self._first = False
            produced += len(piece)
            yield piece
            if self._obj.eof and self._obj.unused_data:
                rest = self._obj.unused_data
                self._obj = self._new()
                pending = rest


# ------------------------------------------------------------------------------------------- fetcher


@dataclass
class _HostState:
    semaphore: asyncio.Semaphore
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_start: float = float("-inf")


class Fetcher:
    """Async fetcher for one run: one httpx client, per-host politeness state and a robots.txt cache.

    Use as ``async with Fetcher(policy) as f``. ``transport`` replaces the guarded network transport
    (for tests with ``httpx.MockTransport``); then only literal IP hosts are vetted, not DNS answers.
    """

    def __init__(self, policy: FetchPolicy, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.policy = policy
        self._client = httpx.AsyncClient(
            transport=transport if transport is not None else _GuardedTransport(policy),
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(
                connect=policy.connect_timeout,
                read=policy.read_timeout,
                write=policy.read_timeout,
                pool=policy.total_timeout,
            ),
            headers={"User-Agent": policy.user_agent, "Accept-Encoding": "gzip, deflate"},
        )
        self._hosts: dict[str, _HostState] = {}
        self._robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}

    async def __aenter__(self) -> Fetcher:
        await self._client.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._client.__aexit__(exc_type, exc, tb)

    async def aclose(self) -> None:
        """Close the connection pool when not used as a context manager."""
        await self._client.aclose()

    # --------------------------------------------------------------------------------------- public

    async def fetch_feed(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> Response:
        """GET a feed, conditionally when validators are given; a 304 comes back with an empty body."""
        headers = {
            "Accept": "application/rss+xml, application/atom+xml, application/feed+json, "
            "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.1"
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        resp = await self._fetch(url, headers, self.policy.max_feed_bytes, FEED_TYPES)
        if resp.not_modified:
            return Response(
                url=resp.url,
                status=304,
                headers=resp.headers,
                content=b"",
                content_type=resp.content_type,
                charset=resp.charset,
                etag=resp.etag or etag,
                last_modified=resp.last_modified or last_modified,
                max_age=resp.max_age,
            )
        return resp

    async def fetch_page(self, url: str) -> Response:
        """GET an article page (HTML only), after checking robots.txt when the policy says so."""
        if self.policy.respect_robots:
            await self._check_robots(url)
        headers = {"Accept": "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"}
        return await self._fetch(url, headers, self.policy.max_page_bytes, PAGE_TYPES)

    # -------------------------------------------------------------------------------------- internal

    async def _fetch(
        self, url: str, headers: dict[str, str], cap: int, types: frozenset[str] | None
    ) -> Response:
        try:
            # The total deadline starts once the first request holds its per-host slot: time spent
            # queueing behind other requests to a slow host is politeness, not the server's slowness.
            async with asyncio.timeout(None) as budget:
                return await self._follow(url, headers, cap, types, budget)
        except TimeoutError as exc:
            raise FetchError(
                "timeout",
                redact_url(url),
                f"no complete response within {self.policy.total_timeout:g} s",
                transient=True,
            ) from exc

    def _vet_url(self, url: str, original: str) -> httpx.URL:
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, ValueError, TypeError) as exc:
            raise FetchError(
                "redirect" if url != original else "bad_scheme", redact_url(url), str(exc)
            ) from exc
        if parsed.scheme not in ("http", "https"):
            raise FetchError(
                "bad_scheme", redact_url(original), f"refusing {parsed.scheme or 'scheme-less'} URL"
            )
        if not parsed.host:
            raise FetchError("bad_scheme", redact_url(original), "URL has no host")
        try:
            literal = ipaddress.ip_address(parsed.host)
        except ValueError:
            pass
        else:
            if is_forbidden_address(literal, self.policy.allow_private_networks):
                raise FetchError(
                    "forbidden_address", redact_url(url), f"{literal} is not a public address{ALLOW_HINT}"
                )
        return parsed

    async def _follow(
        self,
        url: str,
        headers: dict[str, str],
        cap: int,
        types: frozenset[str] | None,
        budget: asyncio.Timeout,
    ) -> Response:
        current = url
        seen: set[str] = set()
        for hop in range(self.policy.max_redirects + 1):
            target = self._vet_url(current, url)
            seen.add(str(target))
            status, resp_headers, body_or_location = await self._one(target, headers, cap, types, budget)
            if status in REDIRECT_STATUSES:
                location = body_or_location
                assert isinstance(location, str)
                nxt = urljoin(str(target), location)
                if nxt in seen:
                    raise FetchError("redirect", redact_url(url), f"redirect loop at {redact_url(nxt)}")
                if hop == self.policy.max_redirects:
                    break
                current = nxt
                continue
            assert isinstance(body_or_location, bytes)
            media, charset = parse_content_type(resp_headers.get("content-type"))
            return Response(
                url=str(target),
                status=status,
                headers=resp_headers,
                content=body_or_location,
                content_type=media,
                charset=charset,
                etag=resp_headers.get("etag"),
                last_modified=resp_headers.get("last-modified"),
                max_age=parse_max_age(resp_headers.get("cache-control")),
            )
        raise FetchError("redirect", redact_url(url), f"more than {self.policy.max_redirects} redirects")

    def _host_state(self, host: str) -> _HostState:
        state = self._hosts.get(host)
        if state is None:
            state = _HostState(asyncio.Semaphore(max(1, self.policy.per_host_concurrency)))
            self._hosts[host] = state
        return state

    async def _one(
        self,
        target: httpx.URL,
        headers: dict[str, str],
        cap: int,
        types: frozenset[str] | None,
        budget: asyncio.Timeout,
    ) -> tuple[int, dict[str, str], bytes | str]:
        """One request to one URL: returns (status, headers, body) or (3xx, headers, Location)."""
        shown = redact_url(str(target))
        state = self._host_state(target.host)
        async with state.semaphore:
            if self.policy.per_host_delay > 0:
                async with state.lock:
                    wait = state.last_start + self.policy.per_host_delay - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    state.last_start = time.monotonic()
            if budget.when() is None:
                budget.reschedule(asyncio.get_running_loop().time() + self.policy.total_timeout)
            log.debug("GET %s", shown)
            try:
                async with contextlib.AsyncExitStack() as stack:
                    resp = await self._send(stack, target, headers, shown)
                    return await self._handle(resp, shown, cap, types)
            except FetchError:
                raise
            except _AddressRefused as exc:
                raise FetchError("forbidden_address", shown, str(exc)) from exc
            except _DNSFailed as exc:
                raise FetchError("dns", shown, str(exc), transient=True) from exc
            except httpx.TimeoutException as exc:
                raise FetchError("timeout", shown, f"{type(exc).__name__}", transient=True) from exc
            except httpx.ConnectError as exc:
                if _tls_failure(exc):
                    raise FetchError("tls", shown, f"TLS handshake failed: {exc}") from exc
                raise FetchError("connect", shown, f"cannot connect: {exc}", transient=True) from exc
            except ssl.SSLError as exc:
                raise FetchError("tls", shown, f"TLS failure: {exc}") from exc
            except httpx.UnsupportedProtocol as exc:
                raise FetchError("bad_scheme", shown, str(exc)) from exc
            except httpx.DecodingError as exc:
                raise FetchError("http_status", shown, f"undecodable body: {exc}") from exc
            except (httpx.TransportError, OSError) as exc:
                if _tls_failure(exc):
                    raise FetchError("tls", shown, f"TLS failure: {exc}") from exc
                raise FetchError("connect", shown, f"{type(exc).__name__}: {exc}", transient=True) from exc

    async def _send(
        self, stack: contextlib.AsyncExitStack, target: httpx.URL, headers: dict[str, str], shown: str
    ) -> httpx.Response:
        """Send the GET and wait for the response's head; once more on a fresh connection if the first
        attempt died before any of the response arrived.

        A server may close an idle keep-alive connection just as we reuse it (its keep-alive timeout is
        shorter than ours, and its FIN crosses our request): the request then meets a reset or an empty
        read. Nothing was answered and GET is idempotent, so a second attempt is what browsers and
        urllib3 do; failing the page would cost it a whole poll interval.
        """
        try:
            return await stack.enter_async_context(self._client.stream("GET", target, headers=headers))
        except _CONNECTION_LOST_BEFORE_RESPONSE as exc:
            log.debug("GET %s: connection lost before the response (%s); retrying once", shown, exc)
            return await stack.enter_async_context(self._client.stream("GET", target, headers=headers))

    async def _handle(
        self, resp: httpx.Response, shown: str, cap: int, types: frozenset[str] | None
    ) -> tuple[int, dict[str, str], bytes | str]:
        headers = {k.lower(): v for k, v in resp.headers.items()}
        status = resp.status_code
        if status in REDIRECT_STATUSES:
            location = headers.get("location", "").strip()
            if not location:
                raise FetchError("redirect", shown, f"HTTP {status} without Location", status=status)
            return status, headers, location
        if status == 304:
            return status, headers, b""
        retry_after = parse_retry_after(headers.get("retry-after"))
        if status == 429 or (status == 503 and retry_after is not None):
            raise FetchError(
                "rate_limited",
                shown,
                f"HTTP {status}, retry after {retry_after if retry_after is not None else '?'} s",
                transient=True,
                status=status,
                retry_after=retry_after,
            )
        if status == 403:
            raise FetchError("blocked", shown, "HTTP 403 Forbidden", status=status)
        if not 200 <= status < 300:
            if status in (503, 401) or status >= 500:
                # Bot walls often answer 503 with a challenge page.
                sample = await self._read(resp, headers, shown, CHALLENGE_MAX_BYTES, truncate=True)
                if looks_like_challenge(headers, sample):
                    raise FetchError("blocked", shown, f"HTTP {status} challenge page", status=status)
            transient = status == 408 or status >= 500
            raise FetchError(
                "http_status",
                shown,
                f"HTTP {status}",
                transient=transient,
                status=status,
                retry_after=retry_after,
            )
        media, _ = parse_content_type(headers.get("content-type"))
        if types is not None and media is not None and media not in types:
            raise FetchError("content_type", shown, f"unexpected content type {media}", status=status)
        declared = headers.get("content-length", "")
        length = parse_count(declared)
        if length is not None and length > cap and headers.get("content-encoding", "") in ("", "identity"):
            raise FetchError("too_large", shown, f"Content-Length {declared} exceeds cap of {cap} bytes")
        body = await self._read(resp, headers, shown, cap)
        small_html = (
            media in ("text/html", "application/xhtml+xml", None) and len(body) <= CHALLENGE_MAX_BYTES
        )
        if small_html and looks_like_challenge(headers, body):
            raise FetchError("blocked", shown, "challenge page instead of content", status=status)
        return status, headers, body

    async def _read(
        self,
        resp: httpx.Response,
        headers: Mapping[str, str],
        shown: str,
        cap: int,
        *,
        truncate: bool = False,
    ) -> bytes:
        """Read the decompressed body, stopping as soon as it would exceed ``cap``."""
        encoding = headers.get("content-encoding", "").strip().lower()
        out = bytearray()
        if resp.is_stream_consumed:
            # Only injected transports (httpx.MockTransport) hand over a body that is already read.
            out += resp.content[: cap + 1]
        elif encoding in ("", "identity", "gzip", "x-gzip", "deflate"):
            decoder = _BoundedDecoder(encoding)
            chunks: AsyncIterator[bytes] = resp.aiter_raw()
            try:
                async for raw in chunks:
                    for piece in decoder.decode(raw, cap + 1 - len(out)):
                        out += piece
                    if len(out) > cap:
                        break
            except zlib.error as exc:
                raise FetchError("http_status", shown, f"corrupt {encoding} body: {exc}") from exc
            if len(out) <= cap and not decoder.complete:
                raise FetchError(
                    "truncated", shown, f"{encoding} body ended before its end marker", transient=True
                )
        else:
            async for chunk in resp.aiter_bytes():
                out += chunk
                if len(out) > cap:
                    break
        if len(out) > cap:
            if truncate:
                return bytes(out[:cap])
            raise FetchError("too_large", shown, f"body exceeds cap of {cap} bytes")
        return bytes(out)

    async def _check_robots(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return  # the fetch itself reports bad_scheme
        origin = f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"
        lock = self._robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:
            if origin not in self._robots:
                self._robots[origin] = await self._load_robots(origin)
        rules = self._robots[origin]
        if rules is not None and not rules.can_fetch(self.policy.user_agent, url):
            raise FetchError("robots", redact_url(url), "disallowed by robots.txt")

    async def _load_robots(self, origin: str) -> urllib.robotparser.RobotFileParser | None:
        """robots.txt rules for an origin; None means everything is allowed (RFC 9309 for 4xx)."""
        robots_url = origin + "/robots.txt"
        try:
            resp = await self._fetch(robots_url, {"Accept": "text/plain"}, ROBOTS_MAX_BYTES, None)
        except FetchError as exc:
            if exc.reason == "http_status" and exc.status is not None and 400 <= exc.status < 500:
                return None
            if exc.reason in ("too_large", "content_type", "redirect", "blocked"):
                return None
            if exc.reason in ("http_status", "rate_limited"):
                # RFC 9309: an unreachable robots.txt (5xx) means assume full disallow, for now.
                raise FetchError(
                    "robots", exc.url, f"robots.txt unavailable ({exc.message})", transient=True
                ) from exc
            raise
        parser = urllib.robotparser.RobotFileParser(robots_url)
        parser.parse(resp.content.decode("utf-8", "replace").splitlines())
        return parser


def fetch_page_sync(url: str, policy: FetchPolicy) -> Response:
    """Fetch one article page from synchronous code (the ``tradewatch extract URL`` command)."""

    async def run() -> Response:
        async with Fetcher(policy) as fetcher:
            return await fetcher.fetch_page(url)

    return asyncio.run(run())
