"""Headlines alone, in today's trade vocabulary: a feed entry whose page could not be fetched is judged on
its title, so a title must be enough when it names a trade measure, and false friends must stay out.

The headlines are written for these tests after the patterns the issue lists ("<country> raises duty on
<product> from <country> to <rate>", "<product> exports to <country> plunge after curbs", ...); none is
copied from a benchmark set.
"""

from __future__ import annotations

import pytest

from classifiers.trade import Verdict, classify

# (headline, a concept or combination that must be among the headline's evidence)
TRADE_HEADLINES = [
    ("India raises duty on gold imports from Switzerland to 15%", "duties on goods"),
    ("Brazil cuts duty on Argentine wheat to zero", "duties on goods"),
    ("Rice exports to Bangladesh plunge after curbs", "imports or exports + change"),
    ("Vietnam's exports to US surge", "imports or exports + change"),
    ("Japan drops China from its preferential customs system", "customs procedures"),
    ("China curbs exports of gallium and germanium", "restriction + imports or exports"),
    ("Indonesia halts palm oil exports to tame prices", "restriction + imports or exports"),
    ("Turkey blocks imports of Israeli goods", "restriction + imports or exports"),
    ("Russia cuts off gas shipments to Poland", "restriction + shipments"),
    ("Lithuania lifts transit ban on Kaliningrad goods", "transit of goods"),
    ("Russia bans transit of Kazakh oil through its ports", "transit of goods"),
    ("Canada imposes 25% surtax on US steel and aluminium", "duties on goods"),
    ("US and Japan strike quota deal on auto parts", "trade agreements"),
    ("Germany's export-led economy stalls as orders from China fall", "export-led economies"),
    ("India and UAE sign CEPA to boost bilateral trade", "trade agreements"),
    ("Biden launches IPEF talks with 13 Asian nations", "trade agreements"),
    ("UK applies to join CPTPP", "trade agreements"),
    ("USMCA review looms over Mexican auto exports", "trade agreements"),
    ("Northern Ireland protocol checks on goods to be eased", "Brexit trade terms"),
    ("Britain and EU agree post-Brexit customs arrangements", "customs procedures"),
    ("EU extends arms embargo on Belarus", "embargoes"),
    ("US-China trade-war fears return with new levies", "trade disputes"),
    ("Mexico grants zero-tariff access to Central American coffee", "tariffs"),
    # commodities: the commodity-market penalty must not fire when a trade measure is named
    ("Beef exporters win market access to Japan", "market access"),
    ("Cotton tariffs squeeze Bangladesh garment makers", "tariffs"),
    ("Coffee exporters brace for US tariff hike", "reciprocal tariffs"),
    ("Argentina scraps export duties on grain", "tariffs"),
    ("China lifts ban on Australian barley imports", "restriction + imports or exports"),
    ("Customs data show record Chinese exports in March", "customs and shipping"),
    ("China's imports of US soybeans jump after trade truce", "imports or exports + change"),
    ("EU bans Russian oil imports in new sanctions package", "restriction + imports or exports"),
    ("Ukraine and Turkey revive Black Sea grain deal", "transit of goods"),
    ("China retaliates with levies on US farm goods", "duties on goods"),
    ("Chipmaker barred from selling AI chips to China", "export controls"),
    ("Seoul removes Tokyo from its export whitelist", "export controls"),
    ("Online retailers hit by end of duty-free exemption", "de minimis"),
    # 2026.12.2
    ("Kazakhstan suspends transit of Russian fertiliser to Baltic ports", "restriction + transit"),
    ("Brexit red tape sends UK food exports to the EU tumbling", "Brexit + imports or exports"),
    ("Beijing pledges to buy more American goods under truce", "buying + goods of a nation"),
    ("Brussels extends steel safeguard quotas to 2026", "anti-dumping"),
    ("Kenya and Uganda sign barter deal for sugar and fuel", "trade agreements"),
    ("Argentina keeps its electronics market closed to foreign goods", "market access"),
    # 2026.12.3: market access written out
    ("Britain threatens Japan over access to its markets", "market access"),
    ("Seoul urged to open its car market to foreign competition", "market access"),
    ("OECD ministers push reform of world farm trade", "trade policy"),
    ("China sets export quotas on rare earths", "export quotas"),
]

# (headline, the false friend that must be named against it, or None when nothing trade-like is found)
FALSE_FRIEND_HEADLINES = [
    ("Lakers trade guard to Mavericks in blockbuster deal", "sports trade"),
    ("Jets trade star receiver to Packers ahead of deadline", "sports trade"),
    ("Yankees acquire ace pitcher in trade with Padres", "sports trade"),
    ("Stocks rise in early trading as tech rallies", "securities trading"),
    ("Shares trade lower after earnings miss", "securities trading"),
    ("Bitcoin trading volume hits record on Binance", "securities trading"),
    ("Insider trading charges for hedge fund manager", "securities trading"),
    ("Tech giants show off AI gadgets at CES trade show", "trade show or fair"),
    ("Canton Fair draws record crowds of buyers", "trade show or fair"),
    ("Trade union calls national strike over pensions", "trade union or strike"),
    ("Nike sues rival over trademark infringement", "trade secret or mark"),
    ("Former engineer charged with stealing trade secrets", "trade secret or mark"),
    ("Trade-in values for used cars fall", "trade secret or mark"),
    ("Stamp duty holiday boosts house sales", "domestic duties and obligations"),
    ("Fuel duty frozen in budget", "domestic duties and obligations"),
    ("Feed-in tariff cut hits solar installers", "utility tariffs"),
    ("Ofgem approves new electricity tariffs for households", "utility tariffs"),
    ("Heat pump tariff launched by energy supplier", "utility tariffs"),
    ("Hotel room tariffs soar during festival", "utility tariffs"),
    ("Imported Covid cases rise in Hong Kong", "imported infections"),
    ("Press embargo lifted on royal announcement", "publication embargo"),
    ("OPEC+ agrees to extend output cuts", "commodity cartels and agreements"),
    ("Fair trade coffee sales rise", "other trades and traders"),
    ("Slave trade apology by Dutch king", "other trades and traders"),
    ("Pokemon trading card sells for record sum", "trading cards and games"),
    ("Court sanctions lawyer for fake citations", None),
    ("US budget deficit hits record", "budget deficits"),
    ("Emissions trading prices hit record", "securities trading"),
    ("Gold trades near record high", "securities trading"),
    ("Horse-trading in parliament over the budget", "other trades and traders"),
    ("Pay-TV group raises broadband and TV tariffs", "consumer prices and bills"),
    ("Taxi fares and tariffs rise in Mumbai", "consumer prices and bills"),
    # 2026.12.2
    ("Egypt's wheat import tender draws six offers", "commodity trade sources"),
    ("Currency trading slows as Fed decision looms", "securities trading"),
    ("Earthquake halts copper exports from Chilean port", "supply disruptions"),
    ("Chipmaker's takeover of rival blocked by regulators", "takeovers and acquisitions"),
    ("Coffee export quota talks collapse at the ICO", "commodity cartels and agreements"),
    # 2026.12.3: access to capital and plain competition are no market access
    ("Small firms struggle for access to capital markets", None),
    ("Regional banks face stiff foreign competition", None),
]


def from_headline(verdict: Verdict) -> set[str]:
    return {e.phrase for e in verdict.evidence if e.field == "title"}


@pytest.mark.parametrize(("headline", "deciding"), TRADE_HEADLINES, ids=lambda x: str(x)[:40])
def test_a_trade_headline_alone_is_trade_with_its_evidence(headline: str, deciding: str) -> None:
    verdict = classify(headline, "")
    assert verdict.is_trade, (headline, verdict)
    assert verdict.reason == "above threshold"
    assert deciding in from_headline(verdict), verdict.evidence
    assert "commodity market report" not in {e.phrase for e in verdict.evidence}


@pytest.mark.parametrize(("headline", "friend"), FALSE_FRIEND_HEADLINES, ids=lambda x: str(x)[:40])
def test_a_false_friend_headline_alone_is_not_trade(headline: str, friend: str | None) -> None:
    verdict = classify(headline, "")
    assert not verdict.is_trade, (headline, verdict)
    if friend is not None:
        assert friend in {e.phrase for e in verdict.evidence if e.weight < 0}, verdict.evidence


def test_a_headline_needs_a_trade_measure_not_just_the_word_trade() -> None:
    """One strong concept carries a headline; the bare word, or a hint, does not."""
    assert classify("Tariffs on steel raised", "").is_trade
    for weak in ("Trade body names new director", "Sanctions loom", "Customs queues grow at Dover"):
        assert not classify(weak, "").is_trade, weak


def test_a_commodity_headline_without_a_trade_measure_keeps_its_penalty() -> None:
    verdict = classify("Coffee prices fall as Brazil harvest beats forecasts", "")
    assert not verdict.is_trade
    assert "commodity market report" in {e.phrase for e in verdict.evidence if e.weight < 0}


@pytest.mark.parametrize(
    "headline",
    [
        "Thai coffee exports rise 8% in 2025",
        "Ghana cocoa exports fall in March",
        "Dutch cocoa bean imports rose in January",
        "Brazil's orange juice exports climb to record",
        "Australian iron ore exports rise 5% on Pilbara expansion",
    ],
)
def test_one_commodity_moving_by_the_tonne_is_commodity_news(headline: str) -> None:
    """A single crop or metal's exports rising or falling is commodity-market reporting, however the
    flow moves; the same commodity under a trade measure is trade (see TRADE_HEADLINES)."""
    verdict = classify(headline, "")
    assert not verdict.is_trade, verdict
    flows = {"commodity + imports or exports", "commodity + trade statistics"}
    assert flows & {e.phrase for e in verdict.evidence}


def test_a_foreign_trade_ministry_is_a_source_not_trade_figures() -> None:
    """ "The Foreign Trade Ministry said" names who speaks; it is no trade balance."""
    verdict = classify("Italy eases limits on cash at its borders", "The Foreign Trade Ministry said.")
    phrases = {e.phrase for e in verdict.evidence}
    assert "trade officials" in phrases
    assert "trade balance" not in phrases
    assert classify("Foreign trade fell 5% in March", "").is_trade


def test_limits_as_a_noun_is_no_restriction() -> None:
    verdict = classify("Finance minister says inflation was kept within limits and exports boosted", "")
    assert "restriction + imports or exports" not in {e.phrase for e in verdict.evidence}
    assert classify("India limits sugar exports to cool prices", "").is_trade
