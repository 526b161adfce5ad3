"""The same-story decision on articles a person can read: copies join, follow-ups and other news do not."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import numpy as np
from datasketch import MinHash

from classifiers import stories

WIRE = """Washington will raise tariffs on Chinese steel and aluminium to 25 percent from March 3, the
Commerce Department said on Monday, in a move that officials said was meant to answer what they called
years of dumping by state-backed mills.

The new duties cover about $4.5 billion of imports a year, according to department figures, and follow a
review that began last autumn after complaints from domestic producers in Ohio and Pennsylvania.

Beijing's commerce ministry said it would study the measures and reserved the right to respond. Chinese
exporters have already shifted some shipments to Vietnam and Malaysia, trade data show.

Industry groups representing car makers and appliance firms warned that higher metal prices would be
passed on to consumers, while the steelworkers' union welcomed the decision.

The department said exemptions could be requested by importers who show that no domestic supplier can
provide the grade of steel they need, with decisions promised within ninety days."""

FOLLOW_UP = """Tariffs of 25 percent on Chinese steel and aluminium took effect on Tuesday, and ports in
Los Angeles and Houston reported the first shipments held at customs as importers rushed to file for
exemptions before the Friday deadline.

Customs officials said 312 containers were awaiting clearance. Several importers said they had paid the
duty under protest and would seek refunds if exemptions were granted later.

The new duties cover about $4.5 billion of imports a year, according to department figures, and follow a
review that began last autumn after complaints from domestic producers in Ohio and Pennsylvania.

Beijing's commerce ministry said it would study the measures and reserved the right to respond. Chinese
exporters have already shifted some shipments to Vietnam and Malaysia, trade data show."""

OTHER = """The European Union and New Zealand signed a free trade agreement in Brussels that removes duties
on kiwifruit, wine and most manufactured goods, ending four years of negotiations over dairy and beef
quotas. Farmers' groups in Ireland and France said the beef quota was too generous, while exporters in
Auckland welcomed faster customs clearance and the recognition of geographical names for wines."""


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in text.split("\n\n")]


def test_a_copy_with_another_title_boilerplate_and_reordered_paragraphs_is_the_same_story() -> None:
    paras = _paragraphs(WIRE)
    copy = "\n\n".join(
        [paras[0], paras[2], paras[1], paras[3], paras[4], "Sign up for our trade newsletter. Share this."]
    )
    original = stories.fingerprint("US to raise steel tariffs to 25% on March 3", WIRE)
    copied = stories.fingerprint("UPDATE 1-U.S. to raise steel tariffs to 25% on March 3 - Metal Daily", copy)
    decision = stories.compare(copied, original)
    assert decision.same, decision.reason
    assert decision.similarity >= stories.SAME_JACCARD
    assert "alike" in decision.reason


def test_a_truncated_copy_is_the_same_story_by_containment() -> None:
    paras = _paragraphs(WIRE)
    short = "\n\n".join(paras[:2])
    decision = stories.compare(
        stories.fingerprint("Steel tariffs rise", short), stories.fingerprint("x", WIRE)
    )
    assert decision.same, decision.reason
    assert "contained" in decision.reason


def test_a_follow_up_that_reuses_the_background_is_a_new_story() -> None:
    decision = stories.compare(
        stories.fingerprint("US steel tariffs take effect; first shipments held", FOLLOW_UP),
        stories.fingerprint("US to raise steel tariffs to 25% on March 3", WIRE),
    )
    assert not decision.same, decision.reason


def test_unrelated_trade_news_is_a_new_story_and_says_how_alike_it_was() -> None:
    decision = stories.compare(stories.fingerprint("EU, NZ sign deal", OTHER), stories.fingerprint("x", WIRE))
    assert not decision.same
    assert decision.reason.startswith("body ")


def test_articles_published_far_apart_are_different_stories_even_when_identical() -> None:
    when = datetime(2026, 3, 3, tzinfo=UTC)
    fp = stories.fingerprint("US to raise steel tariffs", WIRE)
    decision = stories.compare(fp, fp, new_published=when + timedelta(days=9), old_published=when)
    assert not decision.same
    assert "9 days apart" in decision.reason


def test_leads_with_different_numbers_are_different_events() -> None:
    march = WIRE.replace("March 3", "March 10").replace("25 percent", "10 percent")
    june = WIRE.replace("March 3", "June 1").replace("25 percent", "15 percent").replace("Monday", "Friday")
    decision = stories.compare(stories.fingerprint("a", june), stories.fingerprint("a", march))
    assert not decision.same
    assert "different facts" in decision.reason


def test_without_a_body_titles_decide_and_short_generic_titles_never_join() -> None:
    paywalled = stories.fingerprint("U.S. to raise tariffs on Chinese steel to 25 percent - Reuters", "")
    full = stories.fingerprint("US to raise tariffs on Chinese steel to 25 percent", WIRE)
    assert paywalled.basis == "title"
    assert stories.compare(paywalled, full).same
    generic = stories.fingerprint("Trade talks", "")
    assert not stories.compare(generic, stories.fingerprint("Trade talks", "")).same


def test_a_copy_shares_a_band_key_with_its_original_so_an_index_finds_it() -> None:
    paras = _paragraphs(WIRE)
    copy = stories.fingerprint("Steel tariffs", "\n\n".join([*paras, "Reporting by our Washington desk."]))
    original = stories.fingerprint("Steel tariffs", WIRE)
    assert set(copy.band_keys) & set(original.band_keys)
    assert not set(stories.fingerprint("EU NZ", OTHER).band_keys[: stories.BANDS]) & set(
        original.band_keys[: stories.BANDS]
    )


def test_title_cleaning_removes_desk_tags_and_outlet_names_only() -> None:
    assert stories.clean_title("UPDATE 2-Japan, US agree chip deal - Reuters") == "japan us agree chip deal"
    assert stories.clean_title("EXCLUSIVE: EU weighs steel quota | Trade Daily") == "eu weighs steel quota"
    assert stories.clean_title("Tariffs - what next") == "tariffs what next", "too little would remain"


def test_the_signature_is_datasketchs_affine32_minhash() -> None:
    values = np.unique(np.random.RandomState(7).randint(0, 2**32, 400, dtype=np.uint64).astype(np.uint32))
    reference = MinHash(num_perm=stories.NUM_PERM, seed=stories._SEED, scheme="affine32", hashfunc=int)
    reference.update_batch(values)
    assert np.array_equal(reference.hashvalues, stories._minhash(values, stories.NUM_PERM, stories._SEED))


def test_fingerprints_are_the_same_in_every_process() -> None:
    """Stored signatures are compared with ones made by other workers and later runs (hash() would differ)."""
    code = (
        "import sys; from classifiers import stories; "
        "fp = stories.fingerprint('Steel tariffs', sys.stdin.read()); "
        "print(fp.signature.hex(), *fp.band_keys)"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            input=WIRE,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    fp = stories.fingerprint("Steel tariffs", WIRE)
    assert outputs == {" ".join([fp.signature.hex(), *map(str, fp.band_keys)]) + "\n"}
    assert len(fp.signature) == 4 * stories.NUM_PERM
    assert len(fp.band_keys) == stories.BANDS + stories.TITLE_BANDS


def test_bodies_are_not_candidates_of_each_other_by_title_but_title_only_articles_are() -> None:
    """A busy topic's titles share words; only an article with no body needs its title to be found."""
    body = stories.fingerprint("EU and New Zealand sign free trade deal", OTHER)
    other_body = stories.fingerprint("EU and New Zealand sign free trade deal", WIRE)
    title_only = stories.fingerprint("EU and New Zealand sign free trade deal", "")
    assert not set(other_body.probe_keys) & set(body.band_keys), "same title, different bodies: no candidate"
    assert set(title_only.probe_keys) & set(body.band_keys), "a paywalled copy finds the full article"
    assert set(body.probe_keys) & set(title_only.band_keys), "and the full article finds the paywalled one"
