"""A story's alert lists the other outlets' copies, each with why it was joined, escaped for every format."""

from __future__ import annotations

from datetime import UTC, datetime

from alerts.render import STORY_SOURCES_SHOWN, AlertItem, StoryNote, render_digest, render_instant

HOSTILE = "Steel <script>x</script> & <!channel> | <@U1>"


def _item(note: StoryNote | None) -> AlertItem:
    when = datetime(2026, 3, 2, 10, tzinfo=UTC)
    return AlertItem(
        "US to raise steel tariffs",
        "https://a.example/s",
        "Metal Wire",
        when,
        0.9,
        (("steel", None),),
        story=note,
    )


def _note(copies: int = 2, *, follow_up: bool = False) -> StoryNote:
    return StoryNote(
        copies=tuple(
            (f"Outlet {n}", f"Steel tariffs, copy {n}", f"https://o{n}.example/x", f"body {90 - n}% alike")
            for n in range(1, copies + 1)
        ),
        outlets=copies + 1,
        follow_up=follow_up,
    )


def test_the_alert_lists_each_other_outlet_with_the_similarity_that_joined_it() -> None:
    text = render_instant(_item(_note())).body_text
    assert "Also reported by 2 other outlets:" in text
    assert "• Outlet 1: Steel tariffs, copy 1 https://o1.example/x (body 89% alike)" in text
    assert "• Outlet 2: Steel tariffs, copy 2 https://o2.example/x (body 88% alike)" in text


def test_an_alert_without_copies_says_nothing_about_a_story() -> None:
    assert "Also reported" not in render_instant(_item(None)).body_text
    assert "Also reported" not in render_instant(_item(StoryNote((), 1))).body_text


def test_a_long_story_lists_the_first_outlets_and_counts_the_rest() -> None:
    text = render_instant(_item(_note(STORY_SOURCES_SHOWN + 3))).body_text
    assert f"Outlet {STORY_SOURCES_SHOWN}:" in text
    assert f"Outlet {STORY_SOURCES_SHOWN + 1}:" not in text
    assert "… and 3 more" in text


def test_the_follow_up_says_how_many_outlets_now_carry_the_story() -> None:
    message = render_instant(_item(_note(3, follow_up=True)))
    assert message.title == "[tradewatch: steel] Now 4 outlets: US to raise steel tariffs"


def test_copies_written_by_strangers_are_escaped_in_html_and_slack() -> None:
    note = StoryNote(((HOSTILE, HOSTILE, "javascript:alert(1)", HOSTILE),), 2)
    message = render_instant(_item(note))
    assert "<script>" not in message.body_html
    assert "&lt;script&gt;" in message.body_html
    assert 'href="javascript' not in message.body_html, "only http(s) copies become links"
    assert "<!channel>" not in message.body_markdown
    assert "<@U1>" not in message.body_markdown
    assert "&lt;!channel&gt;" in message.body_markdown


def test_a_digest_entry_counts_the_outlets_of_its_story() -> None:
    text = render_digest("daily", [_item(_note())]).body_text
    assert "3 outlets" in text
