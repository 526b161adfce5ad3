"""`[stories]` and the per-rule story settings: defaults, the fields people write, errors naming the fix."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flows.settings import ConfigError, settings_from_mapping

CHANNELS = {"channels": {"desk": "mailto://127.0.0.1"}}


def _rule(**extra: object) -> dict[str, object]:
    return {**CHANNELS, "rules": [{"name": "steel", "query": "steel", "channels": ["desk"], **extra}]}


def test_rules_group_by_story_by_default_within_a_72_hour_window() -> None:
    settings = settings_from_mapping(_rule())
    (spec,) = settings.rule_specs()
    assert (spec.grouping, spec.follow_up_outlets) == ("story", 0)
    assert settings.stories.window_delta == timedelta(hours=72)


def test_a_rule_can_alert_every_copy_or_ask_for_a_follow_up_and_the_window_can_change() -> None:
    settings = settings_from_mapping(
        {**_rule(group="article", follow_up_outlets=3), "stories": {"window": "2d"}}
    )
    (spec,) = settings.rule_specs()
    assert (spec.grouping, spec.follow_up_outlets) == ("article", 3)
    assert settings.stories.window_delta == timedelta(days=2)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"stories": {"window": "3 days"}},
            "stories.window: '3 days' is not a duration; use a positive number",
        ),
        ({"stories": {"window": "0h"}}, "stories.window: '0h' is not a duration"),
        (_rule(group="feed"), "rules[0].group: Input should be 'story' or 'article'"),
        (_rule(follow_up_outlets=1), "rules[0].follow_up_outlets: 1 outlet is the first alert itself; use 2"),
    ],
)
def test_unusable_story_settings_name_the_field_and_the_fix(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        settings_from_mapping(raw, source="tw.toml")
    assert message in str(error.value)
