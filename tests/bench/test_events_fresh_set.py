"""The fresh held-out trade-event set (bench/data/events_fresh.toml) is well formed, so that its scores mean
what they say: every item loads through bench/events.py, sits in the split its id promises, and carries
only measures of the README's taxonomy and jurisdiction codes the stage can name. Checked against pycountry
and the README's bloc list, not the stage's own tables, so a label the stage could never produce shows up
here rather than as a silent miss in the benchmark."""

from __future__ import annotations

import re
from datetime import date

import pycountry

from bench.events import FRESH, SPLITS, _in_split, load_items

#: The README's "Trade events" taxonomy (the `measure` row).
MEASURES = {
    "tariff_increase",
    "tariff_decrease",
    "anti_dumping",
    "countervailing_duty",
    "safeguard",
    "quota",
    "export_control",
    "export_ban",
    "import_ban",
    "sanctions",
    "fee_increase",
    "agreement_signed",
    "agreement_negotiating",
    "dispute_filed",
    "dispute_ruled",
    "retaliation",
}
#: The blocs the README says the stage names as their own code.
BLOCS = {"EU", "ASEAN", "MERCOSUR", "GCC", "EAEU", "EFTA", "CPTPP", "AFCFTA"}


def test_fresh_set_loads_with_unique_ids_odd_dev_and_even_test_splits() -> None:
    items = load_items(FRESH)
    assert len(items) >= 60
    ids = [i.id for i in items]
    assert len(set(ids)) == len(ids), "duplicate ids in events_fresh.toml"
    for item in items:
        number = int(re.fullmatch(r"f(\d{3})", item.id).group(1))  # type: ignore[union-attr]
        assert item.split == ("fresh-dev" if number % 2 else "fresh-test"), item.id
        assert isinstance(item.published, date), item.id
        assert item.title, item.id
        assert item.text, item.id
    for split in ("fresh-dev", "fresh-test", "fresh"):
        assert split in SPLITS
    dev = [i for i in items if _in_split(i, "fresh-dev")]
    test = [i for i in items if _in_split(i, "fresh-test")]
    assert dev
    assert test
    assert len(dev) + len(test) == len(items)
    assert [i for i in items if _in_split(i, "fresh")] == items
    assert not any(_in_split(i, "all") or _in_split(i, "blind") for i in items)
    for part in (dev, test):  # both splits hold eventless stories and stories with several events
        assert any(not i.events for i in part)
        assert any(len(i.events) > 1 for i in part)


def test_fresh_set_labels_use_the_taxonomy_and_nameable_codes() -> None:
    for item in load_items(FRESH):
        for event in item.events:
            where = f"{item.id}: {event}"
            assert event["measure"] in MEASURES, where
            codes = [*event.get("implementer", []), *event.get("affected", [])]  # type: ignore[misc]
            for code in codes:
                assert code in BLOCS or pycountry.countries.get(alpha_2=code) is not None, where
            assert event.get("implementer") or event["measure"] == "dispute_ruled", where
            for key in ("announced", "effective"):
                if key in event:
                    date.fromisoformat(str(event[key]))
            for key in ("rate_from", "rate_to"):
                if key in event:
                    assert re.search(r"\d", str(event[key])), where
                    assert "%" in str(event[key]) or " per " in str(event[key]), where
