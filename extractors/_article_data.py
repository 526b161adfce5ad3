"""Load the extraction data files (boilerplate phrases, wall stubs, per-site rules) once per process."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree

DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True)
class SiteRule:
    """Where one site keeps its article body and which of its blocks are never article text."""

    body: tuple[etree.XPath, ...] = ()
    junk: tuple[etree.XPath, ...] = ()


def _pattern_lines(name: str) -> list[str]:
    lines = (DATA_DIR / name).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _whole_paragraph_regex(name: str) -> re.Pattern[str]:
    """One alternation of every pattern in a file, anchored so it only ever matches a whole paragraph."""
    patterns = _pattern_lines(name)
    for pattern in patterns:
        re.compile(pattern)  # fail at load with the offending line, not with a huge alternation error
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


@cache
def boilerplate_regex() -> re.Pattern[str]:
    """Paragraphs that are never article text wherever they appear (boilerplate.txt)."""
    return _whole_paragraph_regex("boilerplate.txt")


@cache
def tail_regex() -> re.Pattern[str]:
    """Headings after which the rest of the extracted text is not the article (boilerplate_tail.txt)."""
    return _whole_paragraph_regex("boilerplate_tail.txt")


@dataclass(frozen=True)
class WallStubs:
    """Phrases that betray a paywall or a consent wall standing in for the article."""

    paywall: re.Pattern[str]
    consent: re.Pattern[str]


@cache
def wall_stubs() -> WallStubs:
    """Load boilerplate_walls.toml: substring regexes, searched in the visible text of short pages."""
    with (DATA_DIR / "boilerplate_walls.toml").open("rb") as handle:
        data = tomllib.load(handle)

    def compile_any(patterns: list[str]) -> re.Pattern[str]:
        return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)

    return WallStubs(paywall=compile_any(data["paywall"]), consent=compile_any(data["consent"]))


def _xpaths(expressions: list[str]) -> tuple[etree.XPath, ...]:
    return tuple(etree.XPath(expression) for expression in expressions)


@cache
def _site_rules() -> tuple[SiteRule, dict[str, SiteRule]]:
    with (DATA_DIR / "site_rules.toml").open("rb") as handle:
        data = tomllib.load(handle)
    default = data.get("default", {})
    default_rule = SiteRule(body=_xpaths(default.get("body", [])), junk=_xpaths(default.get("junk", [])))
    sites = {
        host.lower(): SiteRule(body=_xpaths(rule.get("body", [])), junk=_xpaths(rule.get("junk", [])))
        for host, rule in data.get("sites", {}).items()
    }
    return default_rule, sites


def default_rule() -> SiteRule:
    """The rule that applies to every page."""
    return _site_rules()[0]


def site_rule(host: str | None) -> SiteRule | None:
    """The rule of the most specific configured domain that ``host`` belongs to, if any."""
    if not host:
        return None
    sites = _site_rules()[1]
    labels = host.lower().rstrip(".").split(".")
    for start in range(len(labels) - 1):
        rule = sites.get(".".join(labels[start:]))
        if rule is not None:
            return rule
    return None
