"""Card numbers written with separators cards are not printed with (`sensitive.cards_unusual`):
slashes, underscores, commas, bars, tabs, wide gaps, mixed separators; and the rows of figures
in tables that must not be taken for one."""

from __future__ import annotations

import random
import time
import tracemalloc

import pytest

from attachguard.engines.base import Context, Item
from attachguard.engines.sensitive import SensitiveEngine, SensitiveOptions
from attachguard.policy import Limits
from attachguard.report import FileType
from attachguard.sensitive import cards as cards_module
from attachguard.sensitive import find
from attachguard.sensitive.cards import find as find_cards
from attachguard.sensitive.cards import issuer, luhn


def cards(text: str) -> list[tuple[str | None, str | None]]:
    return [(hit.issuer, hit.last4) for hit in find(text, ["card"])]


@pytest.mark.parametrize(
    "text",
    [
        "4111/1111/1111/1111",
        "4111_1111_1111_1111",
        "4111\\1111\\1111\\1111",
        "4111 / 1111 / 1111 / 1111",
        "please use 4111*1111*1111*1111 today",
        "Card: 4111, 1111, 1111, 1111",
        "card 4111|1111|1111|1111",
        "Card number 4111   1111   1111   1111",  # boxes of a form, extracted with wide gaps
        "Credit card no.\t4111\t1111\t1111\t1111",
        "card: 4111 1111-1111 1111",  # mixed separators, labelled
        "Card: 4111; 1111; 1111; 1111",  # a CSV row under a Card header, a group per cell
        "Card: 4111/1111/1111/1111/12/28",  # the expiry date after it
        "4111/1111/1111/1111/123",  # the security code after it
        "Amex 3782/822463/10005",
        # a card word, then words that only say what follows (red team 117)
        "Card details:\n4111:1111:1111:1111",
        "Card details:\n4111'1111'1111'1111",  # an apostrophe: Swiss thousands
        "Kartennummer: 4111'1111'1111'1111",  # German's compound card words
        "Card info below: 4111\u20191111\u20191111\u20191111",
        "Card details:\n4111|1111|1111|1111",
    ],
)
def test_numbers_with_unusual_separators_are_found(text: str) -> None:
    assert len(cards(text)) == 1


@pytest.mark.parametrize(
    "text",
    [
        "4111, 1111, 1111, 1111",  # four figures in a row: no card word before them
        "4111\t1111\t1111\t1111",
        "4111;1111;1111;1111",
        "4111 1111-1111 1111",  # mixed, unlabelled (`cards` does not take it either)
        "Visa\t4111\t1111\t1111\t1111",  # a brand heading a statement's row of figures
        "card holder John, 4111, 1111, 1111, 1111",  # a card word, but not right before it
        "4111'1111'1111'1111",  # an apostrophe, unlabelled: Swiss thousands
        "Order details: 4111:1111:1111:1111",
        "Order: 4111/1111/1111/1111",
        "Invoice 4111_1111_1111_1111",
        "12\t4111\t1111\t1111\t1111",  # a row of five figures
        "2019/4111/1111/1111/1111",
        "x4111/1111/1111/1111",
        "4111/1111/1111/1111abc",
        "4111/1111/1111/1112",  # Luhn fails
        "4111/11111111/1111",  # not a card's layout
        "4111/1111/1111/1111/2222/3333",  # a row of figures: more than a code or a date after
    ],
)
def test_look_alikes_with_unusual_separators_pass(text: str) -> None:
    assert cards(text) == []


def test_a_number_found_by_both_readings_counts_once() -> None:
    assert cards("card 4111 1111 1111 1111") == [("Visa", "1111")]


def test_rows_of_random_figures_are_not_cards() -> None:
    # a table of four-digit figures: about one row in thirty passes layout, Luhn and issuer
    rng = random.Random(7)
    rows = [[f"{rng.randint(1000, 9999)}" for _ in range(4)] for _ in range(3000)]
    passing = sum(1 for row in rows if luhn("".join(row)) and issuer("".join(row)))
    assert passing > 50  # the table does hold card-shaped rows
    for separator in (",", ";", "\t", " | ", "   "):
        text = "\n".join(separator.join(row) for row in rows)
        assert cards(text) == [], separator
        branded = "\n".join(f"Visa{separator}" + separator.join(row) for row in rows)
        assert cards(branded) == [], separator


def test_a_csv_with_a_card_column_split_over_cells() -> None:
    # the text engine reads each cell after its header: "Card: 4111; 1111; ..."
    data = b"Card,,,\n4111,1111,1111,1111\n"
    engine = SensitiveEngine(SensitiveOptions())
    item = Item("cards.csv", data, FileType("csv", "text/csv", "code", True))
    result = engine.scan(item, Context(Limits(), deadline=time.monotonic() + 30))
    assert [f.code.name for f in result.findings] == ["SENSITIVE_CARD"]
    assert "ending 1111" in result.findings[0].message
    figures = b"Month,Q1,Q2,Q3,Q4\nJan,4111,1111,1111,1111\n"
    item = Item("figures.csv", figures, FileType("csv", "text/csv", "code", True))
    assert engine.scan(item, Context(Limits(), deadline=time.monotonic() + 30)).findings == []


# red team 96: a card word's groups one per line (a table's cells, text boxes side by side),
# a form's boxes a digit each, fields of four digits


@pytest.mark.parametrize(
    "text",
    [
        "Card number:\n4111\n1111\n1111\n1111\n",
        "Card number\n\n4111\n\n1111\n\n1111\n\n1111",  # a Word table's cells
        "Card:\n\n\n\n\n\n\n\n4111\n\n\n\n\n\n\n\n1111\n\n\n\n\n\n\n\n1111\n\n\n\n1111",  # boxes
        "Card number; 4111; 1111; 1111; 1111",  # a spreadsheet row: the label in its own cell
        "Card: 4 1 1 1  1 1 1 1  1 1 1 1  1 1 1 1",  # digits spaced out
        "Card number\n4\n1\n1\n1\n1\n1\n1\n1\n1\n1\n1\n1\n1\n1\n1\n1",  # a box a digit
    ],
)
def test_groups_and_boxes_after_a_card_word_are_found(text: str) -> None:
    assert cards(text) == [("Visa", "1111")]


@pytest.mark.parametrize(
    "text",
    [
        "4111\n1111\n1111\n1111",  # a column of figures: no card word
        "Card payments\n4111\n1111\n1111\n1111\n2345\n6789\n1234",  # a longer column
        "4/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1",  # boxes need a card word
        "Order; 4111; 1111; 1111; 1111",
    ],
)
def test_columns_and_unlabelled_boxes_pass(text: str) -> None:
    assert cards(text) == []


def test_form_fields_of_a_few_digits_are_read_side_by_side() -> None:
    from attachguard.sensitive.pdf import _fields_text

    named = [("name", "John"), ("card1", "4111"), ("card2", "1111"), ("card3", "1111"),
             ("card4", "1111"), ("expiry", "12/28")]  # fmt: skip
    text = _fields_text(named)
    assert text.splitlines() == ["name: John", "card: 4111; 1111; 1111; 1111", "expiry: 12/28"]
    assert cards(text) == [("Visa", "1111")]
    boxes = [(f"Box{i}", digit) for i, digit in enumerate("4111111111111111")]
    assert cards(_fields_text([("Card number", " "), *boxes])) == []  # Box: no card word
    assert cards(_fields_text([(f"cc{i}", d) for i, d in enumerate("4111111111111111")])) == [
        ("Visa", "1111")
    ]


# review of the above: offsets that shift with case, a brand after the card word, "cc" in words


def test_card_words_are_found_in_the_text_itself() -> None:
    # "İ".lower() is two characters: offsets in a lowered copy drifted away from the number
    turkish = "İSTANBUL " * 40 + "Kart / Card number: 4111, 1111, 1111, 1111"
    assert cards(turkish) == [("Visa", "1111")]
    assert cards("Credit card (Visa): 4111, 1111, 1111, 1111") == [("Visa", "1111")]
    assert cards("account 4111, 1111, 1111, 1111") == []  # "cc" inside a word is none
    assert cards("Visa (card fees): 1523, 2210, 1876, 3341") == []  # no layout's Luhn


def test_a_run_of_a_million_digit_groups_is_not_weighed_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Review 138: "1 1 1 ..." is one run of digits apart: it was split, joined and each of its
    gaps weighed (1.3 CPU s for 2 MB, 0.34 s now), and the expression that found it kept 390 MB
    of state for it; 20 groups are no card, whole or with a code, so only its words of 13 digits
    or more are read. One among them is still found."""
    weighed: list[int] = []
    consistent = cards_module._consistent

    def weigh(run: str) -> bool:
        weighed.append(len(run))
        return consistent(run)

    monkeypatch.setattr(cards_module, "_consistent", weigh)
    tracemalloc.start()
    try:
        assert find_cards("1 " * 300_000) == []
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert max(weighed, default=0) < 100
    # the run's expression keeps no state per group (possessive): 117 MB before, 2 MB now
    assert peak < 20_000_000
    assert [h.last4 for h in find_cards("1 " * 3000 + "4111-1111-1111-1111 " + "1 " * 3000)] == [
        "1111"
    ]
