"""InvenioRDM's record and parent ids (``q5jr8-hny72``): their form, their check digits, and the id of a number.

InvenioRDM mints them with base32-lib's ``generate(length=10, split_every=5, checksum=True)``
(invenio-pidstore's RecordIdProviderV2): a random number in eight lower-case Crockford base32
characters, then two decimal digits of its ISO 7064 mod 97-10 checksum, split after five characters.
Zenodo keeps numbers instead; an id of either kind is what a manifest may record.
"""

from __future__ import annotations

import re

CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"  # no i, l, o or u
PATTERN = r"^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{3}[0-9]{2}$"
_FORM = re.compile(PATTERN)


def has_id_form(text: str) -> bool:
    """True when ``text`` has the form of an id (the schema's pattern), whatever its check digits."""
    return _FORM.fullmatch(text) is not None


def checksum(number: int) -> int:
    """base32-lib's check digits of ``number`` (2 to 98)."""
    return 97 - ((100 * number) % 97) + 1


def is_record_id(text: object) -> bool:
    """True when ``text`` is an id InvenioRDM mints: its form and its check digits."""
    if not isinstance(text, str) or not has_id_form(text):
        return False
    body = text.replace("-", "")
    return int(body[-2:]) == checksum(_value(body[:-2]))


def encode(number: int) -> str:
    """The id of ``number`` (below 2**40), as InvenioRDM writes it."""
    if not 0 <= number < 32**8:
        raise ValueError(f"{number} does not fit in eight base32 characters")
    chars = ""
    for _ in range(8):
        number, remainder = divmod(number, 32)
        chars = CROCKFORD[remainder] + chars
    body = chars + f"{checksum(_value(chars)):02d}"
    return f"{body[:5]}-{body[5:]}"


def value_of(text: str) -> int:
    """The number an id encodes (its check digits left aside)."""
    return _value(text.replace("-", "")[:-2])


def _value(chars: str) -> int:
    number = 0
    for char in chars:
        number = number * 32 + CROCKFORD.index(char)
    return number

