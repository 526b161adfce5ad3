"""`tradewatch extract`: one page (a file or a URL) through the article extractor, printed as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.common import ConfigOption, fail, settings_for


def extract(
    source: Annotated[str, typer.Argument(help="An HTML file, or an http(s) URL to fetch.")],
    config: ConfigOption = None,
) -> None:
    """Print the extracted article (title, author, published, url, text) as JSON."""
    from extractors.article import extract as extract_article
    from extractors.errors import StageError

    url: str | None = None
    try:
        if source.startswith(("http://", "https://")):
            from extractors.http import fetch_page_sync

            response = fetch_page_sync(source, settings_for(config, required=False).fetch.policy())
            html: bytes = response.content
            url = response.url
        else:
            path = Path(source)
            if not path.is_file():
                raise fail(f"{source}: no such file; give an HTML file path or an http(s):// URL")
            html = path.read_bytes()
        article = extract_article(html, url)
    except StageError as exc:
        raise fail(str(exc), code=1) from None
    payload = {
        "title": article.title,
        "author": article.author,
        "published": article.published.isoformat() if article.published else None,
        "url": article.url or url,
        "canonical_url": article.canonical_url,
        "language": article.language,
        "text": article.text,
    }
    typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))


def register(app: typer.Typer) -> None:
    """Add `extract` to the tradewatch app."""
    app.command()(extract)
