"""International bank account numbers (IBAN, ISO 13616) in text.

An IBAN is a country code, two check digits and a national account number of the length that
country registers (`LENGTHS`), written plain or in groups of four separated by single spaces,
not inside a longer word; its mod-97 check must give 1. Letters may be in either case (people
type them so). One random string in 97 passes the check, and the length must also be right, so
no context is needed.
"""

from __future__ import annotations

import re

from attachguard.sensitive import Hit, fingerprint

# The SWIFT IBAN registry: country → IBAN length.
LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip

# Country, check digits, then groups of letters and digits (plain, or by fours with spaces).
_IBAN = re.compile(
    r"(?<![0-9A-Za-z])([A-Za-z]{2})([0-9]{2})((?: ?[0-9A-Za-z]{1,4}){3,8})(?![0-9A-Za-z])"
)


def mod97(iban: str) -> bool:
    """Whether ``iban`` (no spaces) passes ISO 13616's check: moved and read as a number, its
    remainder by 97 is 1."""
    moved = iban[4:] + iban[:4]
    number = "".join(str(int(c, 36)) for c in moved)
    return int(number) % 97 == 1


def find(text: str) -> list[Hit]:
    """The IBANs in ``text``."""
    hits = []
    for match in _IBAN.finditer(text):
        country = match.group(1).upper()
        body = _body(match.group(3), LENGTHS.get(country, 0) - 4)
        if body is None:
            continue
        compact = (country + match.group(2) + body).upper()
        if mod97(compact):
            hits.append(Hit("iban", country, compact[-4:], fingerprint(compact), match.start()))
    return hits


def _body(found: str, length: int) -> str | None:
    """The account part, ``length`` characters: plain, or groups of four after a space with a
    shorter last one (as banks print them); what follows in another group is the next word."""
    if not found.startswith(" "):
        plain = found.split(" ", 1)[0]
        return plain if len(plain) == length else None
    taken = ""
    for group in found[1:].split(" "):
        after = len(taken) + len(group)
        if after > length or (len(group) != 4 and after < length):
            return None
        taken += group
        if len(taken) == length:
            return taken
    return None
