"""`tradewatch report`: what the pipeline found in a period, as one HTML file, markdown or JSON.

The report itself (data, charts, templates) is the ``reports`` package; this module reads the options,
opens the store read-only and writes the file.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from cli.common import ConfigOption, fail, settings_for, store, window


def report_command(
    config: ConfigOption = None,
    since: Annotated[str, typer.Option(help="The period: 30m, 12h, 7d, 2w ...")] = "7d",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Where to write it (default report.html, or report.md); '-' is stdout."
        ),
    ] = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="Write markdown instead of HTML.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report's numbers as JSON instead of writing a file.")
    ] = False,
) -> None:
    """A self-contained HTML report: trade articles per day and source, top rules, feeds in trouble."""
    from sqlmodel import Session

    from reports.data import build_report
    from reports.render import period_text, render_html, render_markdown

    period = window(since)
    settings = settings_for(config)
    now = datetime.now(UTC)
    with store(settings, write=False) as engine, Session(engine) as session:
        data = build_report(session, now - period, now)
    if as_json:
        typer.echo(json.dumps(data.as_json(), ensure_ascii=False, indent=2))
        return
    text = render_markdown(data) if markdown else render_html(data)
    target = output or Path("report.md" if markdown else "report.html")
    if str(target) == "-":
        sys.stdout.write(text)
        return
    if not target.parent.is_dir():  # a mistyped --output must not create folders
        raise fail(f"--output {target}: the folder {target.parent} does not exist; create it or fix the path")
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"{target}: cannot write the report: {exc}", code=1) from None
    typer.echo(
        f"wrote {target}: {len(data.trade)} trade articles from {len(data.per_source)} sources, "
        f"{len(data.troubled)} feeds in trouble, {period_text(data)}"
    )


def register(app: typer.Typer) -> None:
    """Add `report` to the tradewatch app."""
    app.command("report")(report_command)
