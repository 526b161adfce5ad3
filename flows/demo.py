"""The bundled demo: the demo news site on 127.0.0.1 and a local SMTP sink, both real servers.

``tradewatch demo`` and the end-to-end tests share these, so what the demo shows is what is tested.
The site serves ``seeds/demo/`` and replaces ``{{BASE_URL}}`` in its feeds and pages with the address
it actually listens on.
"""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEEDS = PROJECT_ROOT / "seeds"
DEMO_SITE = SEEDS / "demo"
DEMO_CONFIG_TEMPLATE = DEMO_SITE / "tradewatch.toml"
BASE_URL_TOKEN = "{{BASE_URL}}"  # noqa: S105 (a template token, not a password)
#: The demo site's fixed port: a second `make demo` sees the same feed and article URLs and therefore
#: stores and alerts nothing new. There is no fallback to another port, which would change every URL and
#: store and alert everything again; a busy port is an error that says so.
DEMO_PORT = 8765
_TEMPLATED = {".xml", ".html", ".htm", ".json", ".txt"}


class _DemoHandler(SimpleHTTPRequestHandler):
    base_url = ""

    def send_head(self) -> Any:  # serve templated files with the real base URL substituted
        path = Path(self.translate_path(self.path))
        if path.is_file() and path.suffix in _TEMPLATED:
            body = path.read_bytes().replace(BASE_URL_TOKEN.encode(), self.base_url.encode())
            self.send_response(200)
            ctype = {
                ".xml": "application/xml; charset=utf-8",
                ".json": "application/feed+json; charset=utf-8",
                ".txt": "text/plain; charset=utf-8",
            }.get(path.suffix, "text/html; charset=utf-8")
            if path.name.startswith("atom"):
                ctype = "application/atom+xml; charset=utf-8"
            elif path.name.startswith("rss"):
                ctype = "application/rss+xml; charset=utf-8"
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            import io

            return io.BytesIO(body)
        return super().send_head()

    def log_message(self, format: str, *args: Any) -> None:  # keep the demo's output readable
        return


@contextmanager
def serve_site(root: Path = DEMO_SITE, *, port: int = 0) -> Iterator[str]:
    """Serve ``root`` on 127.0.0.1 in a background thread; yields the base URL.

    ``port=0`` takes a free port (tests); a given port that is taken raises OSError.
    """
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(root))
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    server.RequestHandlerClass.base_url = base_url  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, name="demo-site", daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        server.shutdown()
        server.server_close()


def _handler_for(root: Path) -> type[_DemoHandler]:
    directory = str(root)

    class Handler(_DemoHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=directory, **kwargs)

    return Handler


@dataclass
class SmtpSink:
    """A real SMTP server that keeps what it receives (and can print it as it arrives)."""

    host: str = "127.0.0.1"
    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    on_message: Callable[[EmailMessage], None] | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd handler hook
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        if self.on_message is not None:
            self.on_message(message)
        return "250 OK"


@contextmanager
def smtp_sink(
    on_message: Callable[[EmailMessage], None] | None = None, *, port: int = 0
) -> Iterator[SmtpSink]:
    """Start an SMTP sink on 127.0.0.1 (a free port unless given); yields it with ``port`` filled in.

    aiosmtpd is the ``demo`` extra: `pip install .` (a Prefect worker) has no use for an SMTP server, and
    `tradewatch demo --site-only` serves the site without one."""
    require_smtp_sink()
    from aiosmtpd.controller import Controller

    sink = SmtpSink(on_message=on_message)
    controller = Controller(sink, hostname="127.0.0.1", port=port or free_port())
    controller.start()
    sink.port = controller.port
    try:
        yield sink
    finally:
        controller.stop()


def require_smtp_sink() -> None:
    """Raise ConfigError naming the extra when aiosmtpd is missing: checked before anything starts, so
    the person sees one line, not a served site followed by an error."""
    import importlib.util

    if importlib.util.find_spec("aiosmtpd") is None:
        from flows.settings import ConfigError

        raise ConfigError(
            "tradewatch demo needs aiosmtpd for its SMTP sink, which this installation lacks: "
            "pip install 'tradewatch[demo]' (or serve only the site: tradewatch demo --site-only)"
        )


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def render_demo_config(base_url: str, smtp_port: int, database_url: str, target: Path) -> Path:
    """Write the demo configuration with the live addresses filled in; it is a normal config file."""
    text = DEMO_CONFIG_TEMPLATE.read_text(encoding="utf-8")
    text = text.replace(BASE_URL_TOKEN, base_url).replace("{{SMTP_PORT}}", str(smtp_port))
    text = text.replace("{{DATABASE_URL}}", database_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def body_text(message: EmailMessage) -> str:
    """The plain-text part of a received alert (or the HTML part when there is no plain one)."""
    part = message.get_body(preferencelist=("plain", "html"))
    return str(part.get_content()) if part is not None else ""
