"""The choice between candidate bodies follows its documented rules (extractors/_article_choice.py).

Each rule is exercised on candidates built by hand, so a test names the rule it holds; the last tests go
through extract() to show that the feed entry's title and summary reach the choice.
"""

from __future__ import annotations

import pytest

from extractors._article_choice import Candidate, Evidence, Judge, choose, shingles
from extractors.article import extract
from extractors.errors import ExtractionError

STORY = [
    "The port authority will inspect twice as many steel shipments from next month, it said on Friday.",
    "About one in twelve containers of coiled steel carried products declared under a lower-duty code.",
    "Importers will have to file mill certificates with the customs declaration rather than on request.",
    "The authority estimated the lost duties at 14 million over the past year, a figure importers dispute.",
]
MORE = [
    "Inspectors will also sample aluminium extrusions, which traders say are often declared as scrap.",
    "The new rules were published in the official gazette and take effect on the first of next month.",
    "A spokesman for the importers' association said members would comply but asked for more staff.",
    "Delays at the terminal already average three days, according to the freight forwarders' group.",
]
COMMENTS = [
    "This happens every time the duty goes up and everyone in the trade knew about the loophole.",
    "Posted by: Harbourmaster | January 07 2026 at 09:48 PM",
    "Doubling inspections will slow everything down for the honest importers who already comply.",
    "Posted by: Dockside Dave | January 07 2026 at 10:54 PM",
]
SERVICE = [
    "Questions about your subscription, billing or home delivery? Our team is available on weekdays.",
    "To report a missed paper, pause delivery or change your address, sign in to your account online.",
    "Digital subscribers can read every edition in the e-paper app, included in all subscriptions.",
    "To cancel, please call at least five working days before your next billing date, or write to us.",
    "Refunds for unused prepaid periods are paid to the original means of payment within fourteen days.",
]
TITLE = "Port to inspect twice as many steel shipments"


def never() -> Candidate:
    raise AssertionError("the fallback was computed although the rules did not need it")


def pick(
    primary: list[str],
    block: list[str] | None,
    fallback: list[str] | None = None,
    evidence: Evidence | None = None,
    judge: Judge | None = None,
) -> tuple[list[str] | None, str]:
    def second() -> Candidate:
        return Candidate("fallback", fallback) if fallback is not None else never()

    choice = choose(
        Candidate("trafilatura", primary),
        Candidate("dense block", block) if block is not None else None,
        second,
        evidence or Evidence(),
        judge or Judge(),
    )
    return (choice.candidate.paragraphs if choice.candidate else None), choice.rule


def test_a_dense_block_inside_trafilaturas_body_sheds_the_periphery() -> None:
    periphery = ["Home | News | Business | Markets | Contact", *STORY, *MORE, "Photo: Reuters"]
    assert pick(periphery, STORY + MORE)[0] == STORY + MORE


def test_a_dense_block_that_extends_a_truncated_body_is_taken() -> None:
    assert pick(STORY, STORY + MORE)[0] == STORY + MORE


def test_a_block_that_adds_a_comment_thread_is_refused() -> None:
    assert pick(STORY, STORY + COMMENTS + COMMENTS)[0] == STORY


def test_a_comment_thread_loses_a_disagreement_even_with_more_text() -> None:
    assert pick(STORY, COMMENTS * 3)[0] == STORY


def test_without_evidence_the_candidate_with_more_prose_wins_a_disagreement() -> None:
    assert pick(STORY, SERVICE)[0] == SERVICE


def test_the_headline_outweighs_size_in_a_disagreement() -> None:
    body, rule = pick(STORY, SERVICE, evidence=Evidence.of([TITLE]))
    assert body == STORY
    assert "headline" in rule


def test_a_block_inside_the_body_that_lost_the_headline_is_refused() -> None:
    # The dense block is the body's tail (a comment thread without signatures): trafilatura's body holds it,
    # yet the rescue must not narrow to it, because only the body matches the headline.
    body = [TITLE, *STORY, *SERVICE]
    assert pick(body, SERVICE, evidence=Evidence.of([TITLE]))[0] == body


@pytest.mark.parametrize(
    "code",
    [
        "<SCRIPT language='JavaScript1.1' SRC=\"http://ad.example/adj/N1841;sz=300x250;ord=1?\"></SCRIPT>",
        "document.write('<div class=\"ad\">'); var slot = window.adSlots[3]; render(); { width: 300 }",
    ],
)
def test_page_code_written_as_text_is_never_chosen(code: str) -> None:
    assert pick(STORY, [code] * 12)[0] == STORY


def test_a_list_of_the_pages_links_is_never_chosen() -> None:
    links = [f"Other story {n}: exporters, tariffs and the week ahead in global trade" for n in range(20)]
    judge = Judge(frozenset(s for text in links for s in shingles(text)), frozenset(links))
    assert pick(STORY, links, judge=judge)[0] == STORY


def test_a_teaser_panel_loses_to_the_article() -> None:
    heads = [f"Canola growers count the cost of closed market number {n}" for n in range(4)]
    panel = [line for n, head in enumerate(heads) for line in (head, MORE[n])]
    judge = Judge(frozenset(), frozenset(heads))
    assert pick(STORY, panel, judge=judge)[0] == STORY


def test_the_fallback_is_asked_for_a_short_body_and_replaces_it_when_longer() -> None:
    assert pick(["Reuters, Wednesday January 9."], None, fallback=STORY)[0] == STORY


def test_the_fallback_replaces_a_body_that_shares_nothing_with_the_headline() -> None:
    jobs = SERVICE  # credible prose, long enough, but about something else
    body, rule = pick(jobs, None, fallback=[TITLE, *STORY], evidence=Evidence.of([TITLE]))
    assert body == [TITLE, *STORY]
    assert rule.startswith("fallback")


def test_no_credible_candidate_gives_no_body() -> None:
    menu = ["Home", "News", "Sport", "Weather", "Contact us", "Privacy"]
    assert pick(menu, None, fallback=menu) == (None, "nothing credible")


def test_the_fallback_is_not_computed_when_the_main_candidates_suffice() -> None:
    pick(STORY + MORE, STORY + MORE)  # never() raises if the fallback is asked for


def test_evidence_ignores_function_words_and_tiny_texts() -> None:
    evidence = Evidence.of(["Home", "The and of", TITLE])
    assert len(evidence.texts) == 1
    found = evidence.support(Candidate("x", ["Steel inspections doubled at the port."]))
    assert found == pytest.approx(2 / 7)  # steel, port of: port inspect twice as many steel shipments
    assert Evidence.of([None, ""]).support(Candidate("x", STORY)) is None


PAGE = """<html><head><title>Valley Tribune</title></head><body>
<div class="nav"><a href="/">Valley Tribune</a> <a href="/local">Local</a></div>
<div class="story"><p>{story}</p></div>
<div class="service">{service}</div>
</body></html>"""


def service_page() -> str:
    story = " ".join(STORY)
    return PAGE.format(story=story, service="".join(f"<p>{line}</p>" for line in SERVICE))


def test_the_feed_entrys_title_keeps_a_service_box_from_replacing_the_article() -> None:
    # The page names only the site; the feed said what the article is about before the page was fetched.
    html = service_page()
    assert extract(html).text.startswith("Questions about your subscription")  # no evidence: the box wins
    article = extract(html, entry_title=TITLE)
    assert article.text == " ".join(STORY)


def test_the_feed_entrys_summary_is_evidence_too() -> None:
    article = extract(service_page(), entry_summary="Customs will inspect twice as many steel shipments.")
    assert article.text == " ".join(STORY)


def test_a_page_of_nothing_but_menus_fails_as_no_content() -> None:
    items = "".join(f"<li><a href='/s/{n}'>Section {n}</a></li>" for n in range(40))
    with pytest.raises(ExtractionError) as caught:
        extract(f"<html><body><ul>{items}</ul><p>Copyright 2026</p></body></html>", url="https://a.example/x")
    assert caught.value.reason == "no_content"


def test_the_extraction_worker_passes_the_feed_entry_on() -> None:
    # flows/process.py hands each page to flows.workers.analyse with its feed entry's title and summary.
    from flows.workers import analyse

    article, _verdict, _events, _fingerprint = analyse(
        service_page().encode(), "https://valley.example/a/1", None, TITLE, None, None, TITLE, None
    )
    assert article.text == " ".join(STORY)
