"""Payment card numbers (PAN) in text.

A number is a card number when all of these hold:

- it is a whole run of digits: 13 to 19 of them, plain or in groups separated by one or two
  spaces, a dash (spaced or not) or a dot (the same kind throughout), and not part of a longer
  run, a word (``A4111...``), an identifier (``INV-4111...``, ``ID_4111...``; but a card word
  before the joining character is a label: ``Card#4111...``, ``VISA-4111...``), a phone
  number (``+4111...``), an amount (``4111....00``, ``$4111...``); the exceptions are a
  trailing group of three digits after a card's layout (the security code written after the
  number), a number set off by spaces from other numbers that do not continue its layout
  ("Qty 2 4111111111111111"), and a first or last group that is joined to something else
  while the rest is not (the expiry date beside the number: "4111 ... 1111 12/28");
- a run over two lines is one number only where a mail client wrapped a long line (quoted in a
  reply or not) inside a number grouped with spaces; digit groups on lines of their own are a
  column of numbers, and each line of a run is otherwise read on its own;
- grouped numbers follow a layout cards are printed in (4-4-4-4, Amex 4-6-5, Diners 4-6-4,
  4-4-4-4-3 for 19 digits...); text read from a picture (``lenient``) takes any grouping, since
  the spacing is the OCR's guess;
- the Luhn check digit is right, and the first digits and the length are those of a real issuer
  (`ISSUERS`: Visa, Mastercard including the 2-series, American Express, Discover, JCB, Diners
  Club, UnionPay, Maestro, Mir, RuPay, Troy, Verve, Dankort...);
- it is not labelled as something else: the nearest keyword before it is not one for an
  order, invoice, tracking, phone, IMEI, serial, barcode or reference number (`NEGATIVE`) with
  only filler between them ("Order number: 4111...", "IMEI 3569..."); a card word nearer
  (``card``, ``Visa``, ``credit``... in `POSITIVE`) or other words between them lift it, and
  so does, for a number grouped as cards are printed, a card word or brand before the label
  or an expiry date or security code after the number ("Credit card ID: 4111 1111 ...").

A text holding many plain 13-19-digit numbers of which few pass these checks is a list of
identifiers (an export of order numbers, where one random number in thirty passes by chance):
its plain numbers are not taken, its grouped ones still are (see `_without_identifiers`).

Masked numbers (``**** **** **** 4242``, ``4111 11** **** 1111``, ``XXXX-1234``, "ending in
4242") never make a run of 13 digits, so receipts that print them pass. Visa's 13-digit numbers
(withdrawn decades ago) are not taken: EAN-13 barcodes starting with 4 would be, one in ten.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from attachguard.sensitive import Hit, fingerprint


@dataclass(frozen=True)
class Issuer:
    """Card numbers that start with a prefix between ``low`` and ``high`` (same number of
    digits) and have one of ``lengths``."""

    name: str
    low: str
    high: str
    lengths: frozenset[int]


def _issuers() -> list[Issuer]:
    sixteen_19 = frozenset(range(16, 20))
    table = [
        ("Visa", "4", "4", {16, 19}),
        ("Mastercard", "51", "55", {16}),
        ("Mastercard", "2221", "2720", {16}),
        ("American Express", "34", "34", {15}),
        ("American Express", "37", "37", {15}),
        ("Discover", "6011", "6011", sixteen_19),
        ("Discover", "644", "649", sixteen_19),
        ("Discover", "65", "65", sixteen_19),
        ("JCB", "3528", "3589", sixteen_19),
        ("Diners Club", "300", "305", {14, 16, 17, 18, 19}),
        ("Diners Club", "3095", "3095", {14, 16, 17, 18, 19}),
        ("Diners Club", "36", "36", {14, 16, 17, 18, 19}),
        ("Diners Club", "38", "39", {14, 16, 17, 18, 19}),
        ("UnionPay", "62", "62", sixteen_19),
        ("Maestro", "5018", "5018", frozenset(range(13, 20))),
        ("Maestro", "5020", "5020", frozenset(range(13, 20))),
        ("Maestro", "5038", "5038", frozenset(range(13, 20))),
        ("Maestro", "5893", "5893", frozenset(range(13, 20))),
        ("Maestro", "6304", "6304", frozenset(range(13, 20))),
        ("Maestro", "6759", "6759", frozenset(range(13, 20))),
        ("Maestro", "6761", "6763", frozenset(range(13, 20))),
        ("Dankort", "5019", "5019", {16}),
        ("Mir", "2200", "2204", sixteen_19),
        ("RuPay", "60", "60", {16}),
        ("RuPay", "6521", "6522", {16}),
        ("RuPay", "508", "508", {16}),
        ("Troy", "9792", "9792", {16}),
        ("Verve", "506099", "506198", {16, 18, 19}),
        ("Verve", "650002", "650027", {16, 18, 19}),
        ("InterPayment", "636", "636", sixteen_19),
        ("InstaPayment", "637", "639", {16}),
    ]
    return [Issuer(name, low, high, frozenset(lengths)) for name, low, high, lengths in table]


# Longest prefixes first, so that a co-branded range names its own issuer (6011 Discover before
# 60 RuPay, 5019 Dankort before 50... Maestro).
ISSUERS: tuple[Issuer, ...] = tuple(sorted(_issuers(), key=lambda i: -len(i.low)))

# The layouts cards are printed in, as group sizes.
LAYOUTS: frozenset[tuple[int, ...]] = frozenset(
    {
        (4, 4, 5), (4, 4, 4, 1), (4, 3, 3, 3),  # 13
        (4, 6, 4),  # 14: Diners Club
        (4, 6, 5),  # 15: American Express
        (4, 4, 4, 4),  # 16
        (4, 4, 4, 4, 1), (4, 4, 4, 4, 2), (6, 12),  # 17, 18
        (4, 4, 4, 4, 3), (6, 13), (4, 4, 4, 7),  # 19
    }
)  # fmt: skip

# A bank account's own words (hunt 100: an Indian current account read as Maestro, a Chinese
# one as Diners); plain "account" stays out: card statements print the card's number as the
# "account number". They label a number away only with no card word or brand before it:
# "Credit card acct no." and "Kreditkarten-Konto" still name a card (review 104)
BANK_ACCOUNT = frozenset(
    ("a/c", "acct", "ifsc", "kontonummer", "konto", "compte", "cuenta", "conto", "rekening",
     "账号", "帐号", "账户", "帐户", "口座")
)  # fmt: skip
NEGATIVE = frozenset(
    (
        "order", "orders", "invoice", "inv", "bill", "tracking", "track", "shipment", "parcel",
        "package", "waybill", "awb", "consignment", "phone", "tel", "telephone", "fax", "mobile",
        "imei", "meid", "esn", "serial", "sn", "s/n", "ref", "reference", "confirmation",
        "booking", "reservation", "transaction", "txn", "trans", "customer", "client", "member",
        "membership", "loyalty", "policy", "claim", "ticket", "case", "sku", "ean", "upc", "gtin",
        "isbn", "barcode", "item", "product", "model", "part", "auth", "authorization",
        "authorisation", "approval", "receipt", "rrn", "arn", "utr", "iban", "bic", "swift",
        "routing", "sort", "vat", "tax", "id", "ssn",
    )
) | BANK_ACCOUNT  # fmt: skip
POSITIVE = frozenset(
    (
        "card", "cards", "cc", "ccn", "pan", "visa", "mastercard", "amex", "discover", "jcb",
        "diners", "unionpay", "maestro", "credit", "debit", "cvv", "cvc", "cvv2", "expiry", "exp",
        "expires", "expiration", "kreditkarte", "kreditkarten", "karte", "carte", "tarjeta",
        "carta", "kartennummer", "kreditkartennummer",
    )
)  # fmt: skip
# The words that name a payment card (not one brand: "Visa 1523 2210" heads a row of figures
# in a merchant's statement)
CARD_WORDS = frozenset(
    ("card", "cards", "cc", "ccn", "pan", "credit", "debit", "kreditkarte", "kreditkarten",
     "karte", "carte", "tarjeta", "carta", "kartennummer", "kreditkartennummer")
)  # fmt: skip
_KEYWORD = re.compile(
    r"(?<![^\W\d_])(" + "|".join(sorted(map(re.escape, NEGATIVE | POSITIVE), key=len)[::-1])
    + r")(?![^\W\d_])",
    re.IGNORECASE,
)  # fmt: skip
# A list of identifiers: at least this many plain 13-19-digit numbers, at most this share of
# them card numbers (random numbers: about 3%; a list of cards: all of them).
_IDENTIFIERS = (20, 0.2)
# A line of a run: its digits and separators, without the line's blanks or reply quotes.
_LINE = re.compile(r"[\s>]*([^\r\n]*[^\s>])")
_WRAP_WIDTH = 40  # characters: a shorter line was not wrapped by a mail client
_BEFORE = 40  # characters before a number searched for a keyword: a label and a few words
# Digits inside or at the head of a word, read as the letters they stand for there: OCR reads
# "Order" in some fonts as "0rder", "Tel" as "Te1".
_LETTERLIKE = re.compile(r"(?<=[A-Za-z])[015]|[015](?=[A-Za-z]{2})")
_DIGIT_LETTERS = str.maketrans("015", "ols")
# What may stand between a label and its number.
_FILLER_MARKS = r"[\s:;|#.\-\u2013\u2014=()\[\]/]"
_NUMBER_WORDS = "numbers?|no|nr|num|nbr"
_FILLER_WORDS = f"{_NUMBER_WORDS}|id|code|is|was|of|the|your|our|a|an"
_FILLER = re.compile(
    rf"(?:{_FILLER_MARKS}|(?<![^\W\d_])(?:{_FILLER_WORDS})(?![^\W\d_]))*", re.IGNORECASE
)
# ... and after a card word, the words that only say what follows ("Card details: 4111:1111:
# ...", "Card info below", red team 117; after "Customer details:" a number stays unlabelled)
_CARD_FILLER_WORDS = f"{_FILLER_WORDS}|are|my|details?|info|information|data|below"
_CARD_FILLER = re.compile(
    rf"(?:{_FILLER_MARKS}|(?<![^\W\d_])(?:{_CARD_FILLER_WORDS})(?![^\W\d_]))*", re.IGNORECASE
)

_SPACE_CHARS = " \u00a0\u2007\u2009\u202f"
# Dashes, and the marks a writer sets between groups as one (red team 114: an em dash, a middle
# dot, a bullet: "4111\u20141111\u2014...", "4111 \u2022 1111 \u2022 ..." show the number)
_DASH_CHARS = "\\-\u2010\u2011\u2012\u2013\u2014\u2212\u00b7\u2022\u2027\u2219\u22c5"
_SEP = _SPACE_CHARS + _DASH_CHARS + "."
# What may stand between two groups: one or two spaces (text laid out in a PDF comes back with
# two where the writer placed two pieces side by side), a dash with a space on either side or
# none ("4111 - 1111 - ..."), a dot, or a line break where a mail client or a text box wrapped
# a number grouped with spaces (see `_consistent`), quoted in a reply ("> ") or not.
_GAP = (
    rf"(?:[{_SPACE_CHARS}]?[{_DASH_CHARS}][{_SPACE_CHARS}]?|[{_SPACE_CHARS}]{{0,2}}\r?\n"
    rf"(?:> ?)*[{_SPACE_CHARS}]{{0,2}}|[{_SPACE_CHARS}]{{1,2}}|\.)"
)
# A run of digits that begins where no digit (or digit and separator) stands before it and
# holds at least 13 digits; possessive ({12,}+), so that it ends where the run ends and the
# engine keeps no state to give a group back (a run of a million groups: 390 MB, review 138).
_RUN = re.compile(rf"(?<!\d)(?<!\d[{_SEP}])\d(?:{_GAP}?\d){{12,}}+")
# The stretches a run can lie in: 13 or more of the characters it is made of. A simple class
# that the regular expression engine skips through quickly; `_RUN`, which tries every digit,
# is applied inside them only (5 times faster on a digit-heavy 10 MB table).
_STRETCH = re.compile(rf"[\d{_SEP}\r\n>]{{13,}}")
# The same stretches in ASCII text, found without the regular expression engine (which tries
# every position: 50 ns a character, 0.3 s for a 5 MB export): each character becomes "1" when
# `_STRETCH` takes it and "0" when not, and a stretch is a run of 13 or more "1"s, found by a
# substring search (`_stretches`).
_STRETCH_BYTES = bytes(
    ord("1") if re.fullmatch(rf"[\d{_SEP}\r\n>]", chr(b)) else ord("0") for b in range(256)
)
_STRETCH_MIN = b"1" * 13
_SPLIT = re.compile(_GAP)
# A run's words of 13 characters or more: what blanks and a reply's quotes (">") part
_LONG_TOKEN = re.compile(rf"[^{_SPACE_CHARS}\r\n>]{{13,}}")
_MOST_GROUPS = 19  # a card's digits, one a group
_DASHES = frozenset(_DASH_CHARS.replace("\\", ""))
_IDENTIFIER_JOIN = frozenset("-/._#")  # "INV-4111...", "ID_4111...", "A/4111..."
_BEFORE_AMOUNT = frozenset("+$€£¥₹")  # a phone number, an amount
_AFTER_JOIN = frozenset("-/_")  # "4111...-01", "4111.../A"
# A card word right before a joining character labels the number, not an identifier:
# "Card#4111...", "VISA-4111...", "card_4111...".
_WORD_BEFORE = re.compile(r"([^\W\d_]+)$")


def luhn(digits: str) -> bool:
    """Whether the last digit is the Luhn check digit of the others."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def issuer(digits: str) -> str | None:
    """The issuer whose prefix and lengths ``digits`` has, or None."""
    for entry in ISSUERS:
        head = digits[: len(entry.low)]
        if entry.low <= head <= entry.high and len(digits) in entry.lengths:
            return entry.name
    return None


def find(text: str, lenient: bool = False) -> list[Hit]:
    """The card numbers in ``text`` (see the module docstring)."""
    hits: list[tuple[Hit, bool]] = []
    plain = 0  # runs of 13-19 digits written with no separator
    for match in _runs(text):
        lines = list(_lines(text, match.start(), match.end()))
        plain += sum(1 for first, last in lines if _plain(text[first:last]))
        hits += _hits(text, lines, lenient)
    return _without_identifiers(hits, plain)


def _runs(text: str) -> Iterator[re.Match[str]]:
    """`_RUN`'s matches in ``text``, found inside the stretches of `_STRETCH` only."""
    for span in _stretches(text):
        yield from _RUN.finditer(text, *span)


def _stretches(text: str) -> Iterator[tuple[int, int]]:
    """The spans of `_STRETCH`'s matches in ``text``: for ASCII text (where a character is a
    byte) the runs of 13 or more "1"s in its mask (`_STRETCH_BYTES`), which are the same spans
    (the first place 13 "1"s start has a "0" or nothing before it); else the expression's."""
    if not text.isascii():
        yield from (stretch.span() for stretch in _STRETCH.finditer(text))
        return
    mask = text.encode("ascii").translate(_STRETCH_BYTES)
    start = mask.find(_STRETCH_MIN)
    while start >= 0:
        end = mask.find(b"0", start + len(_STRETCH_MIN))
        end = len(mask) if end < 0 else end
        yield start, end
        start = mask.find(_STRETCH_MIN, end)


def _plain(run: str) -> bool:
    """A number of card length written with no separator (a shorter one is no identifier of
    the kind `_without_identifiers` weighs: a column of quantities above a card number is not
    a list of order numbers, review 115)."""
    return run.isdigit() and 13 <= len(run) <= 19


def _hits(text: str, lines: list[tuple[int, int]], lenient: bool) -> list[tuple[Hit, bool]]:
    """The card number of each line of a run (most runs have one line), each with whether it
    is written plain; when none has one, that of a run over two lines (a number grouped with
    spaces that a mail client or a text box wrapped)."""
    found = [
        (hit, _plain(text[a:b]))
        for a, b in lines
        if b - a >= 13 and (hit := _hit(text, a, b, lenient))  # a shorter line holds no number
    ]
    if found or len(lines) != 2 or not _full_line(text, lines[0][1]):
        return found
    wrapped = _hit(text, lines[0][0], lines[1][1], lenient)
    return [(wrapped, False)] if wrapped else []


def _full_line(text: str, end: int) -> bool:
    """Whether the line that ends at ``end`` is long enough to have been wrapped there (mail
    clients wrap at 72 to 78 characters; two short lines of digit groups are a table)."""
    return end - (text.rfind("\n", 0, end) + 1) >= _WRAP_WIDTH


def _hit(text: str, start: int, end: int, lenient: bool) -> Hit | None:
    span = unjoined(text, start, end)
    if span is None:
        return None
    found = _first_card(text[span[0] : span[1]], lenient)
    if found is None or _labelled_otherwise(text, span[0], span[1]):
        return None
    return Hit("card", *found, span[0])


def _lines(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """The spans of the lines of the run at ``start:end``, blanks at either end left out."""
    if "\n" not in text[start:end]:
        yield start, end
        return
    for line in _LINE.finditer(text, start, end):
        yield line.span(1)


def unjoined(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span of the run that is not part of a word, an identifier, a phone number or an
    amount: the whole run, or the run less a first or last group that is ("exp 12/28 4111 ...",
    "4111 ... 1111 12/28": the expiry date beside the number); None when nothing is left."""
    while _joined_before(text, start):
        gap = _SPLIT.search(text, start, end)
        if gap is None or not gap.group().isspace():
            return None
        start = gap.end()
    while _joined_after(text, end):
        gaps = [g for g in _SPLIT.finditer(text, start, end) if g.group().isspace()]
        if not gaps:
            return None
        end = gaps[-1].start()
    return start, end


def _first_card(run: str, lenient: bool) -> tuple[str, str, str] | None:
    """Issuer, last four and digest of the first card number the run holds (one per run)."""
    for digits in _candidates(run, lenient):
        if luhn(digits):
            name = issuer(digits)
            if name:
                return name, digits[-4:], fingerprint(digits)
    return None


def _without_identifiers(hits: list[tuple[Hit, bool]], plain: int) -> list[Hit]:
    """The hits, less the plain ones when the text is a list of identifiers: among many plain
    13-19-digit numbers, card numbers pass the checks all together, while one random number in
    ten passes Luhn's and about one in three of those has an issuer's prefix and length. So
    when few of them pass (`_IDENTIFIERS`), the ones that do are taken for order numbers or
    references that passed by chance."""
    many, ratio = _IDENTIFIERS
    passed = sum(1 for _, is_plain in hits if is_plain)
    if plain >= many and passed <= ratio * plain:
        return [hit for hit, is_plain in hits if not is_plain]
    return [hit for hit, _ in hits]


def _joined_before(text: str, start: int) -> bool:
    """Whether what stands before the run makes it part of a word, an identifier, a phone
    number or an amount (a card word before a joining character does not: "Card#4111...")."""
    before = text[start - 1] if start else " "
    before2 = text[start - 2] if start > 1 else " "
    if before.isalnum() or before in _BEFORE_AMOUNT:
        return True
    if before in _IDENTIFIER_JOIN or before == "_":
        word = _WORD_BEFORE.search(text, max(0, start - 20), start - 1)
        if word is not None and word.group(1).lower() in POSITIVE:
            return False
        return before == "_" or before2.isalnum() or before2 == "_"
    return False


def _joined_after(text: str, end: int) -> bool:
    """Whether what follows the run makes it part of a word, an identifier or an amount."""
    after = text[end : end + 2]
    if not after:
        return False
    if after[0].isalnum() or after[0] == "_":
        return True
    follows = after[1:2]
    # "4111....00" is an amount; "4111...,12/28" is the next CSV cell, not a decimal comma
    return bool(follows) and follows.isalnum() and (after[0] in _AFTER_JOIN or after[0] == ".")


def _candidates(run: str, lenient: bool) -> Iterator[str]:
    """The digits of a run that could be one card number: the whole run, its card-shaped head
    when only a three-digit security code follows, or a number the run holds between spaces
    ("Qty 2 4111111111111111", "12.50 4111-1111-1111-1111")."""
    # 20 groups are 20 digits at least: no card, whole or with a code after it. A run of a
    # million digits apart (review 138: "1 1 1 ...", 2 MB) is not split or weighed whole
    groups = _SPLIT.split(run, maxsplit=_MOST_GROUPS)
    if len(groups) == 1:
        digits = _ascii(groups[0])
        if len(digits) <= 19:
            yield digits
        return
    if len(groups) <= _MOST_GROUPS and _consistent(run):
        digits = "".join(_ascii(g) for g in groups)
        layout = tuple(len(g) for g in groups)
        if (lenient and len(digits) <= 19) or layout in LAYOUTS:
            yield digits
        if layout[-1] == 3 and layout[:-1] in LAYOUTS:
            yield digits[:-3]
    for match in _LONG_TOKEN.finditer(run):  # the words of 13 digits or more
        token = match.group()
        if token != run and sum(c.isdigit() for c in token) >= 13:
            yield from _candidates(token, lenient)


def _consistent(run: str) -> bool:
    """One kind of separator throughout: spaces, dashes (with or without spaces) or dots; a
    line break only where a number grouped with spaces was wrapped: once, beside spaces. (Digit
    groups on lines of their own are a column of numbers, not one number.)"""
    gaps = _SPLIT.findall(run)
    breaks = sum("\n" in gap for gap in gaps)
    if breaks > 1 or (breaks and breaks == len(gaps)):
        return False
    return len({_kind(gap) for gap in gaps}) <= 1


def _kind(gap: str) -> str:
    if any(c in _DASHES for c in gap):
        return "dash"
    return "dot" if gap == "." else "space"


def _ascii(group: str) -> str:
    return group if group.isascii() else "".join(str(unicodedata.digit(c)) for c in group)


def _as_letter(match: re.Match[str]) -> str:
    return match.group().translate(_DIGIT_LETTERS)


def _labelled_otherwise(text: str, start: int, end: int) -> bool:
    """Whether the nearest keyword before the number labels it as something else: only filler
    ("number", "no.", "#", ":") stands between them, as in "Order number: 4111..." (a keyword
    further away, in another table cell or sentence, says nothing about this number), and the
    number does not show itself a card all the same (`_a_card_all_the_same`)."""
    window, last = _nearest_keyword(text, start)
    if last is None or last.group(1).lower() not in NEGATIVE:
        return False
    if _FILLER.fullmatch(window[last.end() :]) is None:
        return False
    return not _a_card_all_the_same(text, start, end, window[: last.start()], last.group(1))


def _a_card_all_the_same(text: str, start: int, end: int, before: str, label: str) -> bool:
    """Whether a number labelled as something else is a card whatever the label says: a card
    word or brand before the label, or a card's expiry or code after the number. A bank
    account's word yields to either (card statements call the card an account: "Credit card
    acct no."); any other label only for a number grouped as cards are printed, to a card word
    right before it (`_qualifies`) or an expiry or code named and given (red team 117: "my Visa
    card for the order: 4111 1111 1111 1111 exp 12/28", "Credit card ID: 4111 ..."; a date
    after an order's number is its date).
    A plain run of digits stays the order's or the booking's: a receipt prints its transaction
    number beside the card's brand, and one such number in thirty passes a card's checks."""
    if label.lower() in BANK_ACCOUNT:
        return _names_a_card(before) or _CARD_DETAILS.match(text, end, end + _AFTER) is not None
    if text[start:end].isdigit():
        return False
    return _qualifies(before) or _NAMED_DETAILS.match(text, end, end + _AFTER) is not None


# What may stand between a card word and the label it qualifies: blanks, a dash, a colon, a
# bracket, "number" (not a full stop or a line break: "Paid by Visa. Order number: ...")
_QUALIFIER_GAP = re.compile(
    rf"(?:[ \t\u00a0\-\u2010-\u2014:#()]|(?<![^\W\d_])(?:{_NUMBER_WORDS})(?![^\W\d_]))*",
    re.IGNORECASE,
)


def _qualifies(before: str) -> bool:
    """Whether the label after ``before`` is a card's own: a card word or brand stands right
    before it ("Credit card ID:", "Mastercard - member:", "Card number (customer):"), not
    "credit" or "debit" alone ("Credit note - Invoice no.": review 117)."""
    last = _last_keyword(before)
    if last is None:
        return False
    word = last.group(1).lower()
    gap = before[last.end() :]
    return word in POSITIVE - {"credit", "debit"} and _QUALIFIER_GAP.fullmatch(gap) is not None


# A card's own details right after its number: an expiry date or a security code (red team
# 108: "acct 4111... exp 12/27" is a card whoever calls it an account)
_AFTER = 40
_DETAIL_WORDS = (
    r"(?:exp(?:iry|ires|iration)?|valid(?: thru| through| until)?|cvv2?|cvc2?|vence|ablauf|"
    r"g(?:ü|ue)ltig)\b"
)
_CARD_DETAILS = re.compile(
    rf"\W{{0,6}}(?:{_DETAIL_WORDS}|(?:0[1-9]|1[0-2])\s?/\s?(?:\d{{2}}|20\d{{2}})\b)", re.IGNORECASE
)
# ... named, and given: a date alone after an order's number is the order's ("Order 4111 ...
# 12/28"), and so is a word alone ("expires in 30 days", "valid until 2026-03-01": review 117)
_NAMED_DETAILS = re.compile(
    rf"\W{{0,6}}{_DETAIL_WORDS}(?:\s*date)?\W{{0,3}}"
    r"(?:(?:0[1-9]|1[0-2])\s?/\s?(?:20\d{2}|\d{2})(?![/\d])|\d{3,4}(?![\w/-]|\.\d))",
    re.IGNORECASE,
)


def _names_a_card(window: str) -> bool:
    """Whether a card word or brand (`POSITIVE`) stands in ``window``."""
    return any(m.group(1).lower() in POSITIVE for m in _KEYWORD.finditer(window))


def label_before(text: str, start: int) -> tuple[str | None, bool, bool]:
    """The nearest keyword (`NEGATIVE`, `POSITIVE`), in lower case, in the few words before
    ``start`` (None when there is none); whether only filler stands between it and ``start``
    ("Card number: "); and whether a card word (`CARD_WORDS`) is among those words ("Credit
    card (Visa): ")."""
    window, last = _nearest_keyword(text, start)
    if last is None:
        return None, False, False
    carded = any(m.group(1).lower() in CARD_WORDS for m in _KEYWORD.finditer(window))
    keyword = last.group(1).lower()
    filler = _CARD_FILLER if keyword in POSITIVE else _FILLER
    return keyword, filler.fullmatch(window[last.end() :]) is not None, carded


# What stands between a card word and its number: filler, and a brand ("Credit card (Visa):")
_CARD_LABELS = "|".join(sorted(POSITIVE, key=len, reverse=True))
AFTER_CARD_WORD = re.compile(
    rf"(?:{_FILLER_MARKS}|(?<![^\W\d_])(?:{_CARD_FILLER_WORDS}|{_CARD_LABELS})(?![^\W\d_]))*",
    re.IGNORECASE,
)
# A card word in any case, standing alone as a word ("cc", not "account", nor the gene
# "CC2D2A"); its start is checked by `card_words` (a look-behind at every character cost 1.6 s
# on a 17-million-character table, three times the search without it)
_CARD_WORD = re.compile(
    "(?:" + "|".join(sorted(CARD_WORDS, key=len, reverse=True)) + r")(?![^\W_])", re.IGNORECASE
)


def card_words(text: str) -> Iterator[re.Match[str]]:
    """The card words of ``text`` that stand alone: no letter or digit on either side."""
    for match in _CARD_WORD.finditer(text):
        start = match.start()
        if not start or not text[start - 1].isalnum():
            yield match


def _nearest_keyword(text: str, start: int) -> tuple[str, re.Match[str] | None]:
    """The window of text searched before ``start`` (digits read as the letters OCR takes
    them for), and the last keyword in it."""
    window = _LETTERLIKE.sub(_as_letter, text[max(0, start - _BEFORE) : start])
    return window, _last_keyword(window)


def _last_keyword(window: str) -> re.Match[str] | None:
    """The last keyword (`NEGATIVE`, `POSITIVE`) in ``window``: the nearest to what follows."""
    last = None
    for last in _KEYWORD.finditer(window):  # noqa: B007
        pass
    return last
