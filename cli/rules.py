"""`tradewatch rules test`: backtest a rule query on the stored articles (read only), with the sentences."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cli.articles import article_rows
from cli.common import ConfigOption, fail, group, settings_for
from cli.common import since as since_arg


def rules_test(
    query: Annotated[
        str, typer.Argument(help="A rule query, e.g. 'tariff* AND (japan OR \"south korea\")'.")
    ],
    config: ConfigOption = None,
    since: Annotated[
        str | None, typer.Option(help="Only articles fetched within this window, e.g. 7d.")
    ] = "7d",
    trade_only: Annotated[
        bool, typer.Option("--trade-only", help="As a rule with trade_only = true.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array, for scripts.")] = False,
) -> None:
    """Backtest a rule: which stored articles it would have matched, with the matched sentences."""
    from alerts.rules import Document, EventFacts, RuleSyntaxError, parse
    from classifiers.events import check_rule_field

    try:
        compiled = parse(query, check_field=check_rule_field)
    except RuleSyntaxError as exc:
        raise fail(str(exc)) from None
    rows = article_rows(settings_for(config), trade_only=trade_only, limit=None, since=since_arg(since))
    hits = []
    for row in rows:
        events = tuple(
            EventFacts(
                measure=e["measure"],
                implementer=tuple(e["implementer"]),
                affected=tuple(e["affected"]),
                products=tuple(e["products"]) + tuple(e["hs_chapters"]),
                sentence=e["evidence"].get("measure", ""),
            )
            for e in row["events"]
        )
        document = Document(title=row["title"], text=row["text"], source=row["feed"] or "", events=events)
        match = compiled.match(document)
        if match is not None:
            hits.append(
                {
                    "title": row["title"],
                    "url": row["url"],
                    "feed": row["feed"],
                    "is_trade": row["is_trade"],
                    "field": match.field,
                    "sentence": match.sentence,
                    "hit": match.sentence[match.hit_start : match.hit_end],
                }
            )
    if as_json:
        typer.echo(json.dumps(hits, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{len(hits)} of {len(rows)} stored article(s) match {query!r}")
    for hit in hits:
        sentence, start = hit["sentence"], hit["sentence"].find(hit["hit"])
        quoted = sentence[:start] + "**" + hit["hit"] + "**" + sentence[start + len(hit["hit"]) :]
        typer.echo(f"\n- {hit['title']}\n  {hit['url']}\n  [{hit['field']}] {quoted}")


def register(app: typer.Typer) -> None:
    """Add the `rules` group to the tradewatch app."""
    rules = group(app, "rules", "Alert rules.")
    rules.command("test")(rules_test)
