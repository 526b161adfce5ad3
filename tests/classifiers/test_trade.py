"""The shipped lexicon classifier on today's news, false friends, odd input and concurrent use."""

from __future__ import annotations

import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from classifiers.load import load_classifier
from classifiers.trade import LexiconClassifier, Verdict, classify

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "seeds" / "demo" / "expected"

# Articles written for these tests in today's vocabulary: (title, body, deciding phrases expected).
TRADE_ARTICLES = [
    (
        "White House announces new round of reciprocal tariffs on 40 countries",
        "The administration said on Tuesday that reciprocal tariffs of between 15% and 41% would take effect "
        "next month on imports from dozens of trading partners, after talks with several of them stalled. "
        "Canada and the European Union said they were preparing countermeasures. Economists warned that the "
        "new duties would raise prices for consumers and disrupt supply chains built over decades.",
        {"reciprocal tariffs"},
    ),
    (
        "Commerce tightens export controls on AI chips to China",
        "The Bureau of Industry and Security added 80 companies to the entity list and widened export "
        "controls on advanced semiconductors and chipmaking equipment. Nvidia said the rules would cost it "
        "billions in lost sales. Beijing called the move economic bullying and vowed to retaliate.",
        {"export controls"},
    ),
    (
        "EU and Mercosur seal trade deal after 25 years of negotiations",
        "Negotiators from the European Union and the Mercosur bloc concluded a free-trade agreement that "
        "will remove most tariffs on industrial goods and open markets for European cars and South American "
        "beef. French farmers protested, and the deal still needs ratification by member states.",
        {"trade agreements"},
    ),
    (
        "US port fees on Chinese-built ships take effect",
        "Shipping lines calling at US ports now pay port fees for each Chinese-built vessel under the USTR's "
        "Section 301 action on China's shipbuilding industry. Carriers said they would reroute ships and "
        "pass the costs on to importers and exporters.",
        {"port fees"},
    ),
    (
        "De minimis exemption ends for small parcels from China",
        "Online retailers face higher costs after the administration ended the de minimis exemption that let "
        "packages worth under $800 enter the United States duty-free. Customs officials expect millions "
        "of small parcels to need formal entry and tariffs to be collected on each.",
        {"de minimis"},
    ),
]

TRADE_ARTICLES += [
    (
        "Canada slaps 25% counter-tariffs on US goods",
        "Ottawa announced retaliatory duties on C$30 billion of American products, from orange juice to "
        "appliances, hours after Washington imposed tariffs on Canadian imports.",
        {"reciprocal tariffs", "retaliation"},
    ),
    (
        "China curbs exports of rare earth magnets",
        "Beijing added seven rare earth elements to its export control list, requiring licences for "
        "shipments abroad, in a move seen as retaliation against US tariffs.",
        {"export controls", "tariffs"},
    ),
    (
        "EU opens anti-subsidy probe into Chinese electric cars",
        "The European Commission launched an investigation into battery electric vehicles imported from "
        "China, which could lead to countervailing duties.",
        {"anti-dumping"},
    ),
    (
        "US trade deficit widens to record as importers rush ahead of tariffs",
        "The goods and services trade deficit widened to $140 billion in March as companies front-loaded "
        "imports ahead of new tariffs, the Commerce Department said.",
        {"trade balance", "tariffs"},
    ),
]

# Business and economic news that is not about trade and has no "trade" false friend to blame.
UNRELATED = [
    (
        "OPEC+ agrees to extend output cuts",
        "OPEC+ members agreed to extend oil production cuts into next year, keeping quotas unchanged, as "
        "crude prices slipped.",
    ),
    (
        "Fed holds rates steady",
        "The Federal Reserve kept interest rates unchanged on Wednesday. Its chair said inflation remained "
        "elevated and the labour market was solid.",
    ),
]

FALSE_FRIENDS = [
    (
        "Lakers trade for All-Star guard ahead of deadline",
        "The Los Angeles Lakers traded two first-round picks and a young forward to acquire an All-Star "
        "point guard on Thursday, hours before the NBA trade deadline. The general manager said the trade "
        "gives the team its best shot at the playoffs. The guard will join the roster for Saturday's game.",
        "sports trade",
    ),
    (
        "Robotics makers crowd Hanover trade show",
        "More than 4,000 exhibitors filled the halls of the Hanover trade fair this week, where robot makers "
        "showed humanoid machines for warehouses. Visitors queued at the trade show's robotics hall, and "
        "organisers said attendance beat last year's record.",
        "trade show or fair",
    ),
    (
        "Retail traders pile into meme stocks again",
        "Stock trading volumes on retail trading apps hit a record on Monday as day traders bought shares of "
        "a video game retailer. Shares traded higher in early trading before a trading halt. Crypto tokens "
        "also rallied.",
        "securities trading",
    ),
    (
        "Dock workers' union calls strike over automation",
        "Members of the trade union voted to go on strike at container terminals after wage talks with the "
        "employers' association broke down. Union leaders said automation threatened thousands of jobs and "
        "that pickets would begin on Monday.",
        "trade union or strike",
    ),
    (
        "Carmaker boosts trade-in offers as electric car sales slow",
        "Dealers are offering higher trade-in values on older vehicles to lure buyers into new "
        "electric cars, the carmaker said. A former engineer was also charged with "
        "stealing trade secrets about battery chemistry.",
        "trade secret or mark",
    ),
]


def phrases(verdict: Verdict) -> set[str]:
    return {e.phrase for e in verdict.evidence}


@pytest.mark.parametrize(
    ("title", "body", "deciding"),
    TRADE_ARTICLES,
    ids=lambda x: str(sorted(x) if isinstance(x, set) else x)[:30],
)
def test_modern_trade_news_is_trade_with_named_evidence(title: str, body: str, deciding: set[str]) -> None:
    verdict = classify(title, body)
    assert verdict.is_trade, verdict
    assert verdict.score >= 0.5
    assert deciding <= phrases(verdict), verdict.evidence
    assert any(e.field == "title" and e.weight > 0 for e in verdict.evidence)


@pytest.mark.parametrize(("title", "body", "friend"), FALSE_FRIENDS, ids=lambda x: str(x)[:30])
def test_false_friends_are_not_trade_and_say_why(title: str, body: str, friend: str) -> None:
    verdict = classify(title, body)
    assert not verdict.is_trade, verdict
    assert verdict.score < 0.5
    negative = {e.phrase for e in verdict.evidence if e.weight < 0}
    assert friend in negative, verdict.evidence


@pytest.mark.parametrize(("title", "body"), UNRELATED, ids=lambda x: str(x)[:30])
def test_unrelated_business_news_is_not_trade(title: str, body: str) -> None:
    verdict = classify(title, body)
    assert not verdict.is_trade
    assert verdict.reason == "below threshold"


def test_trading_cards_are_not_securities_or_trade() -> None:
    verdict = classify(
        "Pokemon trading card prices soar", "Collectors pay record sums for rare trading cards."
    )
    assert not verdict.is_trade
    assert verdict.evidence[0].phrase == "trading cards and games"


def test_seed_article_is_trade_with_tariffs_and_trade_talks() -> None:
    """The seed as the product stores it (the shared seed file's nine paragraphs, kept in seeds/demo)."""
    title = tomllib.loads((DEMO / "labels.toml").read_text(encoding="utf-8"))["trade-talks-japan"]["title"]
    verdict = classify(title, (DEMO / "trade-talks-japan.txt").read_text(encoding="utf-8"))
    assert verdict.is_trade
    assert {"tariffs", "trade talks"} <= phrases(verdict)


def test_demo_articles_match_their_labels() -> None:
    labels = tomllib.loads((DEMO / "labels.toml").read_text(encoding="utf-8"))
    assert labels, "the demo labels are missing"
    for slug, info in labels.items():
        text = (DEMO / f"{slug}.txt").read_text(encoding="utf-8")
        verdict = classify(info["title"], text)
        assert verdict.is_trade == info["is_trade"], (slug, verdict)
        if info["is_trade"]:
            assert verdict.evidence[0].weight > 0, slug


def test_evidence_is_sorted_by_effect_and_title_outweighs_lede_outweighs_deep_body() -> None:
    filler = "The minister spoke at length about the economy, the budget and the weather. " * 12
    verdict = classify(
        "Tariffs on steel raised",
        f"The government raised tariffs on steel imports. {filler} Tariffs were discussed again.{filler}",
    )
    weights = [abs(e.weight) for e in verdict.evidence]
    assert weights == sorted(weights, reverse=True)
    tariffs = {e.field: e.weight for e in verdict.evidence if e.phrase == "tariffs"}
    assert tariffs["title"] > tariffs["lede"] > tariffs["body"] > 0


def test_false_friend_context_lowers_the_score_of_the_same_word() -> None:
    plain = classify("", "The countries discussed trade and imports at length over two days.")
    show = classify("", "The countries discussed the trade show and imports at length over two days.")
    assert show.score < plain.score
    assert "trade (word)" in phrases(plain)
    assert "trade (word)" not in phrases(show)


@pytest.mark.parametrize(("title", "text"), [("", ""), ("   ", "\n\t "), ("", "   ")])
def test_empty_text_is_not_trade_with_a_reason(title: str, text: str) -> None:
    verdict = classify(title, text)
    assert (verdict.is_trade, verdict.score, verdict.evidence) == (False, 0.0, ())
    assert verdict.reason == "empty text"


@pytest.mark.parametrize(
    ("title", "text", "code"),
    [
        (
            "Handelsstreit mit den USA",
            "Die Europäische Union will auf die neuen Zölle der Vereinigten Staaten mit eigenen Maßnahmen "
            "reagieren, sagte die Kommission am Montag. Die Verhandlungen sind nicht gescheitert, aber die "
            "Lage ist ernst, und eine Einigung wird schwer.",
            "de",
        ),
        (
            "Aranceles",
            "El gobierno de México anunció que los aranceles sobre el acero de Estados Unidos serán "
            "revisados por la comisión, según el ministro de economía, que también "
            "habló con los exportadores.",
            "es",
        ),
        ("关税", "美国政府宣布对中国商品加征关税，中国商务部表示将采取反制措施。", "zh"),
        ("Пошлины", "Правительство объявило о новых пошлинах на импорт стали из нескольких стран.", "ru"),
    ],
)
def test_non_english_text_is_not_trade_with_its_language(title: str, text: str, code: str) -> None:
    verdict = classify(title, text)
    assert not verdict.is_trade
    assert verdict.score == 0.0
    assert verdict.reason == f"non-English ({code})"


def test_english_headline_alone_is_judged_not_rejected() -> None:
    verdict = classify("JAPAN FEBRUARY TRADE SURPLUS JUMPS", "")
    assert verdict.is_trade
    assert verdict.reason == "above threshold"


def test_verdicts_are_deterministic_and_thread_safe() -> None:
    inputs = [(t, b) for t, b, _ in TRADE_ARTICLES] + [(t, b) for t, b, _ in FALSE_FRIENDS]
    expected = [classify(t, b) for t, b in inputs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(5):
            assert list(pool.map(lambda pair: classify(*pair), inputs)) == expected


def test_version_names_the_lexicon_and_load_classifier_defaults_to_it() -> None:
    default = load_classifier(None)
    assert default.version.startswith("lexicon-")
    assert classify("Tariffs", "Tariffs rise.").version == default.version
    assert isinstance(LexiconClassifier().classify("a", "b"), Verdict)


def test_score_is_a_probability_for_any_input() -> None:
    for title, body in [("x", "y"), ("Tariffs " * 200, "trade war " * 500), ("NBA", "trade deadline " * 300)]:
        verdict = classify(title, body)
        assert 0.0 <= verdict.score <= 1.0
        assert verdict.is_trade == (verdict.score >= 0.5)


# A diplomatic speech: friendly words for many pages, trade vocabulary sprinkled through it.
_SPEECH_PARAGRAPH = (
    "The two countries share a long friendship built on mutual respect, people-to-people exchanges, "
    "culture, education, tourism, science and the fight against climate change. Leaders praised the "
    "spirit of cooperation and pledged to deepen dialogue on regional security and public health. "
)
_TRADE_IN_PASSING = [
    "Both sides oppose protectionism.",
    "They will work within the WTO.",
    "Trade talks on services will continue.",
    "Tariffs were mentioned briefly.",
    "A free-trade agreement remains a long-term aim.",
    "Officials also discussed market access for farm goods.",
    "The trade relationship was described as balanced.",
    "Reciprocal tariffs were not on the agenda.",
]


def _speech(lede: str) -> str:
    paragraphs = [lede] + [_SPEECH_PARAGRAPH * 3 + sentence for sentence in _TRADE_IN_PASSING] * 4
    return " ".join(paragraphs)


def test_a_long_diplomatic_piece_does_not_pass_on_trade_words_scattered_through_its_body() -> None:
    verdict = classify(
        "Leaders celebrate fifty years of friendship",
        _speech("The president welcomed her counterpart with a ceremony in the capital on Monday."),
    )
    assert not verdict.is_trade, verdict
    deep = [e for e in verdict.evidence if e.field == "body"]
    assert {"protectionism", "WTO and GATT", "trade talks", "tariffs"} <= {e.phrase for e in deep}
    # however much the deep body holds, it contributes no more than its cap
    assert sum(e.weight for e in deep) <= default_lexicon_cap() + 0.01


def test_a_long_trade_story_with_trade_in_its_headline_and_lede_does_not_dilute() -> None:
    verdict = classify(
        "Countries agree to cut tariffs on farm goods",
        _speech(
            "The two countries agreed on Monday to cut tariffs on farm goods and open talks on a trade deal."
        ),
    )
    assert verdict.is_trade, verdict
    assert {"title", "lede"} <= {e.field for e in verdict.evidence if e.weight > 0}


def test_a_restriction_verb_counts_beside_a_trade_flow_not_paragraphs_away() -> None:
    near = classify("", "The government will curb rice exports from next month, the ministry said.")
    far = classify(
        "",
        "The government will curb spending on roads. "
        + "Officials described the budget at length. " * 3
        + "Rice exports were steady.",
    )
    assert "restriction + imports or exports" in {e.phrase for e in near.evidence}
    assert "restriction + imports or exports" not in {e.phrase for e in far.evidence}


def test_hyphenated_headline_compounds_are_read_as_their_words() -> None:
    assert "trade disputes" in {e.phrase for e in classify("Trade-war fears grip markets", "").evidence}
    assert "tariffs" in {e.phrase for e in classify("Zero-tariff deal for cars", "").evidence}
    # compounds the lexicon spells out stay whole
    assert "trade secret or mark" in {e.phrase for e in classify("Trade-in offers rise", "").evidence}


def test_a_headline_alone_has_a_lower_bar_than_a_full_article() -> None:
    scoring = LexiconClassifier().lexicon.scoring
    assert scoring.threshold_for(0) == scoring.title_threshold < scoring.threshold
    assert scoring.title_threshold < scoring.threshold_for(scoring.lede_tokens // 2) < scoring.threshold
    assert scoring.threshold_for(scoring.lede_tokens) == scoring.threshold_for(5000) == scoring.threshold
    # one strong concept in a headline decides alone; with a body the body must support it
    assert classify("EU raises tariffs on Chinese bicycles", "").is_trade
    assert not classify(
        "EU raises tariffs on Chinese bicycles", "The weather in the city was mild all week. " * 20
    ).is_trade


def default_lexicon_cap() -> float:
    return LexiconClassifier().lexicon.scoring.deep_cap


# 2026.12.3: a short story whose trade evidence sits in its second and third paragraphs, after a lede that
# sets the scene; and the same paragraph as one aside in a long feature.
_FARM_LEDE = (
    "Soybean growers in Iowa say much of this year's crop may go unsold. Prices at the local elevator have "
    "fallen by a fifth since spring, and storage bins are full."
)
_FARM_TRADE_WAR = (
    "China, once their biggest buyer, halted purchases of American soybeans after Washington raised "
    "tariffs on Chinese goods and Beijing retaliated with levies of its own. Shipments to China have "
    "dropped by half, and growers fear the trade war will outlast their loans."
)
_FARM_FEATURE = (
    "The county fair opened on Friday with a tractor parade, a pie contest and a new barn for the 4-H "
    "club. Families drove in from three states, and the rain held off until the fireworks. "
)


def test_a_short_story_is_judged_on_its_next_paragraphs_not_just_its_lede() -> None:
    """A wire story of a few paragraphs often sets the scene first; its second paragraph is not the deep
    body of a long piece, so the cap on deep-body evidence does not hold it below the bar."""
    verdict = classify("Farmers count the cost", f"{_FARM_LEDE} {_FARM_TRADE_WAR} Farm groups want relief.")
    assert verdict.is_trade, verdict
    assert {"trade disputes", "tariffs"} <= {e.phrase for e in verdict.evidence if e.field == "body"}


def test_the_same_paragraph_deep_in_a_long_feature_stays_capped() -> None:
    verdict = classify("Farmers count the cost", f"{_FARM_LEDE} {_FARM_FEATURE * 6}{_FARM_TRADE_WAR}")
    assert not verdict.is_trade, verdict
    assert sum(e.weight for e in verdict.evidence if e.field == "body") <= default_lexicon_cap() + 0.01


def test_a_text_without_a_headline_reads_its_opening_words_as_one() -> None:
    """An untitled feed item or a correction notice names its subject in its first words."""
    correction = classify(
        "",
        "Correction: in the story headlined 'EU raises tariffs on Chinese electric cars', please read "
        "the rate in the second paragraph as 17.4%, not 17%.",
    )
    assert correction.is_trade, correction
    assert "tariffs" in {e.phrase for e in correction.evidence if e.field == "title"}
    sports = classify(
        "",
        "Correction: in the story headlined 'Lakers trade guard to Celtics for two picks', please read "
        "the second pick as a second-round pick.",
    )
    assert not sports.is_trade, sports


def test_a_producers_cartel_curbing_exports_is_commodity_news_a_government_curb_is_trade() -> None:
    cartel = classify(
        "Oil producers agree to curb crude exports",
        "OPEC+ members agreed on Sunday to limit crude exports by a further 500,000 barrels a day until "
        "June to support prices, delegates said.",
    )
    assert not cartel.is_trade, cartel
    assert "restriction + imports or exports" not in {e.phrase for e in cartel.evidence}
    government = classify(
        "Indonesia to curb nickel ore exports",
        "The government will limit exports of nickel ore from January to build up its smelting industry, "
        "the mining ministry said on Tuesday.",
    )
    assert government.is_trade, government


def test_a_fuel_tax_is_a_budget_story_an_import_tariff_on_oil_is_trade() -> None:
    body = (
        "The Senate budget committee began weighing a rise in federal fuel taxes on Tuesday as it drafts "
        "next year's budget, its chairman said. Options in its briefing book include a fee on imported oil, "
        "a 10% import surcharge on all goods and higher tariffs on foreign cars, which staff say would "
        "raise $20 billion a year."
    )
    budget = classify("Senate panel weighs fuel tax rise to close budget gap", body)
    assert not budget.is_trade, budget
    assert "domestic duties and obligations" in {e.phrase for e in budget.evidence}
    assert classify("Senate panel weighs import tariff on foreign oil", body).is_trade


def test_currency_controls_are_monetary_news_an_import_ban_to_save_reserves_is_trade() -> None:
    controls = classify(
        "Nigeria tightens currency controls as reserves fall",
        "Nigeria's central bank limited dollar sales to importers on Monday as reserves fell to a "
        "six-year low. It blamed a shrinking trade surplus after oil exports slumped.",
    )
    assert not controls.is_trade, controls
    assert "currency controls" in {e.phrase for e in controls.evidence}
    ban = classify(
        "Nigeria bans imports of 41 items to save reserves",
        "Nigeria's central bank barred importers of 41 items, from rice to toothpicks, from buying dollars "
        "on the official market on Monday, to protect reserves hit by falling oil exports.",
    )
    assert ban.is_trade, ban


def test_a_trade_figure_beside_a_deficit_reads_as_a_trade_balance_a_budget_deficit_does_not() -> None:
    balance = classify("Germany's trade fell into a deficit in May", "")
    assert "trade statistics + deficit or surplus" in {e.phrase for e in balance.evidence}
    budget = classify("Exports rose 5% in May while the budget deficit widened", "")
    assert "trade statistics + deficit or surplus" not in {e.phrase for e in budget.evidence}


def test_development_bank_lending_is_finance_news_a_curb_on_imports_is_trade() -> None:
    context = (
        "With a record trade deficit and a farm economy in trouble, senators say the loans subsidise "
        "exports that compete with American producers and flood world markets. U.S. farm exports fell 10% "
        "last year while imports of foreign goods rose."
    )
    lending = classify(
        "Congress may curb funding for development banks",
        "Lawmakers are pressing to hold back U.S. money for development banks that lend to foreign farmers "
        f"and miners. {context}",
    )
    assert not lending.is_trade, lending
    assert "development lending" in {e.phrase for e in lending.evidence}
    assert classify(
        "Congress may curb imports of subsidised foreign steel",
        f"Lawmakers are pressing to curb imports of subsidised foreign steel. {context}",
    ).is_trade


def test_talks_beside_trade_relations_count_as_a_negotiation_pay_talks_do_not() -> None:
    negotiation = classify(
        "EU and Gulf states end talks with progress",
        "The European Union and the Gulf Cooperation Council ended two days of talks on Friday having made "
        "progress on restoring formal trade relations, but no breakthrough, delegates said.",
    )
    assert "talks + trade policy" in {e.phrase for e in negotiation.evidence if e.field == "lede"}
    pay = classify(
        "Union and employers end pay talks with progress",
        "The union and employers ended two days of pay talks on Friday having made progress on restoring "
        "normal trade relations with suppliers, delegates said.",
    )
    assert "talks + trade policy" not in {e.phrase for e in pay.evidence}
    assert not pay.is_trade, pay
