"""InvenioRDM's record ids, held to base32-lib (the library invenio-pidstore mints them with)."""

from __future__ import annotations

import pytest

from archiver import rdm_ids

# base32-lib's own vectors (tests/test_base32.py): encode(1234, checksum=True) is "16j82"; invenio-pidstore
# pads it to ten characters and splits it after five.
VECTORS = {1234: "00000-16j82", 0: "00000-00098", 32**8 - 1: "zzzzz-zzz90"}


@pytest.mark.parametrize(("number", "text"), VECTORS.items())
def test_numbers_encode_as_base32_lib_writes_them_and_back(number, text):
    assert rdm_ids.encode(number) == text and rdm_ids.value_of(text) == number and rdm_ids.is_record_id(text)


def test_every_check_digit_pair_but_the_right_one_is_refused():
    body = "q5jr8-hny"
    right = [f"{body}{n:02d}" for n in range(100) if rdm_ids.is_record_id(f"{body}{n:02d}")]
    assert right == ["q5jr8-hny72"]


@pytest.mark.parametrize("text", ["Q5JR8-HNY72", "q5jr8hny72", "q5jr8-hny7", "q5jr8-hny720", "i5jr8-hny72", "q5jr8-hny7x",
                                  " q5jr8-hny72", "q5jr8-hny72\n", "123456", "", 12345, None])
def test_other_forms_are_no_ids(text):
    assert rdm_ids.is_record_id(text) is False


def test_the_checksum_is_iso_7064_mod_97_10_as_base32_lib_computes_it():
    assert [rdm_ids.checksum(n) for n in (0, 1, 1234, 97)] == [98, 98 - 100 % 97, 97 - (123400 % 97) + 1, 98]


def test_numbers_outside_eight_characters_are_refused():
    with pytest.raises(ValueError):
        rdm_ids.encode(32**8)
    with pytest.raises(ValueError):
        rdm_ids.encode(-1)
