"""`tradewatch init` and `tradewatch config check`: a commented starter configuration, and a checker for any.

The starter file is built from ``seeds/feeds.toml`` and ``seeds/rules.toml`` (copied with their comments,
so the reasons a feed or rule was chosen travel with it), with every channel the example rules use defined
as an ``env:`` placeholder: no token is ever written into a file a person may commit.

The checker reports problems the way a compiler does, ``file:line:column: field: message``, because an
operator with a 200-line file needs to be taken to the line, not told ``rules[7]``. TOML syntax errors
carry tomllib's position; validation errors are located by finding the ``[[feeds]]``/``[[rules]]`` block
and the key in the text; a rule whose query does not parse points at the character inside the query.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from alerts.rules import RuleSyntaxError, parse
from flows.settings import (
    DEFAULT_CONFIG,
    ENV_CONFIG,
    ConfigError,
    Settings,
    error_message,
    load_settings,
)

#: Section markers in the starter file; the README's demo edit replaces everything between the first two.
FEEDS_MARKER = "# --- feeds " + "-" * 88
ALERTS_MARKER = "# --- alerts " + "-" * 87
SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED_FEEDS = SEEDS / "feeds.toml"
SEED_RULES = SEEDS / "rules.toml"

#: apprise URL forms shown next to each placeholder, by the kind of channel its name suggests.
_URL_FORMS = {
    "email": [
        "mailto://USER:PASSWORD@smtp.example.com:587?from=alerts@example.com&to=desk@example.org",
        "mailtos://USER:PASSWORD@smtp.example.com?from=alerts@example.com&to=desk@example.org  (TLS)",
        "mailto://127.0.0.1:8025?from=alerts@example.com&to=desk@example.org&mode=insecure  (local relay)",
    ],
    "slack": [
        "https://hooks.slack.com/services/T000/B000/XXXX  (an incoming-webhook URL, as Slack shows it)",
        "slack://TOKEN_A/TOKEN_B/TOKEN_C/#channel",
    ],
}


def channel_env_var(channel: str) -> str:
    """The variable a starter channel reads its URL from: ``desk-email`` → ``TRADEWATCH_DESK_EMAIL_URL``."""
    return "TRADEWATCH_" + re.sub(r"[^A-Za-z0-9]+", "_", channel).strip("_").upper() + "_URL"


def _body(text: str) -> str:
    """A seed file without its leading comment block (which speaks about the seed file, not the config)."""
    lines = text.splitlines()
    start = 0
    while start < len(lines) and (not lines[start].strip() or lines[start].lstrip().startswith("#")):
        start += 1
    # Keep the comment lines that belong to the first entry: walk back over the contiguous comments.
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return "\n".join(lines[start:]).strip() + "\n"


def _seed_channels(rules_text: str) -> list[str]:
    """Channel names the example rules send to, in first-use order."""
    names: list[str] = []
    for rule in tomllib.loads(rules_text).get("rules", []):
        for channel in rule.get("channels", []):
            if channel not in names:
                names.append(channel)
    return names


def _channel_lines(channels: list[str]) -> list[str]:
    lines = [
        "[channels]",
        "# Where alerts go: a name the rules use = an apprise URL (https://github.com/caronc/apprise/wiki).",
        "# URLs carry passwords and tokens, so keep them out of this file: env:NAME reads the environment",
        "# variable NAME when an alert is sent, secret:BLOCK reads a Prefect Secret block. tradewatch never",
        "# logs these URLs. `tradewatch config check` warns about env: variables that are not set.",
    ]
    for name in channels:
        kind = "email" if "mail" in name else "slack" if "slack" in name else ""
        lines.append("#")
        forms = _URL_FORMS.get(kind, _URL_FORMS["email"] + _URL_FORMS["slack"])
        lines.append(f"# {name}: export {channel_env_var(name)}=<apprise URL>, for example")
        lines += [f"#   {form}" for form in forms]
        lines.append(f'{name} = "env:{channel_env_var(name)}"')
    return lines


def render_starter_config() -> str:
    """The commented starter configuration: default database, safe fetch options, seed feeds and rules."""
    try:
        feeds_text = SEED_FEEDS.read_text(encoding="utf-8")
        rules_text = SEED_RULES.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read the seed feeds and rules ({exc}); run `tradewatch init` from a full tradewatch "
            "checkout, which has seeds/feeds.toml and seeds/rules.toml"
        ) from None
    header = [
        "# tradewatch configuration, written by `tradewatch init`.",
        "#",
        "# Check it with `tradewatch config check --config THIS_FILE`, then run it with",
        "# `tradewatch run --config THIS_FILE`. The layout is a public interface: fields are added, never",
        "# renamed. Everything except [[feeds]] has a default, so delete what you do not need.",
        "",
        "[database]",
        "# Any SQLAlchemy URL. A relative SQLite path is relative to the directory tradewatch runs in;",
        "# for PostgreSQL use postgresql://user:password@host/dbname (psycopg 3).",
        "# TRADEWATCH_DATABASE_URL in the environment overrides this.",
        'url = "sqlite:///data/tradewatch.db"',
        "",
        "[fetch]",
        "# Feeds choose the URLs tradewatch fetches, so private, loopback and link-local addresses are",
        '# refused unless listed here as CIDR networks. A feed on this machine needs ["127.0.0.0/8"].',
        "allow_private_networks = []",
        "# Identify yourself to publishers; many block anonymous clients.",
        '# user_agent = "tradewatch/0.1 (+https://your.site/contact)"',
        "# respect_robots = true           # obey robots.txt for article pages",
        "# per_host_concurrency = 2        # parallel requests to one host",
        "# per_host_delay = 0.0            # seconds between requests to one host",
        "# connect_timeout = 10.0          # seconds; also read_timeout = 20.0, total_timeout = 60.0",
        "# max_redirects = 5",
        "# max_feed_bytes = 10485760       # 10 MiB, after decompression",
        "# max_page_bytes = 5242880        # 5 MiB, after decompression",
        "# max_articles_per_feed = 100     # new entries fetched per feed per run; the rest wait",
        "",
        FEEDS_MARKER,
        "# One [[feeds]] block per RSS, Atom or JSON feed: a name for people, the URL, free-form tags",
        "# (`tradewatch run --feed TAG` polls only the feeds with that tag). These are real public",
        "# trade-news feeds; check them with `tradewatch run` and `tradewatch feeds status`, and remove any",
        "# that fail.",
        "",
        _body(feeds_text).rstrip(),
        "",
        ALERTS_MARKER,
        *_channel_lines(_seed_channels(rules_text)),
        "",
        "# One [[rules]] block per alert. Query language: words match whole words, case-insensitively, with",
        '# simple plurals; "quoted phrases"; AND (or a space), OR, NOT, parentheses; a trailing * matches',
        "# a prefix.",
        "# trade_only = true alerts only on articles the classifier judged to be international trade.",
        '# mode = "digest" with digest = "hourly" or "daily" batches matches into one message per channel.',
        "# Try a query on what is already stored with `tradewatch rules test 'QUERY'`.",
        "",
        _body(rules_text).rstrip(),
        "",
        "[classifier]",
        "# A model trained on your own labels with `tradewatch classifier train`; default: the built-in",
        "# lexicon.",
        '# model = "models/trade.json"',
        "",
    ]
    return "\n".join(header)


def write_starter_config(path: Path) -> Path:
    """Write the starter configuration to ``path`` (creating its directory); never overwrite a file.

    Raises FileExistsError naming the file and the way out, so a configuration someone has edited is
    never lost to a second `tradewatch init`.
    """
    text = render_starter_config()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open(
            "x", encoding="utf-8"
        ) as handle:  # "x": the existence check and the create are one step
            handle.write(text)
    except FileExistsError:
        raise FileExistsError(
            f"{path} already exists; tradewatch init never overwrites a configuration. Check it with "
            f"`tradewatch config check --config {path}`, or choose another path: `tradewatch init NEW.toml`"
        ) from None
    return path


# --- config check ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One finding of `config check`, positioned in the file when the position is known."""

    severity: str  # "error" | "warning"
    message: str
    field: str = ""
    line: int | None = None
    column: int | None = None

    def format(self, path: str) -> str:
        """``path:line:column: severity: field: message``, the form editors and terminals link to."""
        where = path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        subject = f"{self.field}: " if self.field else ""
        return f"{where}: {self.severity}: {subject}{self.message}"


@dataclass
class CheckResult:
    """Everything `config check` found; the configuration is usable when there are no errors."""

    path: str
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    feeds: int = 0
    rules: int = 0
    channels: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "valid": self.ok,
            "feeds": self.feeds,
            "rules": self.rules,
            "channels": self.channels,
            "errors": [asdict(p) for p in self.errors],
            "warnings": [asdict(p) for p in self.warnings],
        }

    def lines(self) -> list[str]:
        out = [p.format(self.path) for p in [*self.errors, *self.warnings]]
        if self.ok:
            out.append(
                f"{self.path}: ok ({self.feeds} feeds, {self.rules} rules, {self.channels} channels"
                f"{f', {len(self.warnings)} warning(s)' if self.warnings else ''})"
            )
        else:
            out.append(f"{self.path}: {len(self.errors)} error(s); tradewatch will refuse this configuration")
        return out


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_-]+)\s*\]\]")
_TABLE_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]")
_KEY = re.compile(r"""^\s*(?:"([^"]+)"|'([^']+)'|([A-Za-z0-9_-]+))\s*=""")


def _locate(text: str, loc: tuple[str | int, ...]) -> tuple[int | None, int | None]:
    """Line (1-based) of a validation error's location, found in the TOML text; (None, None) if unknown.

    ``("feeds", 2, "url")`` is the ``url =`` line of the third ``[[feeds]]`` block; ``("fetch", "x")``
    the ``x =`` line of ``[fetch]``; a location without a key is the block's header line.
    """
    if not loc or not isinstance(loc[0], str):
        return None, None
    section, rest = loc[0], list(loc[1:])
    index = rest.pop(0) if rest and isinstance(rest[0], int) else None
    key = rest[0] if rest and isinstance(rest[0], str) else None
    lines = text.splitlines()
    block_start: int | None = None
    block_end = len(lines)
    seen = -1
    for number, line in enumerate(lines):
        array, table = _ARRAY_HEADER.match(line), _TABLE_HEADER.match(line)
        if block_start is not None and (array or table):
            block_end = number
            break
        if index is not None and array and array.group(1) == section:
            seen += 1
            if seen == index:
                block_start = number
        elif index is None and table and not array and table.group(1) == section:
            block_start = number
    if block_start is None:
        return None, None
    if key is not None:
        for number in range(block_start + 1, block_end):
            match = _KEY.match(lines[number])
            if match and key in match.groups():
                return number + 1, match.start() + len(lines[number]) - len(lines[number].lstrip()) + 1
    return block_start + 1, 1


def _field_name(loc: tuple[str | int, ...]) -> str:
    return ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in loc).replace(".[", "[")


def _query_position(text: str, line: int | None, position: int) -> int | None:
    """Column of character ``position`` of a one-line query on ``line``, walking over TOML escapes."""
    if line is None:
        return None
    source = text.splitlines()[line - 1]
    match = re.match(r"""^\s*query\s*=\s*(["'])""", source)
    if not match:
        return None
    column, decoded = match.end(), 0
    escape_widths = {"u": 6, "U": 10}
    while decoded < position and column < len(source):
        if match.group(1) == '"' and source[column] == "\\" and column + 1 < len(source):
            column += escape_widths.get(source[column + 1], 2)
        else:
            column += 1
        decoded += 1
    return column + 1


def _rule_problems(text: str, raw: dict[str, Any]) -> dict[int, Problem]:
    """Queries that do not parse, pointing at the character where parsing stopped."""
    problems: dict[int, Problem] = {}
    rules = raw.get("rules", [])
    if not isinstance(rules, list):
        return problems
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict) or not isinstance(rule.get("query"), str):
            continue
        try:
            parse(rule["query"])
        except RuleSyntaxError as exc:
            line, _ = _locate(text, ("rules", index, "query"))
            name = rule.get("name", "")
            caret = str(exc).split("\n", 1)[1] if "\n" in str(exc) else ""
            problems[index] = Problem(
                "error",
                f"{exc.message} (at position {exc.position} of the query)\n{caret}",
                f"rules[{index}] ({name!r}).query",
                line,
                _query_position(text, line, exc.position),
            )
    return problems


def _message(error: Any) -> str:
    """Pydantic's message in the words load_settings uses, so check and run say the same thing."""
    return error_message(error)


def _cross_reference_location(message: str) -> tuple[str | int, ...]:
    """The model-level checks name their location in the message (``rules[2] ('x').channels: ...``)."""
    match = re.match(r"^(feeds|rules)\[(\d+)\](?: \([^)]*\))?(?:\.(\w+))?", message)
    if match:
        section, index, key = match.groups()
        return (section, int(index), key) if key else (section, int(index))
    return ()


def _validation_problems(text: str, raw: dict[str, Any], exc: ValidationError) -> list[Problem]:
    rule_errors = _rule_problems(text, raw)
    problems = list(rule_errors.values())
    for error in exc.errors():
        loc = tuple(error["loc"])
        if len(loc) >= 2 and loc[0] == "rules" and loc[1] in rule_errors:
            continue  # already reported with the position inside the query
        message = _message(error)
        if not loc:
            loc = _cross_reference_location(message)
            line, column = _locate(text, loc)
            problems.append(Problem("error", message, "", line, column))
            continue
        line, column = _locate(text, loc)
        problems.append(Problem("error", message, _field_name(loc), line, column))
    return problems


def _warnings(text: str, settings: Settings) -> list[Problem]:
    warnings: list[Problem] = []
    if not settings.feeds:
        warnings.append(
            Problem("warning", "no [[feeds]] configured; `tradewatch run` needs at least one (name, url)")
        )
    used = {channel for rule in settings.rules for channel in rule.channels}
    for name, value in settings.channels.items():
        line, column = _locate(text, ("channels", name))
        if value.startswith("env:") and not os.environ.get(value[4:]):
            warnings.append(
                Problem(
                    "warning",
                    f"reads its URL from ${value[4:]}, which is not set here; alerts to it will wait and be "
                    f"retried until you `export {value[4:]}=<apprise URL>` where tradewatch runs",
                    f"channels.{name}",
                    line,
                    column,
                )
            )
        if name not in used:
            warnings.append(
                Problem("warning", "no rule sends to this channel", f"channels.{name}", line, column)
            )
    return warnings


def check_config(path: str | Path | None = None) -> CheckResult:
    """Validate a configuration file the way `tradewatch run` will, with every problem positioned.

    Errors make the configuration unusable; warnings (an ``env:`` channel whose variable is not set, a
    channel no rule uses, no feeds) do not, but would surprise someone at the first alert.
    """
    source = str(path or os.environ.get(ENV_CONFIG) or DEFAULT_CONFIG)
    result = CheckResult(path=source)
    try:
        text = Path(source).read_text(encoding="utf-8")
    except FileNotFoundError:
        result.errors.append(
            Problem(
                "error", f"file not found; create a starter configuration with `tradewatch init {source}`"
            )
        )
        return result
    except (OSError, UnicodeDecodeError) as exc:
        result.errors.append(Problem("error", f"cannot read the file: {exc}"))
        return result
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        position = _TOML_POSITION.search(message)
        line, column = (int(position.group(1)), int(position.group(2))) if position else (None, None)
        result.errors.append(
            Problem("error", f"not valid TOML: {_TOML_POSITION.sub('', message)}", "", line, column)
        )
        return result
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        problems = _validation_problems(text, raw, exc)
        result.errors.extend(sorted(problems, key=lambda p: p.line or 0))
        return result
    try:  # the ground truth: exactly what `tradewatch run` does, environment overrides included
        settings = load_settings(source)
    except ConfigError as exc:
        result.errors.append(Problem("error", str(exc)))
        return result
    result.feeds, result.rules, result.channels = (
        len(settings.feeds),
        len(settings.rules),
        len(settings.channels),
    )
    result.warnings.extend(_warnings(text, settings))
    return result
