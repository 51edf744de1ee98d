"""Sensitive numbers in text: card numbers (PAN), IBANs and US social security numbers, each
with the look-alikes that must pass (masked numbers, orders, tracking, phones, IMEIs, amounts)."""

from __future__ import annotations

import random

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from attachguard.sensitive import Hit, find, fingerprint, normalise
from attachguard.sensitive import cards as card_rules
from attachguard.sensitive.cards import ISSUERS, issuer, luhn
from attachguard.sensitive.iban import mod97
from attachguard.sensitive.ssn import valid

# Test numbers the networks publish for developers (none is a real account).
VISA = "4111111111111111"
MASTERCARD = "5555555555554444"
MASTERCARD_2 = "2223003122003222"
AMEX = "378282246310005"
DISCOVER = "6011111111111117"
JCB = "3530111333300000"
DINERS = "30569309025904"
UNIONPAY = "6200000000000005"
MAESTRO = "6759649826438453"
VISA_19 = "4000000000000000006"


def cards(text: str, lenient: bool = False) -> list[tuple[str, str]]:
    return [(h.issuer, h.last4) for h in find(text, ["card"], lenient)]


@pytest.mark.parametrize(
    ("number", "name"),
    [
        (VISA, "Visa"),
        (MASTERCARD, "Mastercard"),
        (MASTERCARD_2, "Mastercard"),
        (AMEX, "American Express"),
        (DISCOVER, "Discover"),
        (JCB, "JCB"),
        (DINERS, "Diners Club"),
        (UNIONPAY, "UnionPay"),
        (MAESTRO, "Maestro"),
        (VISA_19, "Visa"),
    ],
)
def test_every_issuer_plain(number: str, name: str) -> None:
    assert luhn(number)
    assert issuer(number) == name
    assert cards(f"number {number} thanks") == [(name, number[-4:])]


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1111 exp 12/28",
        "4111-1111-1111-1111",
        "4111.1111.1111.1111",
        "4111\u00a01111\u00a01111\u00a01111",  # no-break spaces, as word processors write
        "Amex 3782 822463 10005",
        "Diners 3056 930902 5904",
        "Visa 4000 0000 0000 0000 006",
        "4111 1111 1111 1111 123",  # the security code after it
        "Qty 2 4111111111111111",
        "paid 12.50 4111-1111-1111-1111 on Monday",
        "\uff14\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11"
        "\uff11\uff11",  # fullwidth digits
        "4111\u200b1111\u200b1111\u200b1111",  # zero-width spaces between the groups
        "4\u00ad111111111111111",  # a soft hyphen
        "Order number 112-3941689-8772232, card 4111111111111111",
        "Card number: 4111111111111111.",
        "(4111111111111111)",
        '"4111111111111111",12/28',
        # an em dash, a middle dot, a bullet between the groups (red team 114)
        "Card number: 4111\u20141111\u20141111\u20141111",
        "4111\u00b71111\u00b71111\u00b71111",
        "4111 \u2022 1111 \u2022 1111 \u2022 1111",
    ],
)
def test_full_numbers_are_found(text: str) -> None:
    assert len(cards(text)) == 1


@pytest.mark.parametrize(
    "text",
    [
        "**** **** **** 4242",
        "XXXX-XXXX-XXXX-1234",
        "Visa ending in 4242",
        "4111 11** **** 1111",
        "411111******1111",
        "Card: ************1111",
        "4111111111111112",  # Luhn fails
        "1111111111111117",  # no issuer starts with 1
        "41111111111111111111",  # part of a longer run
        "4111 1111 1111 1111 1111",  # 20 digits in fours: a reference, not a card
        "A4111111111111111",
        "INV-4111111111111111",
        "ID_4111111111111111",
        "4111111111111111-01",
        "+4111111111111111",
        "$4111111111111111",
        "4111111111111111.00",
        "4111 1111 1111 1111.00",
        "4111 1111-1111 1111",  # mixed separators: not how cards are written
        "4111 11111111 1111",  # not a card's layout
        "Order number: 4111111111111111",
        "Order #4111111111111111",
        "Tracking: 4111111111111111",
        "IMEI: 356938035643809",
        "imei 490154203237518",
        "Reference no. 4111111111111111",
        "0rder #4111111111111111",  # OCR reads some fonts' O as a zero
        "Te1: 4111111111111111",
        "Tel 4111111111111111",
        "EAN 4006381333931",
        "4006381333931",  # a barcode: Visa's 13-digit numbers are not taken
        "Tracking number: 9400 1000 0000 0000 0000 00",
        "Phone: +1 (555) 123-4567",
        "2026-03-14 12:30:45",
        "Total: $1,234,567,890,123.45",
        "1 234 567 890 123 456",
        # bank accounts' numbers (hunt 100): an Indian current account, a Chinese one
        "A/c No: 50200012345679",
        "账号\uff1a3602000129838383823",  # a fullwidth colon, as Chinese text writes it
        "Acct # 50200012345679",
    ],
)
def test_look_alikes_pass(text: str) -> None:
    assert cards(text) == []


def test_an_amex_imei_look_alike_is_labelled_away_only_when_labelled() -> None:
    assert cards(f"IMEI {AMEX}") == []
    assert cards(f"IMEI 356938035643809, card {AMEX}") == [("American Express", "0005")]


def test_an_account_word_does_not_hide_a_card_named_as_one() -> None:
    """Card statements call the card's number the "account number": only a bank account's
    own words (A/c, Acct, 账号...) label a number away, and a card word nearer still counts."""
    assert cards(f"Account number: {VISA}") == [("Visa", "1111")]
    assert cards(f"A/c no. 123, card {VISA}") == [("Visa", "1111")]
    # ... and a card word or brand before a bank account's word keeps the card (review 104)
    assert cards(f"Credit card acct no. {VISA}") == [("Visa", "1111")]
    assert cards(f"Please charge my Visa.\nAcct: {VISA}") == [("Visa", "1111")]
    assert cards(f"Mein Kreditkarten-Konto: {VISA}") == [("Visa", "1111")]
    assert cards(f"Savings acct no. {VISA}") == []
    # ... and so does a card's expiry date or code after it (red team 108)
    assert cards(f"My acct {VISA} exp 12/27") == [("Visa", "1111")]
    assert cards(f"Numero de cuenta {VISA} cvv 123") == [("Visa", "1111")]
    assert cards(f"Acct: {VISA}, valid thru 09/2028") == [("Visa", "1111")]
    assert cards(f"Acct: {VISA} (savings), opened 2019") == []


def test_a_label_of_something_else_yields_to_a_card_grouped_and_named() -> None:
    """Red team 117: a card word or brand before the label, or an expiry or code named after a
    number grouped as cards are printed, make it a card whatever the label says; a plain run
    of digits, or a date alone after the number, leave it the order's or the booking's."""
    grouped = "4111 1111 1111 1111"
    for text in (
        f"Credit card ID: {grouped}",
        f"Please charge my Visa card for the order: {grouped} exp 12/28 cvv 123",
        f"Card number (customer): {grouped}, expiry 12/28",
        "My Mastercard - member: 5555 5555 5555 4444",
        f"Order: {grouped}, CVV 123",
    ):
        assert cards(text) != [], text
    for text in (
        f"Visa transaction ID: {VISA}",  # a receipt's transaction number beside the brand
        f"Order number: {grouped} 12/28",  # the order's date
        f"Booking ref {grouped}, paid by card",  # the card word after it
        # review 117: a card word in another sentence or line, "credit" alone, an expiry
        # word without a date or code after it
        f"Paid by Visa. Order number: {grouped}",
        f"Payment method: Mastercard\nTransaction ID: {grouped}",
        f"Debit card payment received. Reference: {grouped}",
        f"Credit note \u2014 Invoice no. {grouped}",
        f"Your loyalty card\nMember ID: {grouped}",
        f"Order: {grouped} expires in 30 days",
        f"Booking ref {grouped}, valid until 2026-03-01",
        f"Policy no. {grouped} expiration date: 01/01/2027",
    ):
        assert cards(text) == [], text
    # words that only say what follows label a number after a card word, not after another
    assert cards(f"Customer details: {grouped}") != []
    assert cards("Client data: 4556737586899855") != []


@pytest.mark.parametrize(
    "stored",
    [
        "\u202b1111 1111 1111 4111\u202c",  # a right-to-left embedding
        "\u20671111 1111 1111 4111\u2069 thanks",  # a right-to-left isolate
        "\u200f1111 \u200f1111 \u200f1111 \u200f4111",  # a right-to-left mark before each group
        "\u061c1111 \u061c1111 \u061c1111 \u061c4111",  # the Arabic letter mark
        "\u05d4\u05db\u05e8\u05d8\u05d9\u05e1 1111 1111 1111 4111",  # a Hebrew line
    ],
)
def test_a_number_is_read_in_the_order_it_is_displayed(stored: str) -> None:
    """Red team 117: digit groups in a right-to-left line or embedding are drawn from the
    right, so the groups stored "1111 1111 1111 4111" show "4111 1111 1111 1111"."""
    hits = find(f"Hello, the details:\n{stored}\nBye", ["card"])
    assert [(h.issuer, h.last4, h.line) for h in hits] == [("Visa", "1111", 2)]


def test_a_number_shown_in_either_order_counts_once() -> None:
    # stored as displayed in a right-to-left line: both readings find the same number
    assert len(find(f"\u05e9\u05dc\u05d5\u05dd {VISA}", ["card"])) == 1
    assert find("\u202b1111 1111 1111 1112\u202c", ["card"]) == []  # Luhn fails both ways


def test_a_keyword_elsewhere_does_not_label_the_number() -> None:
    # "order" in another cell or sentence says nothing about this number
    assert cards(f"Order\n12.99\n{VISA}") == [("Visa", "1111")]
    assert cards(f"order refund store {VISA}") == [("Visa", "1111")]


def test_lenient_grouping_for_text_read_from_pictures() -> None:
    assert cards("4111 11111111 1111") == []
    assert cards("4111 11111111 1111", lenient=True) == [("Visa", "1111")]


def test_each_run_gives_one_number() -> None:
    assert len(find(f"{VISA} and {VISA} and {MASTERCARD}", ["card"])) == 3
    hits = find(f"{VISA} and {VISA}", ["card"])
    assert hits[0] == hits[1]  # the same number: one digest


def test_a_hit_never_holds_the_number() -> None:
    hit = find(f"card {VISA}", ["card"])[0]
    assert VISA not in repr(hit) and VISA not in str(hit.__dict__)
    assert hit.describe() == "a payment card number (Visa, ending 1111)"
    assert hit.digest == fingerprint(VISA) and VISA not in hit.digest


def test_issuer_table_prefers_the_longest_prefix() -> None:
    lengths = [len(i.low) for i in ISSUERS]
    assert lengths == sorted(lengths, reverse=True)
    assert issuer("6011000000000004") == "Discover"  # not RuPay's 60


def test_normalise() -> None:
    assert normalise("4\u200b1") == "41"
    assert normalise("\uff14") == "4"


@pytest.mark.parametrize(
    "mark",
    [
        "\u061c",  # the Arabic letter mark
        "\u2065",  # unassigned, default-ignorable
        "\U000e0041",  # a tag character
        "\ufe00",  # a variation selector
        "\u180b",  # a Mongolian free variation selector
        "\u0332",  # a combining underline drawn under the digit
    ],
)
def test_what_no_reader_shows_between_digits_is_dropped(mark: str) -> None:
    """Red team 94: invisible characters beyond the zero-width ones split a card number."""
    text = mark.join("4111111111111111")
    assert normalise(text) == "4111111111111111"
    assert [h.kind for h in find(text, ("card",))] == ["card"]


def test_a_hangul_filler_is_a_blank() -> None:
    assert normalise("4111\u31641111\u31641111\u31641111") == "4111 1111 1111 1111"


# -- IBAN --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "IBAN: DE89 3704 0044 0532 0130 00",
        "DE89370400440532013000",
        "GB82 WEST 1234 5698 7654 32 (Barclays)",
        "gb82west12345698765432",
        "FR14 2004 1010 0505 0001 3M02 606",
        "NL91 ABNA 0417 1643 00 thanks",
    ],
)
def test_ibans_are_found(text: str) -> None:
    hits = find(text, ["iban"])
    assert len(hits) == 1 and hits[0].kind == "iban"


@pytest.mark.parametrize(
    "text",
    [
        "DE89 3704 0044 0532 0130 01",  # check fails
        "DE89 3704 0044 0532 0130",  # too short for Germany
        "XX89370400440532013000",  # no such country
        "DE89 37040 0440 5320 1300 0",  # not grouped by four
        "ADE89370400440532013000",  # inside a longer word
    ],
)
def test_iban_look_alikes_pass(text: str) -> None:
    assert find(text, ["iban"]) == []


def test_mod97() -> None:
    assert mod97("GB82WEST12345698765432")
    assert not mod97("GB83WEST12345698765432")


# -- SSN ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["SSN 536-22-1234", "536 22 1234", "SSN: 536221234"])
def test_ssns_are_found(text: str) -> None:
    assert [h.last4 for h in find(text, ["ssn"])] == ["1234"]


@pytest.mark.parametrize(
    "text",
    [
        "000-12-3456",
        "666-12-3456",
        "912-12-3456",
        "536-00-1234",
        "536-22-0000",
        "078-05-1120",  # the wallet-card number printed in 1938 advertisements
        "536221234",  # nine digits with no label
        "536-22-1234-9",
        "536-22 1234",
        "call 555-123-4567",
    ],
)
def test_ssn_look_alikes_pass(text: str) -> None:
    assert find(text, ["ssn"]) == []


def test_ssn_rules() -> None:
    assert valid("536", "22", "1234")
    assert not valid("900", "22", "1234")


def test_classes_are_only_looked_for_when_asked() -> None:
    text = f"{VISA} DE89370400440532013000 SSN 536-22-1234"
    assert {h.kind for h in find(text, ["card"])} == {"card"}
    assert {h.kind for h in find(text, ["card", "iban", "ssn"])} == {"card", "iban", "ssn"}
    assert all(isinstance(h, Hit) for h in find(text, ["iban"]))


def test_a_list_of_identifiers_is_not_a_list_of_cards() -> None:
    rng = random.Random(3)
    orders = "\n".join(f"A{i},{rng.randint(10**15, 10**16 - 1)},12.50" for i in range(300))
    assert find(orders, ["card"]) == []  # about ten pass the checks by chance
    rows = (VISA if i % 2 else str(rng.randint(10**15, 10**16 - 1)) for i in range(60))
    leaked = "\n".join(f"bob,{number}" for number in rows)
    assert len(find(leaked, ["card"])) >= 30
    grouped_card = orders + "\n4111 1111 1111 1111\n"
    assert len(find(grouped_card, ["card"])) == 1  # written as a card is written: still found


# Characters around the edges of a stretch: digits, every separator, line breaks, quotes, and
# characters that end one (letters, punctuation, a non-ASCII digit and space).
_EDGES = "0123456789 -.\r\n>a;:\t/_+$\u00a0\u2013\u0663"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_EDGES, max_size=120))
@example("x" + "1" * 13)
@example("1" * 12 + ";" + "2" * 13 + "-" * 4)
def test_stretches_of_ascii_text_are_the_expressions_own(text: str) -> None:
    """The mask search that ASCII text takes finds the spans the expression finds."""
    expected = [stretch.span() for stretch in card_rules._STRETCH.finditer(text)]
    assert list(card_rules._stretches(text)) == expected
    ascii_only = "".join(c for c in text if c.isascii())
    expected = [stretch.span() for stretch in card_rules._STRETCH.finditer(ascii_only)]
    assert list(card_rules._stretches(ascii_only)) == expected
