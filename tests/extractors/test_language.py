"""The one language detector (extractors/language.py): named languages, English never hidden by mistake."""

from __future__ import annotations

import pytest

from classifiers.trade import reject_reason
from extractors.article import extract
from extractors.language import detect_language


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (
            "Le gouvernement français a annoncé des droits de douane sur les "
            "importations, selon le ministre.",
            "fr",
        ),
        (
            "Il governo ha detto che i dazi sono una questione che riguarda anche gli "
            "esportatori della regione.",
            "it",
        ),
        (
            "De regering heeft gezegd dat de invoerheffingen niet zijn verlaagd en dat het "
            "overleg nog doorgaat.",
            "nl",
        ),
        ("日本政府は米国との貿易交渉について、関税の引き下げを求めていると発表した。", "ja"),
        ("美国商务部宣布扩大对华芯片出口管制。", "zh"),
        ("한국 정부는 미국과의 관세 협상을 계속하고 있다고 밝혔다.", "ko"),
        ("وقالت الحكومة إن الرسوم الجمركية الجديدة ستدخل حيز التنفيذ الشهر المقبل.", "ar"),
    ],
)
def test_other_languages_are_named(text: str, code: str) -> None:
    assert detect_language(text) == code


@pytest.mark.parametrize(
    "text",
    [
        "JAPAN FEBRUARY TRADE SURPLUS JUMPS",
        "Tariffs",
        "Mexico's economy minister, Marcelo Ebrard, met officials of the Secretaría de Economía in the "
        "capital and said the talks with Washington were going well, according to a ministry statement.",
        "Beijing's commerce ministry (商务部) said on Friday it would respond to the new US export controls.",
        "The EU's trade commissioner Maroš Šefčovič said the bloc was ready to retaliate "
        "against the tariffs.",
    ],
)
def test_english_with_foreign_names_or_in_capitals_stays_english(text: str) -> None:
    assert detect_language(text) in (
        "en",
        None,
    )  # None: too short to tell, which the classifier reads as English
    assert reject_reason(text, "") == ""


RUSSIAN = (
    "Правительство России объявило о повышении импортных пошлин на сталь и алюминий из ряда стран. "
    "По словам министра, новые тарифы вступят в силу с первого числа следующего месяца."
)


def test_the_extractor_and_the_classifier_name_the_same_language() -> None:
    # Issue 20: the extractor's own detector had no Cyrillic and said None where the classifier said "ru".
    article = extract(f"<html><body><article><p>{RUSSIAN}</p></article></body></html>")
    assert article.language == "ru"
    assert reject_reason("Пошлины на сталь", article.text) == "non-English (ru)"


def test_the_classifier_reads_the_articles_language_when_it_has_one() -> None:
    from classifiers.trade import LexiconClassifier

    classifier = LexiconClassifier()
    title, text = "Tariffs", "Steel tariffs rise."
    assert classifier.classify(title, text).reason != "non-English (de)"
    assert classifier.classify(title, text, language="de").reason == "non-English (de)"
    assert classifier.classify(title, text, language="en").reason == classifier.classify(title, text).reason
