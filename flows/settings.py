"""Configuration: the TOML file users write, validated once; the only module that reads the environment.

The TOML layout is a public interface (``[database]``, ``[fetch]``, ``[[feeds]]``, ``[channels]``,
``[[rules]]``, ``[classifier]``, ``[stories]``): extend it, never rename. Every problem becomes a
``ConfigError`` that names the file, the field and the fix, and the CLI turns it into exit status 2.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from alerts.rules import RuleSyntaxError, parse
from classifiers.events import check_rule_field
from flows.durations import parse_duration

if TYPE_CHECKING:  # imported where used: `--help` and `config check` must not pay for httpx and SQLAlchemy
    from extractors.http import FetchPolicy
    from storage.repo import FeedSpec, RuleSpec

#: Environment variables that override the file (for containers and CI).
ENV_CONFIG = "TRADEWATCH_CONFIG"
ENV_DATABASE_URL = "TRADEWATCH_DATABASE_URL"
DEFAULT_CONFIG = "tradewatch.toml"


class ConfigError(Exception):
    """Unusable configuration; the message names the field and what to do about it."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: The database the starter file and the defaults use. Its folder (``./data``) is the one folder tradewatch
#: creates by itself; any other SQLite folder must exist, so a mistyped path fails instead of creating one.
DEFAULT_DATABASE_URL = "sqlite:///data/tradewatch.db"
_DATABASE_FIX = (
    "use sqlite:///RELATIVE/PATH.db, sqlite:////ABSOLUTE/PATH.db or postgresql://user:pass@host/db"
)


class DatabaseSettings(_Section):
    url: str = Field(
        DEFAULT_DATABASE_URL,
        description="A SQLite or PostgreSQL URL; relative SQLite paths are from the working directory.",
    )

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        database_url_problem(value, check_files=False)
        return value


def database_url_problem(url: str, *, check_files: bool = True) -> None:
    """Raise ValueError naming what is wrong with a database URL and the fix; None when it is usable.

    Checked before any engine is built, so a typo never reaches SQLAlchemy (whose errors are long) and a
    mistyped SQLite path never creates a folder. ``check_files`` adds the checks that depend on where the
    command runs: the folder exists, is writable, the path is not a folder; PostgreSQL's driver is installed.
    """
    scheme, sep, rest = url.partition("://")
    backend = scheme.split("+", 1)[0].lower()
    if not sep:
        raise ValueError(f"{url!r} is not a database URL; {_DATABASE_FIX}")
    if backend == "postgres":
        raise ValueError(f"{scheme}:// is not a SQLAlchemy scheme; write the same URL with postgresql://")
    if backend == "postgresql":
        if check_files and importlib.util.find_spec("psycopg") is None:  # the [postgres] extra
            raise ValueError(
                "PostgreSQL needs psycopg, which this installation lacks: pip install 'tradewatch[postgres]'"
            )
        return
    if backend != "sqlite":
        raise ValueError(
            f"{scheme}:// is not supported (tradewatch stores in SQLite or PostgreSQL); {_DATABASE_FIX}"
        )
    path = rest[1:] if rest.startswith("/") else rest
    path = path.split("?", 1)[0]
    if not path or path == ":memory:" or path.startswith("file:") or not check_files:
        return
    file = Path(path).expanduser()
    folder = file.parent
    if file.is_dir():
        raise ValueError(f"{file} is a folder; name a file inside it, such as {file / 'tradewatch.db'}")
    if url == DEFAULT_DATABASE_URL and not folder.exists() and folder.parent.is_dir():
        return  # ./data is created on first use
    if not folder.is_dir():
        raise ValueError(
            f"the folder {folder.absolute()} does not exist; "
            f"create it (mkdir -p {folder}) or correct the path"
        )
    if not os.access(folder, os.W_OK | os.X_OK) or (file.exists() and not os.access(file, os.R_OK | os.W_OK)):
        raise ValueError(f"{file} is not writable by this user; fix its permissions or choose another path")


class FetchSettings(_Section):
    allow_private_networks: list[str] = Field(
        default_factory=list, description="CIDRs the fetcher may reach; default none."
    )
    user_agent: str = "tradewatch/0.1 (+https://github.com/tradewatch/tradewatch)"
    connect_timeout: float = Field(10.0, gt=0)
    read_timeout: float = Field(20.0, gt=0)
    total_timeout: float = Field(60.0, gt=0)
    max_redirects: int = Field(5, ge=0, le=20)
    max_feed_bytes: int = Field(10 * 1024 * 1024, gt=0)
    max_page_bytes: int = Field(5 * 1024 * 1024, gt=0)
    per_host_concurrency: int = Field(2, ge=1)
    per_host_delay: float = Field(0.0, ge=0)
    respect_robots: StrictBool = True
    max_articles_per_feed: int = Field(
        100, ge=1, description="New entries fetched per feed per run; the rest wait."
    )

    @field_validator("allow_private_networks")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise ValueError(f"{cidr!r} is not a CIDR network such as '127.0.0.0/8'") from exc
        return value

    def policy(self) -> FetchPolicy:
        """The fetcher's view of these settings."""
        from extractors.http import FetchPolicy

        return FetchPolicy(
            allow_private_networks=tuple(self.allow_private_networks),
            user_agent=self.user_agent,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            total_timeout=self.total_timeout,
            max_redirects=self.max_redirects,
            max_feed_bytes=self.max_feed_bytes,
            max_page_bytes=self.max_page_bytes,
            per_host_concurrency=self.per_host_concurrency,
            per_host_delay=self.per_host_delay,
            respect_robots=self.respect_robots,
        )


class FeedSettings(_Section):
    name: str = Field(min_length=1)
    url: str
    tags: list[str] = Field(default_factory=list)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.lower().startswith(("http://", "https://")):
            raise ValueError(f"{value!r} must be an http:// or https:// URL")
        return value


class RuleSettings(_Section):
    name: str = Field(min_length=1)
    query: str
    channels: list[str] = Field(min_length=1)
    trade_only: StrictBool = False
    mode: Literal["instant", "digest"] = "instant"
    digest: Literal["hourly", "daily"] | None = None
    group: Literal["story", "article"] = Field(
        "story",
        description='"story": one alert per story however many outlets carry it; "article": every copy.',
    )
    follow_up_outlets: int = Field(
        0,
        ge=0,
        description="One 'also reported by N outlets' follow-up when a story reaches N outlets (0: none).",
    )

    @field_validator("follow_up_outlets")
    @classmethod
    def _outlets(cls, value: int) -> int:
        if value == 1:
            raise ValueError("1 outlet is the first alert itself; use 2 or more, or 0 for no follow-up")
        return value

    @model_validator(mode="after")
    def _query_parses(self) -> RuleSettings:
        try:
            parse(self.query, check_field=check_rule_field)
        except RuleSyntaxError as exc:
            raise ValueError(f"rule {self.name!r}: {exc}") from exc
        if self.digest is not None and self.mode == "instant":
            object.__setattr__(self, "mode", "digest")
        if self.mode == "digest" and self.digest is None:
            object.__setattr__(self, "digest", "daily")
        return self

    @property
    def delivery_mode(self) -> str:
        """What the outbox stores: "instant", "hourly" or "daily"."""
        if self.mode == "digest" and self.digest is not None:
            return self.digest
        return "instant"


class OperatorSettings(_Section):
    channel: str | None = Field(
        None, description="A channel under [channels] told when a feed keeps failing."
    )
    feed_failure_threshold: int = Field(
        5, ge=1, description="Consecutive failures before the operator is told."
    )


class StoriesSettings(_Section):
    window: str = Field(
        "72h",
        description="How long a story stays open to copies, counted from when tradewatch found its "
        "articles: 30m, 12h, 3d, 1w.",
    )

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def window_delta(self) -> timedelta:
        """The window as a timedelta (validated above)."""
        return parse_duration(self.window)


class ClassifierSettings(_Section):
    model: str | None = Field(None, description="Path of a model trained with `tradewatch classifier train`.")


class Settings(_Section):
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    fetch: FetchSettings = Field(default_factory=FetchSettings)
    feeds: list[FeedSettings] = Field(default_factory=list)
    channels: dict[str, str] = Field(default_factory=dict)
    rules: list[RuleSettings] = Field(default_factory=list)
    classifier: ClassifierSettings = Field(default_factory=ClassifierSettings)
    stories: StoriesSettings = Field(default_factory=StoriesSettings)
    operator: OperatorSettings = Field(default_factory=OperatorSettings)

    @model_validator(mode="after")
    def _cross_references(self) -> Settings:
        if self.operator.channel is not None and self.operator.channel not in self.channels:
            raise ValueError(
                f"operator.channel: unknown channel {self.operator.channel!r}; define it under [channels]"
            )
        seen: set[str] = set()
        seen_names: set[str] = set()
        for index, feed in enumerate(self.feeds):
            if feed.url in seen:
                raise ValueError(
                    f"feeds[{index}] ({feed.name!r}): URL {feed.url} is listed twice; remove one"
                )
            if feed.name in seen_names:
                raise ValueError(
                    f"feeds[{index}].name: the name {feed.name!r} is used twice; feed names must be unique "
                    "(`run --feed NAME` and `feeds remove NAME` select by it)"
                )
            seen.add(feed.url)
            seen_names.add(feed.name)
        names = [rule.name for rule in self.rules]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"rules: the name {name!r} is used twice; rule names must be unique")
        for index, rule in enumerate(self.rules):
            for channel in rule.channels:
                if channel not in self.channels:
                    known = ", ".join(sorted(self.channels)) or "none defined"
                    raise ValueError(
                        f"rules[{index}] ({rule.name!r}).channels: unknown channel {channel!r}; "
                        f"define it under [channels] (known: {known})"
                    )
        return self

    def feed_specs(self) -> list[FeedSpec]:
        from storage.repo import FeedSpec

        return [FeedSpec(name=f.name, url=f.url, tags=tuple(f.tags)) for f in self.feeds]

    def rule_specs(self) -> list[RuleSpec]:
        from storage.repo import RuleSpec

        return [
            RuleSpec(
                name=r.name,
                query=r.query,
                channels=tuple(r.channels),
                trade_only=r.trade_only,
                mode=r.delivery_mode,
                grouping=r.group,
                follow_up_outlets=r.follow_up_outlets,
            )
            for r in self.rules
        ]

    def channel_url(self, name: str) -> str:
        """Resolve a channel to its apprise URL; ``env:NAME`` reads the environment at send time.

        The URL carries tokens and passwords: callers must never log or store it.
        """
        try:
            value = self.channels[name]
        except KeyError:
            raise ConfigError(f"channel {name!r} is not defined under [channels]") from None
        if value.startswith("env:"):
            var = value[4:]
            resolved = os.environ.get(var)
            if not resolved:
                raise ConfigError(
                    f"channel {name!r} reads its URL from the environment variable {var}, which is not set; "
                    f"export {var}=<apprise URL>"
                )
            return resolved
        if value.startswith("secret:"):
            return _prefect_secret(name, value[7:])
        return value


def _prefect_secret(channel: str, block: str) -> str:
    """Read a Prefect Secret block; imported lazily so configuration loads without a Prefect server."""
    try:
        from prefect.blocks.system import Secret

        secret = Secret.load(block)
        return str(secret.get())  # type: ignore[union-attr]
    except Exception as exc:
        raise ConfigError(
            f"channel {channel!r}: could not load the Prefect Secret block {block!r} ({type(exc).__name__}); "
            f"create it with `prefect block create secret` or use env:NAME"
        ) from None


def error_message(error: Any) -> str:
    """One pydantic error in the words a person editing the file needs (shared with `config check`)."""
    if error["type"] == "extra_forbidden":
        guess = did_you_mean(tuple(error["loc"]))
        hint = f"did you mean {guess!r}? " if guess else ""
        return f"unknown field; {hint}check its spelling (see README, Configuration)"
    if error["type"] == "missing":
        return "required field is missing"
    if error["type"] == "bool_type":
        return "must be true or false (TOML booleans are unquoted)"
    return str(error["msg"]).removeprefix("Value error, ")


def did_you_mean(loc: tuple[str | int, ...]) -> str | None:
    """The known field nearest an unknown one at ``loc``: ``("fetch", "user_agnet")`` gives ``user_agent``."""
    import difflib

    model: type[BaseModel] = Settings
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        annotation = getattr(field, "annotation", None)
        inner = next(iter(getattr(annotation, "__args__", ())), annotation)
        if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
            return None
        model = inner
    matches = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _format_validation_error(path: str, exc: ValidationError) -> str:
    lines = [f"{path}: invalid configuration"]
    for error in exc.errors():
        location = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in error["loc"]).replace(
            ".[", "["
        )
        lines.append(f"  {location or '<top>'}: {error_message(error)}")
    return "\n".join(lines)


def config_source(path: str | Path | None = None) -> tuple[str, bool]:
    """The configuration file a command uses, and whether it was named (``--config`` or the variable)."""
    named = path is not None or bool(os.environ.get(ENV_CONFIG))
    return str(path or os.environ.get(ENV_CONFIG) or DEFAULT_CONFIG), named


def require_config(path: str | Path | None = None) -> None:
    """Refuse to go on with defaults when no configuration was named and ./tradewatch.toml is absent.

    Commands that read or write the store would otherwise answer from (and create) ./data/tradewatch.db,
    which looks like success with nothing in it. ``TRADEWATCH_DATABASE_URL`` alone is a configuration.
    """
    source, named = config_source(path)
    if named or Path(source).exists() or os.environ.get(ENV_DATABASE_URL):
        return
    raise ConfigError(
        f"no configuration found: looked for --config, ${ENV_CONFIG} and ./{DEFAULT_CONFIG} "
        f"(in {Path.cwd()}); pass --config PATH, or create one with `tradewatch init`"
    )


def check_database(settings: Settings) -> None:
    """The file-system checks of ``[database] url`` (see ``database_url_problem``), as a ConfigError."""
    try:
        database_url_problem(settings.database.url)
    except ValueError as exc:
        origin = f"${ENV_DATABASE_URL}" if os.environ.get(ENV_DATABASE_URL) else "[database] url"
        raise ConfigError(f"{origin}: {exc}") from None


def load_settings(path: str | Path | None = None, *, overrides: Mapping[str, Any] | None = None) -> Settings:
    """Read and validate a TOML configuration; environment variables override the database URL.

    With no path, ``$TRADEWATCH_CONFIG`` or ``./tradewatch.toml`` is used if present, else defaults.
    """
    raw: dict[str, Any] = {}
    source = str(path or os.environ.get(ENV_CONFIG) or DEFAULT_CONFIG)
    config_path = Path(source)
    if config_path.exists():
        try:
            raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: not valid TOML: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{source}: cannot read the configuration file: {exc}") from None
    elif path is not None or os.environ.get(ENV_CONFIG):
        raise ConfigError(
            f"{source}: configuration file not found; create one with `tradewatch init {source}`"
        )
    settings = settings_from_mapping(raw, source=source, overrides=overrides)
    check_database(settings)
    return settings


def settings_from_mapping(
    raw: Mapping[str, Any], *, source: str = "<config>", overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Validate an already-parsed configuration (used by the demo, which fills in ports at run time)."""
    data = dict(raw)
    if env_url := os.environ.get(ENV_DATABASE_URL):
        data["database"] = {**dict(data.get("database", {})), "url": env_url}
    for key, value in (overrides or {}).items():
        section, _, field_name = key.partition(".")
        data[section] = {**dict(data.get(section, {})), field_name: value}
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(source, exc)) from None
